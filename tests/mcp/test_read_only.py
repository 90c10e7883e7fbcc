"""Read-only default and the allow-list, on every transport (in-process, stdio, Streamable HTTP)."""

from __future__ import annotations

import pytest

from tests.mcp.conftest import Operator, open_client
from tests.mcp.helpers import READ_TOOLS, WRITE_TOOLS, ok, outside_key, refused

TRANSPORTS = ["inproc", "stdio", "http"]

EXPECTED_HINTS = {  # name: (readOnly, destructive, idempotent, openWorld)
    "venice_wallet_status": (True, False, True, True),
    "venice_list_keys": (True, False, True, True),
    "venice_get_key": (True, False, True, True),
    "venice_rate_limits": (True, False, True, True),
    "venice_rate_limit_log": (True, False, True, True),
    "venice_billing_balance": (True, False, True, True),
    "venice_mint_key": (False, False, False, True),
    "venice_create_key": (False, False, False, True),
    "venice_update_key": (False, True, False, True),
    "venice_revoke_key": (False, True, True, True),
    "venice_rotate_key": (False, True, False, True),
    "venice_stake_vvv": (False, True, False, True),
}


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_read_only_by_default_every_read_tool_works(
    transport: str, operator: Operator
) -> None:
    foreign = await outside_key(operator.account.env)
    async with open_client(transport, operator) as run:
        c = run.client
        tools = {t.name: t for t in (await c.list_tools()).tools}
        assert set(tools) == READ_TOOLS  # write tools are not even registered
        for name, tool in tools.items():
            a = tool.annotations
            assert a is not None
            hints = (a.read_only_hint, a.destructive_hint, a.idempotent_hint, a.open_world_hint)
            assert hints == EXPECTED_HINTS[name]
            assert tool.output_schema is not None and tool.description

        status = ok(await c.call_tool("venice_wallet_status", {}))
        assert status["address"] == operator.account.address
        assert status["eligible"] is True and status["chain_id"] == 8453
        assert float(status["balances"]["sVVV"]) > 0
        other = ok(await c.call_tool("venice_wallet_status", {"address": "0x" + "11" * 20}))
        assert other["eligible"] is False

        listed = ok(await c.call_tool("venice_list_keys", {}))
        by_id = {k["id"]: k for k in listed["keys"]}
        assert by_id[foreign]["made_by_this_server"] is False
        got = ok(await c.call_tool("venice_get_key", {"key_id": foreign}))
        assert got["id"] == foreign and got["consumption_limits"]["usd"] == 5
        assert ok(await c.call_tool("venice_rate_limits", {}))["access_permitted"] is True
        assert isinstance(ok(await c.call_tool("venice_rate_limit_log", {}))["entries"], list)
        assert ok(await c.call_tool("venice_billing_balance", {}))["can_consume"] is True

        bad = await c.call_tool("venice_get_key", {"key_id": "not-a-uuid"})
        assert bad.is_error  # the schema's UUID pattern

        for name in sorted(WRITE_TOOLS):
            refused(await c.call_tool(name, {"key_id": foreign}), "read_only")

        # the foreign key is untouched
        assert ok(await c.call_tool("venice_get_key", {"key_id": foreign}))["id"] == foreign
    audit = operator.audit_lines()
    assert sorted(e["tool"] for e in audit) == sorted(WRITE_TOOLS)
    assert {(e["outcome"], e.get("rule")) for e in audit} == {("refused", "read_only")}


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_allow_list_and_read_only_beats_it(transport: str, operator: Operator) -> None:
    operator.policy({"tools": ["venice_list_keys", "venice_mint_key", "venice_revoke_key"]})
    async with open_client(transport, operator) as run:
        names = {t.name for t in (await run.client.list_tools()).tools}
        assert names == {"venice_list_keys"}  # mint/revoke listed, but writes are off
        refused(await run.client.call_tool("venice_billing_balance", {}), "tool_allow_list")
        refused(await run.client.call_tool("venice_mint_key", {}), "read_only")

    operator.flags.append("--allow-writes")
    async with open_client(transport, operator) as run:
        names = {t.name for t in (await run.client.list_tools()).tools}
        assert names == {"venice_list_keys", "venice_mint_key", "venice_revoke_key"}
        refused(
            await run.client.call_tool(
                "venice_create_key", {"api_key_type": "INFERENCE", "description": "x"}
            ),
            "tool_allow_list",
        )
        refused(
            await run.client.call_tool("venice_get_key", {"key_id": "0" * 8}), "tool_allow_list"
        )
