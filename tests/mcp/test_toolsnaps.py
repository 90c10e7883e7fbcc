"""Every tool's name, title, description, input schema, output schema and annotations, as a
model sees them, against the snapshots in __toolsnaps__/: descriptions are the interface an LLM
reads, so a change to one is a reviewed diff. Refresh after an intended change with
`./dev toolsnaps` (or UPDATE_TOOLSNAPS=1 on this test), then review `git diff`.

The snapshots are taken with writes allowed, the built-in policy and secrets not revealed.
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path
from typing import Any

from mcp import Client

from venice_web3_keys.mcp.catalog import ALL_TOOLS
from venice_web3_keys.mcp.config import load_config
from venice_web3_keys.mcp.server import build_server

SNAPSHOTS = Path(__file__).parent / "__toolsnaps__"
UPDATE = os.environ.get("UPDATE_TOOLSNAPS", "").lower() in ("1", "true")
FIELDS = ("name", "title", "description", "inputSchema", "outputSchema", "annotations")


def snapshot_text(tool: Any) -> str:
    wire = tool.model_dump(mode="json", by_alias=True, exclude_none=True)
    return json.dumps({k: wire[k] for k in FIELDS if k in wire}, indent=2, sort_keys=True) + "\n"


async def test_every_tool_matches_its_snapshot(tmp_path: Path) -> None:
    config = load_config(["--allow-writes"], {"HOME": str(tmp_path)})
    async with Client(build_server(config)) as client:
        tools = (await client.list_tools()).tools
    assert [t.name for t in tools] == list(ALL_TOOLS)

    problems: list[str] = []
    for tool in tools:
        path = SNAPSHOTS / f"{tool.name}.snap"
        text = snapshot_text(tool)
        if UPDATE:
            path.parent.mkdir(exist_ok=True)
            path.write_text(text)
            continue
        if not path.exists():
            problems.append(f"{path.name}: no snapshot (run ./dev toolsnaps)")
            continue
        committed = path.read_text()
        if committed != text:
            diff = difflib.unified_diff(
                committed.splitlines(), text.splitlines(), path.name, "now", lineterm=""
            )
            problems.append("\n".join(diff))
    stale = sorted({p.stem for p in SNAPSHOTS.glob("*.snap")} - set(ALL_TOOLS))
    if UPDATE:
        for name in stale:
            (SNAPSHOTS / f"{name}.snap").unlink()
    elif stale:
        problems.append(f"snapshots of tools that no longer exist: {stale}")
    assert not problems, (
        "tool metadata changed; if intended run ./dev toolsnaps and review the diff:\n"
        + "\n\n".join(problems)
    )
