"""The keys-per-hour cap shared through Redis (VENICE_BUDGET_URL): servers that share no audit
log (other hosts, say) still share one cap per account, counted in a real redis-server."""

from __future__ import annotations

import re
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from tests.harness import SandboxAccount
from tests.mcp.conftest import Operator, open_client, shared_cap_operators
from tests.mcp.helpers import ok, refused

CAP = 2
CREATE = {"usd_limit": 5, "expires_at": "2d"}


async def test_servers_on_separate_audit_logs_share_the_cap_through_redis(
        account: SandboxAccount, redis_server: Any, tmp_path: Path) -> None:
    operators = shared_cap_operators(tmp_path, account, redis_server.url(7), CAP,
                                     "host-a", "host-b")
    results = []
    async with AsyncExitStack() as stack:
        clients = [(await stack.enter_async_context(open_client("inproc", op))).client
                   for op in operators]
        for n, client in enumerate([clients[0], clients[1], clients[0], clients[1]]):
            args = {**CREATE, "description": f"shared-{n}"}
            results.append(await client.call_tool("venice_create_key", args))
    made = [ok(r)["id"] for r in results[:CAP]]
    assert len(set(made)) == CAP  # one per host: each audit log alone counts only 1 key
    for result in results[CAP:]:
        text = refused(result, "keys_per_hour")
        assert "by the MCP servers sharing redis://127.0.0.1" in text
        assert re.search(r"The next key is allowed at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ "
                         r"\(in about (59|60) min\)", text), text
    for op in operators:
        assert not (op.home / "audit.jsonl.lock").exists()  # the shared count, not the flock
        assert [e["rule"] for e in op.audit_lines() if e["outcome"] == "refused"] == [
            "keys_per_hour"]


async def test_without_a_shared_budget_the_audit_log_lock_stays(operator: Operator) -> None:
    operator.flags.append("--allow-writes")
    async with open_client("inproc", operator) as running:
        ok(await running.client.call_tool("venice_create_key",
                                          {**CREATE, "description": "local"}))
    assert (operator.home / "audit.jsonl.lock").exists()
