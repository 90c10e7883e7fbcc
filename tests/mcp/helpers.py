"""Small helpers shared by the MCP tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from mcp_types import CallToolResult

from venice_web3_keys.mcp import catalog
from venice_web3_keys.settings import load_settings

READ_TOOLS = set(catalog.READ_TOOLS)
WRITE_TOOLS = set(catalog.WRITE_TOOLS)
ALL_TOOLS = READ_TOOLS | WRITE_TOOLS


def text_of(result: CallToolResult) -> str:
    """Everything the agent sees from a result (text blocks and structured content)."""
    parts = [getattr(block, "text", "") for block in result.content]
    if result.structured_content is not None:
        parts.append(json.dumps(result.structured_content))
    return "\n".join(parts)


def ok(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, text_of(result)
    content = result.structured_content
    assert isinstance(content, dict)
    return content


def refused(result: CallToolResult, rule: str) -> str:
    """Assert a policy refusal naming `rule` and the operator, and return its text."""
    text = text_of(result)
    assert result.is_error, text
    assert f"rule: {rule}" in text, text
    assert "operator" in text
    # It never explains how to switch the guard off.
    for hint in (
        "VENICE_MCP",
        "--allow",
        "--policy",
        "policy file",
        "environment",
        ".json",
        ".toml",
    ):
        assert hint not in text, (hint, text)
    return text


def in_days(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


async def outside_key(env: dict[str, str], description: str = "made elsewhere") -> str:
    """A key made directly with the admin key (not by the MCP server); returns its id."""
    from venice_web3_keys.api import AsyncVeniceKeys

    async with AsyncVeniceKeys(load_settings(environ=env)) as vk:
        new = await vk.create_key(
            api_key_type="INFERENCE", description=description, usd_limit=5, expires_at="7d"
        )
        return new.id
