"""Staking VVV on a real local chain (anvil + the sandbox contracts), checked with Foundry's cast.

Every balance, allowance, nonce and transaction field asserted here is read back by `cast` (an
independent Rust implementation), not by the code under test. The chain is this module's own:
tests switch automining off, change contract storage and base fees, and must not disturb others.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account as EthAccount

from tests.foundry import cast, cast_balance, cast_nonce, cast_tx, cast_uint
from venice_web3_keys import AsyncVeniceKeys, VeniceKeys
from venice_web3_keys.errors import (
    AmountExceedsBalanceError,
    ChainError,
    InsufficientGasError,
    InvalidInputError,
    MissingContractError,
    SimulationRevertedError,
    StakeVerificationError,
    TransactionError,
    TransactionRefusedError,
    TransactionRevertedError,
    TransactionTimeoutError,
    WrongChainError,
)
from venice_web3_keys.flows._result import StakeProgress
from venice_web3_keys.flows.stake import stake_vvv
from venice_web3_keys.sandbox.chain import (
    DIEM_TOKEN,
    SLOT_STAKED_TOKEN,
    STAKING_CONTRACT,
    VVV_TOKEN,
    LocalChain,
    allowance_slot,
)
from venice_web3_keys.secret import SecretValue
from venice_web3_keys.settings import Settings, load_settings
from venice_web3_keys.signer import PrivateKeySigner
from venice_web3_keys.transactions import GAS_PRICE_ORACLE, Allowance, Node

WEI = 10**18


@dataclass
class Wallet:
    address: str
    key: SecretValue
    settings: Settings
    rpc: str

    def vvv(self) -> int:
        return cast_uint(self.rpc, VVV_TOKEN, "balanceOf(address)(uint256)", self.address)

    def svvv(self) -> int:
        return cast_uint(self.rpc, STAKING_CONTRACT, "balanceOf(address)(uint256)", self.address)

    def allowance(self) -> int:
        return cast_uint(self.rpc, VVV_TOKEN, "allowance(address,address)(uint256)",
                         self.address, STAKING_CONTRACT)

    def nonce(self) -> int:
        return cast_nonce(self.rpc, self.address)

    def eth(self) -> int:
        return cast_balance(self.rpc, self.address)


def new_wallet(chain: LocalChain, *, eth: str = "1", vvv: str = "50", svvv: str = "0",
               **overrides: Any) -> Wallet:
    address, key = chain.new_wallet(eth=eth, vvv=vvv, svvv=svvv)
    settings = load_settings(environ={"BASE_RPC_URL": chain.rpc_url,
                                      "VENICE_WALLET_PRIVATE_KEY": key.reveal()}, **overrides)
    return Wallet(address, key, settings, chain.rpc_url)


def set_word(chain: LocalChain, contract: str, slot: int, value: int) -> None:
    chain.rpc("anvil_setStorageAt", [contract, "0x" + slot.to_bytes(32, "big").hex(),
                                     "0x" + value.to_bytes(32, "big").hex()])


def set_allowance(chain: LocalChain, wallet: Wallet, amount: int) -> None:
    set_word(chain, VVV_TOKEN, allowance_slot(wallet.address, STAKING_CONTRACT), amount)


def make_stake_pull_diem(chain: LocalChain) -> None:
    """Sabotage: the staking contract now pulls DIEM (never approved) instead of VVV."""
    set_word(chain, STAKING_CONTRACT, SLOT_STAKED_TOKEN, int(DIEM_TOKEN, 16))


def restore_staking(chain: LocalChain) -> None:
    set_word(chain, STAKING_CONTRACT, SLOT_STAKED_TOKEN, int(VVV_TOKEN, 16))


@pytest.fixture
def sabotage(chain: LocalChain) -> Iterator[Callable[[], None]]:
    try:
        yield lambda: make_stake_pull_diem(chain)
    finally:
        restore_staking(chain)


@pytest.fixture
def manual_mining(chain: LocalChain) -> Iterator[None]:
    chain.rpc("evm_setAutomine", [False])
    try:
        yield
    finally:
        chain.rpc("evm_setAutomine", [True])
        chain.rpc("evm_mine")


def approve_amount(rpc: str, tx_hash: str) -> tuple[str, int]:
    """(spender, amount) of an approve transaction, decoded by cast from what was mined."""
    data = cast_tx(rpc, tx_hash)["input"]
    decoded = cast("calldata-decode", "approve(address,uint256)", data).stdout
    spender, amount = decoded.strip().split("\n")
    return spender.strip(), int(amount.split()[0])


async def run_stake(wallet: Wallet, amount: str, **kwargs: Any) -> Any:
    return await stake_vvv(settings=wallet.settings, signer=PrivateKeySigner(wallet.key),
                           amount=amount, **kwargs)


# --------------------------------------------------------------------------- the happy path


async def test_stake_moves_exactly_the_amount_checked_with_cast(chain: LocalChain) -> None:
    wallet = new_wallet(chain, vvv="25.5", svvv="1")
    eth_before = wallet.eth()
    async with AsyncVeniceKeys(wallet.settings) as vk:
        plan = await vk.stake_vvv("10", dry_run=True)
        assert wallet.nonce() == 0 and wallet.vvv() == 255 * WEI // 10  # a plan signs nothing
        result = await vk.stake_vvv("10")

    assert wallet.vvv() == 155 * WEI // 10
    assert wallet.svvv() == 11 * WEI
    assert wallet.allowance() == 0  # the exact approval was used up, nothing left over
    assert wallet.nonce() == 2  # approve + stake, nothing else
    assert cast_uint(wallet.rpc, VVV_TOKEN, "balanceOf(address)(uint256)",
                     STAKING_CONTRACT) >= 10 * WEI
    assert result.fees_paid is not None  # a sent stake knows what it paid
    paid_wei = int(result.fees_paid * WEI)
    assert wallet.eth() == eth_before - paid_wei  # fees_paid is what the chain charged

    assert result.approve_tx and result.stake_tx and result.verified and not result.dry_run
    assert approve_amount(wallet.rpc, result.approve_tx) == (STAKING_CONTRACT, 10 * WEI)
    stake_input = cast_tx(wallet.rpc, result.stake_tx)["input"]
    assert stake_input[:10] == "0xadc9772e"  # stake(address,uint256)
    decoded = cast("calldata-decode", "stake(address,uint256)", stake_input).stdout
    to, amount = decoded.strip().split("\n")
    assert to.strip() == wallet.address and int(amount.split()[0]) == 10 * WEI
    for tx_hash in (result.approve_tx, result.stake_tx):
        tx = cast_tx(wallet.rpc, tx_hash)
        assert int(tx["chainId"], 16) == 8453  # EIP-155: valid on Base only
        assert int(tx["type"], 16) == 2  # EIP-1559
        assert tx["from"].lower() == wallet.address.lower()
    assert result.svvv_before == 1 and result.svvv_after == 11
    assert result.balances_after["VVV"] == Decimal("15.5")
    assert set(result.gas_used) == {"approve", "stake"}

    # the plan predicted what happened, and its fee bound held
    assert plan.approve_needed and plan.dry_run and plan.approve_tx is plan.stake_tx is None
    assert plan.balances_after["VVV"] == result.balances_after["VVV"]
    assert plan.balances_after["sVVV"] == result.balances_after["sVVV"]
    assert plan.fee_estimate is not None and plan.fee_estimate >= result.fees_paid > 0
    for step, used in result.gas_used.items():
        assert plan.gas_estimates[step] >= used
    public = result.to_public_dict()
    assert {k: public[k] for k in ("amount", "dryRun", "sVVVBefore", "sVVVAfter")} == {
        "amount": "10", "dryRun": False, "sVVVBefore": "1", "sVVVAfter": "11"}
    assert public["approveTx"] == result.approve_tx and public["stakeTx"] == result.stake_tx


def test_sync_facade_stakes_all(chain: LocalChain) -> None:
    wallet = new_wallet(chain, vvv="7.25")
    with VeniceKeys(wallet.settings) as vk:
        result = vk.stake_vvv("all")
    assert result.amount == Decimal("7.25")
    assert wallet.vvv() == 0 and wallet.svvv() == 725 * WEI // 100
    assert approve_amount(wallet.rpc, str(result.approve_tx))[1] == 725 * WEI // 100


async def test_enough_allowance_skips_the_approve(chain: LocalChain) -> None:
    wallet = new_wallet(chain)
    set_allowance(chain, wallet, 20 * WEI)
    result = await run_stake(wallet, "10")
    assert not result.approve_needed and result.approve_tx is None
    assert wallet.nonce() == 1  # the stake alone
    assert wallet.allowance() == 10 * WEI and wallet.svvv() == 10 * WEI
    assert result.simulation == "eth_simulateV1"


async def test_short_allowance_is_replaced_by_exactly_the_amount(chain: LocalChain) -> None:
    wallet = new_wallet(chain)
    set_allowance(chain, wallet, 3 * WEI)
    result = await run_stake(wallet, "10")
    # approve(amount) sets the allowance to the amount: never the difference, never unlimited
    assert approve_amount(wallet.rpc, str(result.approve_tx)) == (STAKING_CONTRACT, 10 * WEI)
    assert wallet.allowance() == 0 and wallet.svvv() == 10 * WEI


# --------------------------------------------------------------------------- nothing sent


async def test_a_simulated_revert_sends_nothing(chain: LocalChain,
                                                sabotage: Callable[[], None]) -> None:
    wallet = new_wallet(chain)
    sabotage()
    block = int(chain.rpc("eth_blockNumber"), 16)
    with pytest.raises(SimulationRevertedError) as info:
        await run_stake(wallet, "10")
    assert info.value.step == "stake" and "allowance" in info.value.reason
    assert "not signed" in str(info.value)
    assert wallet.nonce() == 0 and wallet.vvv() == 50 * WEI and wallet.allowance() == 0
    assert int(chain.rpc("eth_blockNumber"), 16) == block  # not a single transaction mined


async def test_a_simulated_revert_sends_nothing_without_eth_simulate_v1(
        chain: LocalChain, sabotage: Callable[[], None],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from web3.exceptions import MethodUnavailable

    async def unavailable(*args: Any, **kwargs: Any) -> Any:
        raise MethodUnavailable("{'code': -32601, 'message': 'Method not found'}")

    monkeypatch.setattr(Node, "_simulate_v1", unavailable)
    wallet = new_wallet(chain)
    sabotage()
    with pytest.raises(SimulationRevertedError):
        await run_stake(wallet, "10")
    assert wallet.nonce() == 0 and wallet.allowance() == 0


async def test_without_eth_simulate_v1_a_proven_state_override_simulates_the_stake(
        chain: LocalChain, monkeypatch: pytest.MonkeyPatch) -> None:
    from web3.exceptions import MethodUnavailable

    async def unavailable(*args: Any, **kwargs: Any) -> Any:
        raise MethodUnavailable("{'code': -32601, 'message': 'Method not found'}")

    monkeypatch.setattr(Node, "_simulate_v1", unavailable)
    wallet = new_wallet(chain)
    result = await run_stake(wallet, "4")
    assert result.simulation == "eth_call+state-override"
    assert wallet.svvv() == 4 * WEI and wallet.allowance() == 0


async def test_an_override_that_cannot_be_proven_is_not_trusted(chain: LocalChain) -> None:
    wallet = new_wallet(chain)
    no_code = "0x5e5E5e5e5E5e5E5E5e5E5E5e5e5E5E5E5e5E5E5e"  # a read here touches no storage
    async with Node([chain.rpc_url], chain_id=8453, timeout=10) as node:
        await node.first_read(lambda w3: w3.eth.chain_id)
        with pytest.raises(TransactionError, match="eth_simulateV1"):
            await node.allowance_override(wallet.address,
                                          Allowance(no_code, wallet.address, STAKING_CONTRACT, 1))
        override = await node.allowance_override(
            wallet.address, Allowance(VVV_TOKEN, wallet.address, STAKING_CONTRACT, 7))
    assert list(override) == [VVV_TOKEN]


@pytest.mark.parametrize("eth", ["0", "0.00001"])
async def test_not_enough_eth_for_gas_signs_nothing(chain: LocalChain, eth: str) -> None:
    wallet = new_wallet(chain, eth=eth)
    with pytest.raises(InsufficientGasError) as info:
        await run_stake(wallet, "10")
    assert info.value.available == int(Decimal(eth) * WEI) < info.value.needed
    assert "Nothing was signed or sent" in str(info.value)
    assert wallet.nonce() == 0 and wallet.vvv() == 50 * WEI


def constant_oracle(fee_wei: int) -> str:
    """Stand-in GasPriceOracle code that answers any call with `fee_wei` (PUSH32, MSTORE,
    RETURN 32 bytes)."""
    return "0x7f" + fee_wei.to_bytes(32, "big").hex() + "60005260206000f3"


async def test_base_l1_data_fee_counts_toward_the_gas_money(chain: LocalChain) -> None:
    """On Base every transaction also pays an L1 data fee, quoted by the GasPriceOracle."""
    l1_fee = 4 * 10**14  # 0.0004 ETH per transaction: under the cap
    chain.rpc("anvil_setCode", [GAS_PRICE_ORACLE, constant_oracle(l1_fee)])
    try:
        rich = new_wallet(chain, eth="1")
        plan = await run_stake(rich, "10", dry_run=True)
        without = plan.fee_estimate - Decimal(2 * l1_fee) / WEI
        assert 0 < without < Decimal("0.001")  # the L2 gas part alone
        poor = new_wallet(chain, eth=str(without + Decimal("0.0001")))  # L2 yes, L1 too: no
        with pytest.raises(InsufficientGasError) as info:
            await run_stake(poor, "10")
        # The same plan for another wallet: its address is in the calldata, and zero bytes cost
        # less gas than others, so the L2 part may differ by a few gas; the two L1 fees do not.
        needed = Decimal(info.value.needed) / WEI
        assert abs(needed - plan.fee_estimate) <= plan.fee_estimate / 100
        assert needed - Decimal(2 * l1_fee) / WEI > 0, "both L1 fees counted"
        assert needed > without + Decimal("0.0001"), "more than the wallet holds"
        assert poor.nonce() == 0
    finally:
        chain.rpc("anvil_setCode", [GAS_PRICE_ORACLE, "0x"])


async def test_an_l1_fee_above_the_cap_is_refused(chain: LocalChain) -> None:
    chain.rpc("anvil_setCode", [GAS_PRICE_ORACLE, constant_oracle(WEI // 2)])
    try:
        wallet = new_wallet(chain, eth="5")  # could pay it: the cap still refuses
        with pytest.raises(TransactionError, match="L1 data fee is too expensive"):
            await run_stake(wallet, "10")
        assert wallet.nonce() == 0
    finally:
        chain.rpc("anvil_setCode", [GAS_PRICE_ORACLE, "0x"])


async def test_an_oracle_that_cannot_quote_the_l1_fee_stops_before_signing(
        chain: LocalChain) -> None:
    chain.rpc("anvil_setCode", [GAS_PRICE_ORACLE, "0x60006000fd"])  # REVERT on every call
    try:
        wallet = new_wallet(chain)
        with pytest.raises(ChainError, match="L1 data fee cannot be priced"):
            await run_stake(wallet, "1")
        assert wallet.nonce() == 0
    finally:
        chain.rpc("anvil_setCode", [GAS_PRICE_ORACLE, "0x"])


async def test_wrong_chain_is_refused_before_anything_is_signed(chain: LocalChain) -> None:
    wallet = new_wallet(chain, chain_id=1)
    with pytest.raises(WrongChainError) as info:
        await run_stake(wallet, "10")
    assert info.value.actual == 8453 and info.value.expected == 1
    assert wallet.nonce() == 0


async def test_amount_above_the_balance_is_invalid_input(chain: LocalChain) -> None:
    wallet = new_wallet(chain, vvv="5")
    with pytest.raises(AmountExceedsBalanceError) as info:
        await run_stake(wallet, "5.000000000000000001")
    assert info.value.field == "amount" and info.value.balance == 5 * WEI
    assert "holds 5 VVV" in str(info.value)
    assert isinstance(info.value, InvalidInputError)
    empty = new_wallet(chain, vvv="0")
    with pytest.raises(InvalidInputError, match="holds no VVV"):
        await run_stake(empty, "all")
    assert wallet.nonce() == empty.nonce() == 0


async def test_bad_amounts_fail_before_any_request(chain: LocalChain) -> None:
    wallet = new_wallet(chain, rpc_urls="http://127.0.0.1:9")  # unreachable
    async with AsyncVeniceKeys(wallet.settings) as vk:
        for bad in ("-1", "1e3", "0", 1.5):
            with pytest.raises(InvalidInputError):
                await vk.stake_vvv(bad)  # type: ignore[arg-type]


async def test_missing_contract_is_named(chain: LocalChain) -> None:
    wallet = new_wallet(chain, vvv_token="0x" + "7a" * 20)
    with pytest.raises(MissingContractError, match=r"(?i)no contract code .* VVV at 0x7a7a"):
        await run_stake(wallet, "1")


async def test_fees_above_the_cap_are_refused(chain: LocalChain) -> None:
    wallet = new_wallet(chain)
    chain.rpc("anvil_setNextBlockBaseFeePerGas", [hex(20 * 10**9)])
    chain.rpc("evm_mine")
    try:
        with pytest.raises(TransactionError, match="too expensive"):
            await run_stake(wallet, "1")
        assert wallet.nonce() == 0
    finally:
        chain.rpc("anvil_setNextBlockBaseFeePerGas", [hex(10**9)])
        chain.rpc("evm_mine")


async def test_a_pending_transaction_stops_a_new_stake(chain: LocalChain,
                                                       manual_mining: None) -> None:
    wallet = new_wallet(chain)
    account = EthAccount.from_key(wallet.key.reveal())
    transfer = account.sign_transaction({
        "type": 2, "chainId": 8453, "nonce": 0, "to": "0x" + "33" * 20, "value": 1, "gas": 21000,
        "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9})
    chain.rpc("eth_sendRawTransaction", ["0x" + bytes(transfer.raw_transaction).hex()])
    with pytest.raises(TransactionError, match="1 transaction\\(s\\) still pending"):
        await run_stake(wallet, "1")
    chain.rpc("evm_mine")
    result = await run_stake(wallet, "1", dry_run=True)
    assert result.approve_needed


async def test_failover_to_the_next_rpc_endpoint(chain: LocalChain) -> None:
    wallet = new_wallet(chain, rpc_urls=f"http://127.0.0.1:9,{chain.rpc_url}")
    result = await run_stake(wallet, "2")
    assert result.verified and wallet.svvv() == 2 * WEI


# --------------------------------------------------------------------------- slow, lost, reverted


async def test_a_slow_receipt_is_waited_for(chain: LocalChain, manual_mining: None) -> None:
    wallet = new_wallet(chain)
    stop = asyncio.Event()

    async def miner() -> None:
        while not stop.is_set():
            await asyncio.sleep(0.3)
            await asyncio.to_thread(chain.rpc, "evm_mine")

    task = asyncio.create_task(miner())
    try:
        result = await run_stake(wallet, "3", poll_interval=0.05, receipt_timeout=30)
    finally:
        stop.set()
        await task
    assert result.verified and wallet.svvv() == 3 * WEI


async def test_no_receipt_in_time_reports_the_hash_and_a_rerun_finishes(
        chain: LocalChain, manual_mining: None) -> None:
    wallet = new_wallet(chain)
    progress = StakeProgress()
    with pytest.raises(TransactionTimeoutError) as info:
        await run_stake(wallet, "6", progress=progress, receipt_timeout=0.5, poll_interval=0.05)
    error = info.value
    state, approve_tx = progress.steps["approve"]
    assert state == "sent" and error.tx_hash == approve_tx and error.pending is True
    message = str(error)
    assert approve_tx in message and "may yet be mined" in message
    assert "the stake was not sent" in message
    assert "stake" not in progress.steps and wallet.nonce() == 0  # nothing mined yet

    with pytest.raises(TransactionError, match="pending"):  # never a second stake on top
        await run_stake(wallet, "6", poll_interval=0.05)
    chain.rpc("evm_mine")
    assert wallet.allowance() == 6 * WEI
    chain.rpc("evm_setAutomine", [True])
    again = await run_stake(wallet, "6", poll_interval=0.05)
    assert not again.approve_needed and again.approve_tx is None  # reused the allowance
    assert wallet.svvv() == 6 * WEI and wallet.allowance() == 0 and wallet.nonce() == 2


async def test_a_dropped_transaction_is_reported_as_gone(chain: LocalChain,
                                                         manual_mining: None) -> None:
    wallet = new_wallet(chain)

    def drop(step: str, state: str, tx_hash: str) -> None:
        if state == "sent":
            chain.rpc("anvil_dropTransaction", [tx_hash])

    with pytest.raises(TransactionTimeoutError) as info:
        await run_stake(wallet, "6", progress=StakeProgress(listener=drop),
                        receipt_timeout=0.5, poll_interval=0.05)
    assert info.value.pending is False
    assert "no longer knows it" in str(info.value)
    chain.rpc("evm_mine")
    assert wallet.nonce() == 0 and wallet.allowance() == 0
    chain.rpc("evm_setAutomine", [True])
    assert (await run_stake(wallet, "6")).approve_needed  # starts over from the approve


async def test_a_stake_that_reverts_on_chain_says_so(chain: LocalChain,
                                                     sabotage: Callable[[], None]) -> None:
    wallet = new_wallet(chain)

    def break_after_simulation(step: str, state: str, tx_hash: str) -> None:
        if (step, state) == ("stake", "signed"):  # simulated fine, then the chain changed
            sabotage()

    progress = StakeProgress(listener=break_after_simulation)
    with pytest.raises(TransactionRevertedError) as info:
        await run_stake(wallet, "8", progress=progress)
    assert progress.steps["stake"][0] == "reverted"
    assert "mined" in str(info.value) and "reverted" in str(info.value)
    assert "allowance given is still in place" in str(info.value)
    assert wallet.svvv() == 0 and wallet.vvv() == 50 * WEI and wallet.allowance() == 8 * WEI
    assert wallet.nonce() == 2


async def test_a_stake_that_would_revert_after_the_approve_says_what_is_on_chain(
        chain: LocalChain, sabotage: Callable[[], None]) -> None:
    wallet = new_wallet(chain)

    def break_after_approve(step: str, state: str, tx_hash: str) -> None:
        if (step, state) == ("approve", "mined"):
            sabotage()

    with pytest.raises(SimulationRevertedError) as info:
        await run_stake(wallet, "8", progress=StakeProgress(listener=break_after_approve))
    message = str(info.value)
    assert "The approve 0x" in message and "is mined" in message
    assert "run the same stake again" in message
    assert wallet.nonce() == 1 and wallet.allowance() == 8 * WEI


async def test_a_transaction_the_node_refuses_is_not_reported_as_sent(chain: LocalChain) -> None:
    wallet = new_wallet(chain)
    account = EthAccount.from_key(wallet.key.reveal())

    def take_the_nonce_first(step: str, state: str, tx_hash: str) -> None:
        if state == "signed":  # another sender of this wallet gets nonce 0 mined first
            other = account.sign_transaction({
                "type": 2, "chainId": 8453, "nonce": 0, "to": "0x" + "44" * 20, "value": 1,
                "gas": 21000, "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9})
            chain.rpc("eth_sendRawTransaction", ["0x" + bytes(other.raw_transaction).hex()])

    progress = StakeProgress(listener=take_the_nonce_first)
    with pytest.raises(TransactionRefusedError, match="was not sent"):
        await run_stake(wallet, "2", progress=progress)
    assert progress.steps == {} and progress.summary() == "Nothing was sent."
    assert wallet.nonce() == 1 and wallet.allowance() == 0


@pytest.mark.parametrize("delivered", [True, False])
async def test_a_send_whose_answer_is_lost_is_settled_by_asking_for_the_hash(
        chain: LocalChain, monkeypatch: pytest.MonkeyPatch, delivered: bool) -> None:
    """The connection drops during eth_sendRawTransaction: did the node get it? Ask, not guess."""
    from aiohttp import ServerDisconnectedError
    from web3.eth import AsyncEth

    original = AsyncEth.send_raw_transaction

    async def drop_the_answer(self: AsyncEth, raw: Any) -> Any:
        if delivered:
            await original(self, raw)
        raise ServerDisconnectedError()

    monkeypatch.setattr(AsyncEth, "send_raw_transaction", drop_the_answer)
    wallet = new_wallet(chain)
    progress = StakeProgress()
    if delivered:
        result = await run_stake(wallet, "2", progress=progress)
        assert result.verified and wallet.svvv() == 2 * WEI and wallet.nonce() == 2
        return
    with pytest.raises(TransactionError, match="most likely not sent") as info:
        await run_stake(wallet, "2", progress=progress)
    assert progress.steps["approve"][0] == "signed"  # never claimed as sent
    assert info.value.tx_hash == progress.steps["approve"][1]
    assert "may have been sent" in str(info.value)
    assert wallet.nonce() == 0


async def test_balances_that_did_not_move_by_the_amount_are_an_error(chain: LocalChain) -> None:
    wallet = new_wallet(chain)

    def someone_moves_vvv(step: str, state: str, tx_hash: str) -> None:
        if (step, state) == ("stake", "sent"):  # mined at once (automine): same block
            chain.fund(wallet.address, vvv=1)

    with pytest.raises(StakeVerificationError) as info:
        await run_stake(wallet, "10", progress=StakeProgress(listener=someone_moves_vvv))
    result = info.value.result
    assert not result.verified and result.stake_tx and result.balances_after["sVVV"] == 10
    assert "VVV fell by 49" in str(info.value)


# --------------------------------------------------------------------------- concurrency, Ctrl-C


async def test_two_concurrent_stakes_never_share_a_nonce(chain: LocalChain) -> None:
    wallet = new_wallet(chain)
    async with AsyncVeniceKeys(wallet.settings) as one, AsyncVeniceKeys(wallet.settings) as two:
        results = await asyncio.gather(one.stake_vvv("5"), one.stake_vvv("7"),
                                       two.stake_vvv("3"))
    assert all(r.verified for r in results)
    hashes = [h for r in results for h in (r.approve_tx, r.stake_tx) if h]
    nonces = sorted(int(cast_tx(wallet.rpc, h)["nonce"], 16) for h in hashes)
    assert nonces == list(range(len(hashes)))  # 0, 1, 2, ... each used once
    assert wallet.svvv() == 15 * WEI and wallet.vvv() == 35 * WEI and wallet.allowance() == 0


def test_two_sync_facades_on_two_threads_queue_on_the_wallet(chain: LocalChain) -> None:
    wallet = new_wallet(chain)
    errors: list[BaseException] = []

    def stake(amount: str) -> None:
        try:
            with VeniceKeys(wallet.settings) as vk:
                vk.stake_vvv(amount)
        except BaseException as exc:  # reported below, on the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=stake, args=(a,)) for a in ("4", "6")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert wallet.svvv() == 10 * WEI and wallet.nonce() == 4


async def test_cancelled_between_approve_and_stake_says_so_and_a_rerun_finishes(
        chain: LocalChain) -> None:
    wallet = new_wallet(chain)
    task: asyncio.Task[Any] | None = None

    def interrupt(step: str, state: str, tx_hash: str) -> None:
        if (step, state) == ("approve", "mined") and task is not None:
            task.cancel()  # as asyncio.run does on Ctrl-C

    progress = StakeProgress(listener=interrupt)
    task = asyncio.create_task(run_stake(wallet, "9", progress=progress))
    with pytest.raises(asyncio.CancelledError) as info:
        await task
    summary = progress.summary()
    assert progress.steps["approve"][0] == "mined" and "stake" not in progress.steps
    assert "The stake was not sent; run the same stake again" in summary
    assert summary in (info.value.__notes__ or [])
    assert wallet.nonce() == 1 and wallet.allowance() == 9 * WEI and wallet.svvv() == 0

    again = await run_stake(wallet, "9")
    assert not again.approve_needed and again.stake_tx  # reuses the exact allowance
    assert wallet.svvv() == 9 * WEI and wallet.allowance() == 0 and wallet.nonce() == 2


def test_ctrl_c_on_the_sync_facade_between_approve_and_stake(
        chain: LocalChain, caplog: pytest.LogCaptureFixture) -> None:
    wallet = new_wallet(chain)

    def ctrl_c(step: str, state: str, tx_hash: str) -> None:
        if (step, state) == ("approve", "mined"):
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)  # Ctrl-C
            time.sleep(0.5)  # the loop thread holds still until the interrupt lands

    caplog.set_level(logging.INFO, logger="venice_web3_keys")
    progress = StakeProgress(listener=ctrl_c)
    with VeniceKeys(wallet.settings) as vk:
        with pytest.raises(KeyboardInterrupt):
            vk.stake_vvv("5", progress=progress)
        # run() waited for the stake to wind down (it logged why it stopped): progress is final
        assert any("stake interrupted" in r.getMessage() for r in caplog.records)
        assert "stake" not in progress.steps
        assert "run the same stake again to finish" in progress.summary()
        assert wallet.nonce() == 1 and wallet.allowance() == 5 * WEI
        again = vk.stake_vvv("5")
    assert again.approve_tx is None and wallet.svvv() == 5 * WEI and wallet.nonce() == 2


def test_result_json_is_plain_decimal_strings(chain: LocalChain) -> None:
    wallet = new_wallet(chain, vvv="0.5")
    with VeniceKeys(wallet.settings) as vk:
        public = vk.stake_vvv("0.5", dry_run=True).to_public_dict()
    text = json.dumps(public)
    assert "E-" not in text and "e-" not in text
    assert public["amount"] == "0.5" and public["sVVVAfter"] == "0.5"
    assert public["approveTx"] is None and public["stakeTx"] is None and public["dryRun"] is True


def test_only_a_stake_that_reaches_the_chain_imports_web3(chain: LocalChain,
                                                         tmp_path: Path) -> None:
    """A bad amount fails before web3 (1+ s to import) is loaded; a real plan does load it."""
    wallet = new_wallet(chain)
    script = (
        "import sys\n"
        "from venice_web3_keys import VeniceKeys, InvalidInputError\n"
        "vk = VeniceKeys.from_env()\n"
        "try:\n"
        "    vk.stake_vvv('1e3')\n"
        "except InvalidInputError:\n"
        "    print('before', sorted({'web3', 'eth_account'} & set(sys.modules)))\n"
        "vk.stake_vvv('1', dry_run=True)\n"
        "print('after', sorted({'web3', 'eth_account'} & set(sys.modules)))\n"
        "vk.close()\n"
    )
    env = {"PATH": os.environ.get("PATH", ""), "BASE_RPC_URL": chain.rpc_url,
           "VENICE_WALLET_PRIVATE_KEY": wallet.key.reveal()}  # never in argv
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env=env, cwd=tmp_path, timeout=60, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split("\n")[:2] == ["before []", "after ['eth_account', 'web3']"]


@pytest.mark.parametrize(("eth", "vvv", "possible"), [("1", "3", True), ("0", "3", False),
                                                      ("1", "0", False)])
async def test_wallet_status_says_whether_staking_is_possible(chain: LocalChain, eth: str,
                                                              vvv: str, possible: bool) -> None:
    wallet = new_wallet(chain, eth=eth, vvv=vvv)
    async with AsyncVeniceKeys(wallet.settings) as vk:
        status = await vk.wallet_status()
    assert status.balances["VVV"] == Decimal(vvv) and status.can_stake is possible


async def test_the_private_key_never_appears_in_results_errors_or_logs(
        chain: LocalChain, caplog: pytest.LogCaptureFixture,
        sabotage: Callable[[], None]) -> None:
    caplog.set_level(logging.DEBUG)  # web3's own request logging included
    wallet = new_wallet(chain)
    key_hex = wallet.key.reveal().lower().removeprefix("0x")
    progress = StakeProgress()
    result = await run_stake(wallet, "1", progress=progress)
    texts = [repr(result), json.dumps(result.to_public_dict()), repr(progress),
             progress.summary()]
    sabotage()
    with pytest.raises(SimulationRevertedError) as info:
        await run_stake(wallet, "1")
    texts.append("".join(traceback.format_exception(info.value)) + repr(info.value))
    texts += [record.getMessage() for record in caplog.records]
    assert len(caplog.records) > 5, "the check must see web3's request logs"
    assert not [t for t in texts if key_hex in t.lower()]
