"""Tool semantics the annotations and schemas promise (in-process, real client, sandbox):
update's keep/remove/set of a cap, revoke's idempotence, the hourly cap under concurrency,
true annotations on all twelve tools, and descriptions that never say how to lift a guard."""

from __future__ import annotations

import json

import anyio
import mcp_types as types

from tests.mcp.conftest import Operator, open_client
from tests.mcp.helpers import ALL_TOOLS, ok, refused, text_of
from tests.mcp.test_read_only import EXPECTED_HINTS

MINT = {"description": "k", "usd_limit": 10, "expires_at": "5d"}
OFF_SWITCH_HINTS = ("VENICE_MCP", "--allow", "--policy", "own_keys_only", ".toml", ".json")


async def test_update_tells_omitted_from_null(operator: Operator) -> None:
    operator.flags.append("--allow-writes")
    async with open_client("inproc", operator) as run:
        c = run.client
        tools = {t.name: t for t in (await c.list_tools()).tools}
        props = tools["venice_update_key"].input_schema["properties"]
        assert "default" not in props["usd_limit"] and "default" not in props["diem_limit"]
        kid = ok(await c.call_tool("venice_mint_key", MINT))["id"]

        kept = ok(await c.call_tool("venice_update_key", {"key_id": kid, "diem_limit": 3}))
        assert kept["consumption_limits"] == {"usd": 10, "diem": 3}  # usd left out: kept
        removed = ok(await c.call_tool("venice_update_key", {"key_id": kid, "usd_limit": None}))
        assert removed["consumption_limits"]["usd"] is None  # null: removed (diem still caps)
        assert removed["consumption_limits"]["diem"] == 3
        nothing = await c.call_tool("venice_update_key", {"key_id": kid})
        assert nothing.is_error and "nothing to update" in text_of(nothing)
    audited = [e["arguments"] for e in operator.audit_lines() if e["tool"] == "venice_update_key"]
    assert audited[:2] == [{"key_id": kid, "diem_limit": 3}, {"key_id": kid, "usd_limit": None}]


async def test_revoke_is_idempotent(operator: Operator) -> None:
    operator.flags.append("--allow-writes")
    async with open_client("inproc", operator) as run:
        c = run.client
        kid = ok(await c.call_tool("venice_mint_key", MINT))["id"]
        first = ok(await c.call_tool("venice_revoke_key", {"key_id": kid}))
        again = ok(await c.call_tool("venice_revoke_key", {"key_id": kid}))
        assert first == {"revoked_key_id": kid, "revoked": True}
        assert again == {"revoked_key_id": kid, "revoked": False}
        # a key that never existed: nothing to own, nothing changed
        ghost = "00000000-0000-4000-8000-000000000000"
        assert ok(await c.call_tool("venice_revoke_key", {"key_id": ghost}))["revoked"] is False
        # rotate is not idempotent: the second call has no key to replace
        assert (await c.call_tool("venice_rotate_key", {"key_id": kid})).is_error
    outcomes = [(e["tool"], e["outcome"]) for e in operator.audit_lines()]
    assert outcomes.count(("venice_revoke_key", "ok")) == 3


async def test_hourly_cap_holds_under_concurrent_calls(operator: Operator) -> None:
    operator.flags.append("--allow-writes")
    operator.policy({"max_keys_per_hour": 2})
    results: list[types.CallToolResult] = []
    async with open_client("inproc", operator) as run:

        async def mint(i: int) -> None:
            results.append(
                await run.client.call_tool("venice_mint_key", {**MINT, "description": f"c{i}"})
            )

        async with anyio.create_task_group() as tg:
            for i in range(5):
                tg.start_soon(mint, i)
    made = [r for r in results if not r.is_error]
    assert len(made) == 2
    for r in results:
        if r.is_error:
            refused(r, "keys_per_hour")
    assert sum(1 for e in operator.audit_lines() if e.get("made_key")) == 2


async def test_annotations_and_descriptions(operator: Operator) -> None:
    operator.flags.append("--allow-writes")
    async with open_client("inproc", operator) as run:
        tools = {t.name: t for t in (await run.client.list_tools()).tools}
        instructions = run.client.instructions or ""
    assert set(tools) == ALL_TOOLS
    for name, tool in tools.items():
        a = tool.annotations
        assert a is not None and a.title
        hints = (a.read_only_hint, a.destructive_hint, a.idempotent_hint, a.open_world_hint)
        assert hints == EXPECTED_HINTS[name], name
        text = tool.description or ""
        assert "Free" in text or "costs" in text or "spend" in text, name  # what it costs
        for hint in OFF_SWITCH_HINTS:
            assert hint not in text, (name, hint)
            assert hint not in instructions, hint
    assert "key types" in tools["venice_mint_key"].description  # type: ignore[operator]
    # Written for a model choosing tools: when to use which, where the secret went, and the
    # failures it must handle (no sVVV, rate limited, refused by policy -> ask the operator).
    desc = {name: tool.description or "" for name, tool in tools.items()}
    assert "venice_create_key" in desc["venice_mint_key"]
    assert "venice_mint_key" in desc["venice_create_key"]
    assert "venice_rotate_key" in desc["venice_create_key"]
    assert "create + revoke" in desc["venice_rotate_key"]
    assert "venice_rotate_key" in desc["venice_revoke_key"]
    assert "not rotate" in desc["venice_update_key"]
    for name in ("venice_mint_key", "venice_create_key", "venice_rotate_key"):
        assert "secret_file" in desc[name] and "NOT in the result" in desc[name], name
        assert "hourly cap" in desc[name], name
    assert "NoStakedVVVError" in desc["venice_mint_key"]
    assert "RateLimitError" in desc["venice_mint_key"]
    for name in (
        "venice_mint_key",
        "venice_create_key",
        "venice_update_key",
        "venice_revoke_key",
        "venice_rotate_key",
    ):
        assert "Refused by operator policy" in desc[name] and "operator" in desc[name], name
    assert "venice_billing_balance" in desc["venice_rate_limits"]
    assert "access_permitted" in desc["venice_rate_limits"]
    assert "key types" not in (tools["venice_revoke_key"].description or "")
    assert json.dumps(tools["venice_create_key"].input_schema["required"]) == '["description"]'
