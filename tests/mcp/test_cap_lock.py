"""The keys-per-hour cap holds across servers that share one audit log.

Each server serialises its own key-making calls; servers in *other processes* (two stdio
servers an MCP client launched, say) are serialised by an exclusive flock on `<audit log>.lock`
held around "count, make the key, append the line". The sandbox makes every mint slow, so that
without that lock two servers would both count the same lines and both pass the cap.
"""

from __future__ import annotations

import time
from contextlib import AsyncExitStack
from pathlib import Path

import anyio
import mcp_types as types
import pytest

from tests.mcp.conftest import Operator, open_client
from tests.mcp.helpers import ok, refused
from venice_web3_keys.errors import AuditLockError
from venice_web3_keys.mcp.audit import AuditLog

CAP = 3
MINT = {"usd_limit": 5, "expires_at": "2d"}


@pytest.mark.parametrize("transport", ["inproc", "stdio"])
async def test_two_servers_sharing_an_audit_log_cannot_pass_the_cap_together(
    transport: str, operator: Operator, venice_sandbox: object
) -> None:
    from venice_web3_keys.sandbox.emulator.faults import Fault

    operator.flags.append("--allow-writes")
    operator.policy({"max_keys_per_hour": CAP})
    # Every mint takes >= 0.4 s, so the two servers' calls overlap between count and append.
    # Without the shared lock both servers count 0, then 2 (< 3): four keys, one too many.
    venice_sandbox.emulator.faults.add(  # type: ignore[attr-defined]
        "POST /api_keys/generate_web3_key", Fault.slow(0.4), times=2 * 2
    )
    results: list[tuple[int, types.CallToolResult]] = []
    async with AsyncExitStack() as stack:
        clients = [
            (await stack.enter_async_context(open_client(transport, operator))).client
            for _ in range(2)
        ]

        async def mint(server: int, i: int) -> None:
            args = {**MINT, "description": f"s{server}-{i}"}
            results.append((server, await clients[server].call_tool("venice_mint_key", args)))

        async with anyio.create_task_group() as tg:
            for i in range(2):
                for server in range(2):
                    tg.start_soon(mint, server, i)

    made = [(s, ok(r)["id"]) for s, r in results if not r.is_error]
    assert len(made) == CAP, [r for _, r in results]
    assert {s for s, _ in made} == {0, 1}  # both servers made keys: they really shared the cap
    for _, r in results:
        if r.is_error:
            refused(r, "keys_per_hour")
    lines = operator.audit_lines()
    assert {e["new_key_id"] for e in lines if e.get("made_key")} == {kid for _, kid in made}
    assert [e["rule"] for e in lines if e["outcome"] == "refused"] == ["keys_per_hour"]
    assert (operator.audit_path.parent / "audit.jsonl.lock").exists()


async def test_the_lock_excludes_other_holders_and_is_released(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "audit.jsonl"
    first, second = AuditLog(path), AuditLog(path)
    second.lock_timeout = 0.2
    async with first.exclusive():
        began = time.monotonic()
        with pytest.raises(AuditLockError, match="try again later"):
            async with second.exclusive():
                pytest.fail("two holders at once")
        assert time.monotonic() - began >= 0.2
    async with second.exclusive():  # released on exit
        pass
    with pytest.raises(RuntimeError):  # released when the body fails, too
        async with first.exclusive():
            raise RuntimeError("boom")
    async with second.exclusive():
        pass
    assert (tmp_path / "logs" / "audit.jsonl.lock").stat().st_mode & 0o777 == 0o600
