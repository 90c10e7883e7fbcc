"""What an agent and the operator's log see of the wallet: plain amounts, no RPC provider key."""

from __future__ import annotations

import pytest

from tests.mcp.conftest import Operator, open_client

PROVIDER_KEY = "PROVIDERKEYCANARY0123456789"


@pytest.mark.parametrize("transport", ["inproc", "stdio"])
async def test_wallet_status_amounts_are_plain_and_rpc_key_stays_out_of_logs(
        transport: str, operator: Operator) -> None:
    rpc = operator.account.env["BASE_RPC_URL"]
    operator.extra_env["BASE_RPC_URL"] = f"{rpc}/?apikey={PROVIDER_KEY}"  # anvil ignores it
    async with open_client(transport, operator) as running:
        result = await running.client.call_tool("venice_wallet_status", {})
        assert not result.is_error, result.content
        balances = (result.structured_content or {})["balances"]
        assert balances == {"ETH": "1", "VVV": "0", "sVVV": "100", "DIEM": "0"}
        stderr = running.stderr()
    assert PROVIDER_KEY not in stderr
    assert PROVIDER_KEY not in str(result.content)
