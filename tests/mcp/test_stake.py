"""`venice_stake_vvv` through the real MCP client: registered only with writes allowed, refused
under the built-in policy (max_stake_vvv 0), capped per call by a policy that enables it, always
confirmed by the human (whatever the policy's `confirm`), audited with its transaction hashes;
balances checked with Foundry's cast. `venice_wallet_status` says whether staking is possible."""

from __future__ import annotations

from typing import Any

import mcp_types as types
import pytest

from tests.foundry import cast_nonce, cast_uint
from tests.mcp.conftest import Operator, open_client
from tests.mcp.helpers import ok, refused, text_of
from tests.mcp.test_writes import Human
from venice_web3_keys.sandbox.chain import STAKING_CONTRACT, VVV_TOKEN

WEI = 10**18
STAKE = "venice_stake_vvv"


@pytest.fixture
def staker(operator: Operator, venice_sandbox: Any) -> Operator:
    """The operator's wallet: 100 sVVV already, plus 50 unstaked VVV and 1 ETH."""
    venice_sandbox.chain.fund(operator.account.address, vvv=50)
    return operator


def on_chain(sandbox: Any, address: str) -> tuple[int, int, int]:
    """(VVV, sVVV, nonce), read by cast."""
    rpc = sandbox.rpc_url
    return (cast_uint(rpc, VVV_TOKEN, "balanceOf(address)(uint256)", address),
            cast_uint(rpc, STAKING_CONTRACT, "balanceOf(address)(uint256)", address),
            cast_nonce(rpc, address))


async def test_not_registered_while_read_only(staker: Operator) -> None:
    staker.policy({"max_stake_vvv": 100})
    async with open_client("inproc", staker) as run:
        names = [t.name for t in (await run.client.list_tools()).tools]
        assert STAKE not in names
        result = await run.client.call_tool(STAKE, {"amount": "1"})
        assert result.is_error


async def test_built_in_policy_refuses_and_audits(staker: Operator, venice_sandbox: Any) -> None:
    staker.flags.append("--allow-writes")
    human = Human()
    before = on_chain(venice_sandbox, staker.account.address)
    async with open_client("inproc", staker, elicitation_callback=human) as run:
        tool = {t.name: t for t in (await run.client.list_tools()).tools}[STAKE]
        assert "staking is not enabled on this server" in (tool.description or "")
        text = refused(await run.client.call_tool(STAKE, {"amount": "10"}), "max_stake_vvv")
        assert "not enabled" in text
    assert human.asked == []  # refused before the human is bothered
    assert on_chain(venice_sandbox, staker.account.address) == before
    assert [(e["tool"], e["outcome"], e.get("rule")) for e in staker.audit_lines()] == [
        (STAKE, "refused", "max_stake_vvv")]


@pytest.mark.parametrize("transport", ["inproc", "stdio"])
async def test_policy_with_a_cap_stakes_after_the_human_says_yes(
        staker: Operator, venice_sandbox: Any, transport: str) -> None:
    staker.flags.append("--allow-writes")
    staker.policy({"max_stake_vvv": 25, "confirm": "off"})  # "off" does not skip this question
    human = Human()
    address = staker.account.address
    async with open_client(transport, staker, elicitation_callback=human) as run:
        c = run.client
        status = ok(await c.call_tool("venice_wallet_status", {}))
        assert status["balances"]["VVV"] == "50" and status["can_stake"] is True
        over = await c.call_tool(STAKE, {"amount": "25.5"})
        refused(over, "max_stake_vvv")
        assert "at most 25 VVV" in text_of(over)

        staked = ok(await c.call_tool(STAKE, {"amount": "10"}))
    assert len(human.asked) == 1
    question = human.asked[0]
    assert "STAKE 10 VVV" in question and address in question and STAKING_CONTRACT in question
    assert staked["amount"] == "10" and staked["verified"] is True
    assert (staked["svvv_before"], staked["svvv_after"], staked["vvv_after"]) == (
        "100", "110", "40")
    assert staked["approve_tx"].startswith("0x") and staked["stake_tx"].startswith("0x")
    assert on_chain(venice_sandbox, address) == (40 * WEI, 110 * WEI, 2)
    lines = [e for e in staker.audit_lines() if e["tool"] == STAKE]
    assert [e["outcome"] for e in lines] == ["refused", "ok"]
    assert lines[1]["details"] == {"approve_tx": staked["approve_tx"],
                                   "stake_tx": staked["stake_tx"]}
    assert lines[1]["arguments"] == {"amount": "10"}


async def test_a_no_from_the_human_sends_nothing(staker: Operator, venice_sandbox: Any) -> None:
    staker.flags.append("--allow-writes")
    staker.policy({"max_stake_vvv": 25})
    human = Human()
    human.answers = ["no", "decline"]
    before = on_chain(venice_sandbox, staker.account.address)
    async with open_client("inproc", staker, elicitation_callback=human) as run:
        for _ in range(2):
            refused(await run.client.call_tool(STAKE, {"amount": "5"}), "human_confirmation")
    assert on_chain(venice_sandbox, staker.account.address) == before
    assert [e["rule"] for e in staker.audit_lines()] == ["human_confirmation"] * 2


async def test_a_client_that_cannot_ask_a_human_cannot_stake(staker: Operator,
                                                             venice_sandbox: Any) -> None:
    staker.flags.append("--allow-writes")
    staker.policy({"max_stake_vvv": 25, "confirm": "auto"})  # auto lets other tools through
    before = on_chain(venice_sandbox, staker.account.address)
    async with open_client("inproc", staker) as run:  # no elicitation callback
        refused(await run.client.call_tool(STAKE, {"amount": "5"}), "human_confirmation")
    assert on_chain(venice_sandbox, staker.account.address) == before


@pytest.mark.parametrize(("amount", "words"), [
    ("60", "AmountExceedsBalanceError"),  # within the cap, above the balance: nothing asked
])
async def test_a_stake_that_cannot_work_is_reported_before_asking(
        staker: Operator, venice_sandbox: Any, amount: str, words: str) -> None:
    staker.flags.append("--allow-writes")
    staker.policy({"max_stake_vvv": 100})
    human = Human()
    async with open_client("inproc", staker, elicitation_callback=human) as run:
        result = await run.client.call_tool(STAKE, {"amount": amount})
    assert result.is_error and words in text_of(result)
    assert human.asked == []
    assert [(e["outcome"], e.get("error_type")) for e in staker.audit_lines()] == [
        ("error", words)]


@pytest.mark.parametrize("amount", ["all", "-1", "1e3", "0x10", "1.0000000000000000001", "", 5])
async def test_arguments_outside_the_schema_are_rejected(staker: Operator, venice_sandbox: Any,
                                                         amount: Any) -> None:
    staker.flags.append("--allow-writes")
    staker.policy({"max_stake_vvv": 100})
    before = on_chain(venice_sandbox, staker.account.address)
    async with open_client("inproc", staker, elicitation_callback=Human()) as run:
        result: types.CallToolResult = await run.client.call_tool(STAKE, {"amount": amount})
    assert result.is_error
    assert on_chain(venice_sandbox, staker.account.address) == before
    assert [e["outcome"] for e in staker.audit_lines()] in (["invalid"], ["error"])


async def test_wallet_status_says_when_staking_is_impossible(operator: Operator) -> None:
    async with open_client("inproc", operator) as run:  # the default wallet: sVVV, no VVV
        status = ok(await run.client.call_tool("venice_wallet_status", {}))
    assert status["balances"]["VVV"] == "0" and status["can_stake"] is False
