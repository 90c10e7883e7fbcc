"""Attacks on `stake_vvv` / `wallet stake`, on a real local chain (anvil + the sandbox contracts):

- a hostile RPC node answered eth_getTransactionReceipt for our approve with the (real, mined,
  successful) receipt of another transaction: the flow took it as the approve's, signed and sent
  the stake, and reported the other transaction's hash as ours;
- amounts beyond the precision of the decimal arithmetic: `Decimal("1E+999999")` (or a string of a
  million digits) escaped as a raw `decimal.Overflow`, and an amount with more than 18 decimals
  whose extra digits sit past the 80th significant digit was rounded and accepted.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.foundry import cast_nonce, cast_uint
from tests.harness import CliRunner
from tests.security.servers import LyingNode
from venice_web3_keys.errors import InvalidInputError, StakeVerificationError, TransactionError
from venice_web3_keys.flows._result import StakeProgress
from venice_web3_keys.flows.stake import stake_vvv
from venice_web3_keys.sandbox.chain import STAKING_CONTRACT, LocalChain
from venice_web3_keys.settings import load_settings
from venice_web3_keys.signer import PrivateKeySigner

#: 1.000000000000000001 VVV followed by 70 zeros and a 1: 91 decimals, 92 significant digits
PAST_PRECISION = "1." + "0" * 17 + "1" + "0" * 70 + "1"


def _decoy_transaction(chain: LocalChain) -> str:
    """A mined, successful transaction of another wallet: the receipt the liar hands out."""
    from eth_account import Account

    _, key = chain.new_wallet(eth="1")
    signed = Account.from_key(key.reveal()).sign_transaction({
        "type": 2, "chainId": 8453, "nonce": 0, "to": "0x" + "44" * 20, "value": 1,
        "gas": 21000, "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9})
    tx_hash = chain.rpc("eth_sendRawTransaction", ["0x" + bytes(signed.raw_transaction).hex()])
    return str(tx_hash)


async def test_a_receipt_for_another_transaction_is_never_taken_for_ours(
        chain: LocalChain) -> None:
    decoy = _decoy_transaction(chain)
    address, key = chain.new_wallet(eth="1", vvv="50", svvv="0")

    def lie(request: dict[str, Any]) -> None:
        if request.get("method") == "eth_getTransactionReceipt":
            request["params"] = [decoy]

    progress = StakeProgress()
    with LyingNode(chain.rpc_url, lie) as node:
        settings = load_settings(environ={"BASE_RPC_URL": node.url,
                                          "VENICE_WALLET_PRIVATE_KEY": key.reveal()})
        with pytest.raises(TransactionError) as info:
            await stake_vvv(settings=settings, signer=PrivateKeySigner(key), amount="2",
                            progress=progress, receipt_timeout=5, poll_interval=0.1)
    assert not isinstance(info.value, StakeVerificationError)
    sent = progress.steps["approve"][1]
    message = str(info.value)
    assert sent in message and "another transaction" in message, message
    assert decoy not in (info.value.tx_hash or "")
    assert "stake" not in progress.steps  # nothing more was signed on a lie
    assert cast_nonce(chain.rpc_url, address) == 1  # the approve only
    assert cast_uint(chain.rpc_url, STAKING_CONTRACT, "balanceOf(address)(uint256)",
                     address) == 0


@pytest.mark.parametrize("amount", [
    Decimal("1E+999999"), Decimal("-1E+999999"), Decimal("1E-999999"), "9" * 1_000_001,
    PAST_PRECISION, Decimal(PAST_PRECISION), "0." + "0" * 100 + "1",
], ids=["huge-exponent", "negative-huge", "tiny-exponent", "million-digits",
        "past-precision", "past-precision-decimal", "tiny"])
async def test_amounts_past_decimal_precision_are_invalid_input_not_a_crash_or_a_rounding(
        chain: LocalChain, amount: Any) -> None:
    address, key = chain.new_wallet(eth="1", vvv="50", svvv="0")
    settings = load_settings(environ={"BASE_RPC_URL": chain.rpc_url,
                                      "VENICE_WALLET_PRIVATE_KEY": key.reveal()})
    with pytest.raises(InvalidInputError) as info:
        await stake_vvv(settings=settings, signer=PrivateKeySigner(key), amount=amount,
                        dry_run=True)
    assert info.value.field == "amount"
    assert cast_nonce(chain.rpc_url, address) == 0


def test_the_cli_refuses_an_amount_with_digits_past_18_decimals(
        cli: CliRunner, chain: LocalChain) -> None:
    _, key = chain.new_wallet(eth="1", vvv="50", svvv="0")
    env = {"BASE_RPC_URL": chain.rpc_url, "VENICE_WALLET_PRIVATE_KEY": key.reveal()}
    res = cli("--json", "wallet", "stake", PAST_PRECISION, "--dry-run", env=env)
    assert res.code == 2, (res.stdout, res.stderr)
    assert res.json()["error"]["type"] == "InvalidInputError"
