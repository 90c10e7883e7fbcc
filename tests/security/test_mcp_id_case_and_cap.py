"""Attacks on the MCP server's per-key lock, its secret files and the shared hourly cap, with the
real `mcp.Client` against the sandbox (and a real redis-server for the shared cap):

- case games: a key id is a UUID, and the tools accept it in upper case too; the per-key lock was
  keyed by the text the agent sent, so `venice_update_key` on `ABC…` and on `abc…` ran side by
  side on stale reads and together left the key with no cap (the race issue 8 closed, reopened
  by spelling); rotating by an upper-case id left the old key's secret file behind;
- the old key's `<id>.key` replaced by a symlink to another file: never followed (held);
- a flood of concurrent key-making calls on two servers sharing one Redis cap (held).
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest

from tests.mcp.conftest import Operator, new_account, open_client, shared_cap_operators
from tests.mcp.helpers import ok, refused
from venice_web3_keys.sandbox.emulator.faults import Fault

MINT = {"description": "cased", "usd_limit": 10, "diem_limit": 3, "expires_at": "7d"}


@pytest.fixture
def operator(tmp_path: Path, venice_sandbox: Any) -> Operator:
    op = Operator(home=tmp_path, account=new_account(venice_sandbox))
    op.flags = ["--allow-writes"]
    return op


async def test_an_upper_case_id_cannot_slip_past_the_per_key_lock(
        operator: Operator, venice_sandbox: Any) -> None:
    async with open_client("inproc", operator) as run:
        c = run.client
        kid = ok(await c.call_tool("venice_mint_key", MINT))["id"]
        venice_sandbox.emulator.faults.add("PATCH /api_keys", Fault.slow(0.5), times=2)
        results: list[types.CallToolResult] = []

        async def remove(key_id: str, cap: str) -> None:
            results.append(await c.call_tool("venice_update_key", {"key_id": key_id, cap: None}))

        async with anyio.create_task_group() as tg:
            tg.start_soon(remove, kid, "usd_limit")
            tg.start_soon(remove, kid.upper(), "diem_limit")
        limits = ok(await c.call_tool("venice_get_key", {"key_id": kid}))["consumption_limits"]
    assert limits["usd"] is not None or limits["diem"] is not None, limits
    assert sorted(r.is_error for r in results) == [False, True]
    refused(next(r for r in results if r.is_error), "spend_limit_required")


async def test_rotating_by_an_upper_case_id_still_removes_the_old_secret_file(
        operator: Operator) -> None:
    async with open_client("inproc", operator) as run:
        c = run.client
        kid = ok(await c.call_tool("venice_mint_key", MINT))["id"]
        old_file = operator.secrets_dir / f"{kid}.key"
        assert old_file.is_file()
        rotated = ok(await c.call_tool("venice_rotate_key", {"key_id": kid.upper()}))
    assert rotated["revoked_key_id"] == kid
    assert not old_file.exists()
    assert rotated["removed_secret_file"] == str(old_file)
    assert (operator.secrets_dir / f"{rotated['new_key']['id']}.key").is_file()


async def test_a_symlink_in_place_of_the_old_secret_file_is_not_followed(
        operator: Operator, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    async with open_client("inproc", operator) as run:
        c = run.client
        kid = ok(await c.call_tool("venice_mint_key", MINT))["id"]
        old_file = operator.secrets_dir / f"{kid}.key"
        old_file.unlink()
        old_file.symlink_to(victim)
        rotated = ok(await c.call_tool("venice_rotate_key", {"key_id": kid}))
    assert rotated["removed_secret_file"] is None
    assert victim.read_text() == "keep me\n" and old_file.is_symlink()


async def test_a_flood_of_concurrent_mints_on_two_servers_cannot_pass_the_shared_cap(
        venice_sandbox: Any, redis_server: Any, tmp_path: Path) -> None:
    cap, calls = 3, 10
    account = new_account(venice_sandbox)
    operators = shared_cap_operators(tmp_path, account, redis_server.url(9), cap,
                                     "flood-a", "flood-b")
    results: list[types.CallToolResult] = []
    async with AsyncExitStack() as stack:
        clients = [(await stack.enter_async_context(open_client("inproc", op))).client
                   for op in operators]

        async def mint(n: int) -> None:
            results.append(await clients[n % 2].call_tool(
                "venice_mint_key", {**MINT, "description": f"flood-{n}"}))

        async with anyio.create_task_group() as tg:
            for n in range(calls):
                tg.start_soon(mint, n)
    made = [ok(r)["id"] for r in results if not r.is_error]
    assert len(made) == cap, [r.is_error for r in results]
    for result in results:
        if result.is_error:
            refused(result, "keys_per_hour")
    from venice_web3_keys import VeniceKeys

    with VeniceKeys(account.settings) as vk:
        flood = [k for k in vk.list_keys() if "flood-" in k.description]
    assert len(flood) == cap


async def test_an_unreachable_shared_cap_refuses_to_mint_and_never_shows_its_password(
        venice_sandbox: Any, tmp_path: Path) -> None:
    import socket

    from tests.mcp.helpers import text_of

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    op = Operator(home=tmp_path, account=new_account(venice_sandbox),
                  extra_env={"VENICE_BUDGET_URL": f"redis://:p@Hunter2-s3cret@127.0.0.1:{port}/0"})
    op.flags = ["--allow-writes"]
    op.policy({"max_keys_per_hour": 5})
    before = len(venice_sandbox.emulator.requests())
    async with open_client("inproc", op) as run:
        result = await run.client.call_tool("venice_mint_key", MINT)
    text = text_of(result)
    assert result.is_error and "budget" in text.lower(), text
    assert "s3cret" not in text and "Hunter2" not in text
    assert "s3cret" not in op.audit_path.read_text()
    posts = [r for r in venice_sandbox.emulator.requests()[before:] if r.method == "POST"]
    assert posts == []
    assert not op.secrets_dir.exists() or not any(
        p.name.endswith(".key") and p.stat().st_size for p in op.secrets_dir.iterdir())
