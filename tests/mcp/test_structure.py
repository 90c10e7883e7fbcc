"""How the MCP layer is built: one catalog names the tools, the SDK is used through its public
modules only, and every result field is snake_case."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from mcp import Client

from venice_web3_keys.mcp import catalog
from venice_web3_keys.mcp.config import load_config
from venice_web3_keys.mcp.server import build_server

PACKAGE = Path(catalog.__file__).resolve().parents[1]
MCP_LAYER = PACKAGE / "mcp"
PUBLIC_SDK_MODULES = {
    "mcp",
    "mcp.types",
    "mcp.server.mcpserver",
    "mcp.server.mcpserver.exceptions",
    "mcp.server.transport_security",
}
SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def test_no_tool_name_is_spelled_outside_the_catalog() -> None:
    catalog_file = Path(catalog.__file__).resolve()
    spelled: list[str] = []
    for path in PACKAGE.rglob("*.py"):
        if path.resolve() == catalog_file:
            continue
        text = path.read_text()
        spelled += [f"{path.relative_to(PACKAGE)}: {n}" for n in catalog.ALL_TOOLS if n in text]
    assert spelled == []


def test_catalog_derives_the_tool_sets() -> None:
    specs = catalog.CATALOG
    assert len({s.name for s in specs}) == len(specs)
    assert set(catalog.READ_TOOLS) | set(catalog.WRITE_TOOLS) == set(catalog.ALL_TOOLS)
    assert all(s.annotations.read_only_hint == (s.name in catalog.READ_TOOLS) for s in specs)
    assert set(catalog.WRITE_TOOLS) >= catalog.KEY_MAKING_TOOLS
    assert set(catalog.WRITE_TOOLS) >= catalog.CONFIRMED_BY_DEFAULT
    for spec in specs:  # a read-only tool neither destroys nor makes anything
        if spec.read_only:
            assert not (spec.destructive or spec.makes_key or spec.confirm), spec.name


def sdk_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
    return [m for m in found if m.split(".")[0] in ("mcp", "mcp_types")]


def test_sdk_is_used_through_public_modules_only() -> None:
    private_use = re.compile(r"\._(tool_manager|lowlevel_server|resource_manager|prompt_manager"
                             r"|mcp_server|request_context|input_params)\b")
    for path in MCP_LAYER.rglob("*.py"):
        for module in sdk_imports(path):
            assert module in PUBLIC_SDK_MODULES, (path.name, module)
        assert not private_use.search(path.read_text()), path.name


def property_names(schema: Any) -> list[str]:
    names: list[str] = []
    if isinstance(schema, dict):
        props = schema.get("properties")
        if isinstance(props, dict):
            names += list(props)
        for value in schema.values():
            names += property_names(value)
    elif isinstance(schema, list):
        for value in schema:
            names += property_names(value)
    return names


async def test_results_and_arguments_are_snake_case(tmp_path: Path) -> None:
    config = load_config(["--allow-writes"], {"HOME": str(tmp_path)})
    async with Client(build_server(config)) as client:
        tools = (await client.list_tools()).tools
    for tool in tools:
        names = property_names(tool.output_schema) + property_names(tool.input_schema)
        assert [n for n in names if not SNAKE.match(n)] == [], tool.name
