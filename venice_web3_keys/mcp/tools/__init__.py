"""The tool bodies, grouped by what they do; each group registers its own tools."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from venice_web3_keys.mcp.registry import ToolRegistry
from venice_web3_keys.mcp.tools import changing, making, reading, staking

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from venice_web3_keys.mcp.runtime import ToolRuntime

GROUPS = (reading, making, changing, staking)


def register_tools(server: MCPServer[Any], runtime: ToolRuntime) -> list[str]:
    """Register every tool the operator allows; returns their names in catalog order."""
    registry = ToolRegistry(server, runtime)
    for group in GROUPS:
        group.register(registry)
    return registry.names
