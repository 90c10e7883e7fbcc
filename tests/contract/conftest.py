"""The public contract, face by face (library, CLI, MCP server, settings), as README.md,
docs/MCP.md and docs/ARCHITECTURE.md document it.

Each test module spells its part of the contract out in tables: if a name, option, choice,
JSON shape, exit code, setting, tool or argument drifts, a row fails. One shared sandbox (the
package's pytest plugin) serves every test; the CLI runs in-process through its console-script
function `main()` except where the entry point itself is under test.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"
PY = sys.executable
#: a wallet address that holds nothing on the sandbox chain
ADDR_A = "0x1111111111111111111111111111111111111111"


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, Any]]:
    """Every Venice API request the process sends: (method, path, decoded JSON body or None)."""
    sent: list[tuple[str, str, Any]] = []
    original = httpx.AsyncClient.send

    async def send(self: httpx.AsyncClient, request: httpx.Request, *args: Any,
                   **kwargs: Any) -> httpx.Response:
        if "/api/v1/" in request.url.path:
            body = json.loads(request.content) if request.content else None
            sent.append((request.method, request.url.path.split("/api/v1", 1)[1], body))
        return await original(self, request, *args, **kwargs)

    monkeypatch.setattr(httpx.AsyncClient, "send", send)
    return sent
