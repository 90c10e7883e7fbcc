"""Stake VVV for sVVV from the configured wallet: approve exactly the amount, then stake.

Order of events, and why:
1. The amount is parsed (whole VVV to wei, integers only) before any request.
2. One preflight read, one JSON-RPC batch: chain id (must be the configured one), ETH, VVV, sVVV,
   the staking contract's VVV allowance, both tokens' decimals, the wallet's nonces, fees, and
   whether Base's L1 fee oracle is there.
3. The approve (only when the allowance is short) and the stake are simulated from the wallet,
   for the exact amount, as one sequence. A revert, a fee above the cap, a transaction already
   pending, or too little ETH for gas stops here with nothing signed. A dry run ends here.
4. approve(staking contract, amount), never more, is signed, sent, and its receipt awaited. The
   stake is then simulated again against the chain as it now is (eth_estimateGas), signed, sent
   and awaited.
5. The balances at the stake's block must show sVVV up and VVV down by exactly the amount.

Steps 2-5 hold the wallet's lock (transactions.wallet_lock): two stakes in one process never
share a nonce or race over a balance. Interrupted (Ctrl-C) or timed out, `StakeProgress` says
what is on chain and whether running the same stake again is safe: after a mined approve it is,
and it reuses that allowance.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from typing import Any, Literal, cast

from eth_typing import ChecksumAddress
from web3 import AsyncWeb3
from web3.exceptions import BadFunctionCallOutput

from venice_web3_keys.amounts import (
    VVV_DECIMALS,
    StakeAmount,
    from_base_units,
    parse_stake_amount,
    tokens_str,
)
from venice_web3_keys.chain import require_chain
from venice_web3_keys.errors import (
    AmountExceedsBalanceError,
    ChainError,
    InsufficientGasError,
    InvalidInputError,
    MissingContractError,
    StakeVerificationError,
    TransactionError,
    TransactionRefusedError,
    TransactionRevertedError,
    VeniceKeysError,
    WalletError,
)
from venice_web3_keys.flows._result import StakeProgress, StakeResult, Step
from venice_web3_keys.secret import get_logger
from venice_web3_keys.settings import Settings
from venice_web3_keys.signer import Signer, TransactionSigner
from venice_web3_keys.transactions import (
    GAS_LIMIT_MARGIN,
    GAS_PRICE_ORACLE,
    MAX_FEE_PER_GAS_CAP,
    Allowance,
    Call,
    FeeQuote,
    Node,
    SimulatedCall,
    fee_paid,
    wallet_lock,
)

log = get_logger("venice_web3_keys.flows.stake")

DEFAULT_RECEIPT_TIMEOUT = 120.0  # Base makes a block every 2 s: 60 blocks of patience

_ERC20_ABI: list[dict[str, Any]] = [
    {"type": "function", "name": "balanceOf", "stateMutability": "view",
     "inputs": [{"name": "owner", "type": "address"}],
     "outputs": [{"name": "", "type": "uint256"}]},
    {"type": "function", "name": "allowance", "stateMutability": "view",
     "inputs": [{"name": "owner", "type": "address"}, {"name": "spender", "type": "address"}],
     "outputs": [{"name": "", "type": "uint256"}]},
    {"type": "function", "name": "decimals", "stateMutability": "view", "inputs": [],
     "outputs": [{"name": "", "type": "uint8"}]},
    {"type": "function", "name": "approve", "stateMutability": "nonpayable",
     "inputs": [{"name": "spender", "type": "address"}, {"name": "amount", "type": "uint256"}],
     "outputs": [{"name": "", "type": "bool"}]},
]
#: The staking contract is itself the sVVV ERC-20, plus stake(address to, uint256 amount).
_STAKING_ABI: list[dict[str, Any]] = [
    *_ERC20_ABI,
    {"type": "function", "name": "stake", "stateMutability": "nonpayable",
     "inputs": [{"name": "to", "type": "address"}, {"name": "amount", "type": "uint256"}],
     "outputs": []},
]





# --------------------------------------------------------------------------- preflight


@dataclass(frozen=True)
class _Preflight:
    eth: int
    vvv: int
    svvv: int
    allowance: int
    fees: FeeQuote
    oracle_present: bool


@dataclass(frozen=True)
class _Plan:
    wallet: str
    amount_wei: int
    before: _Preflight
    approve: Call | None
    stake: Call
    simulated: list[SimulatedCall]
    simulation: str
    l1_fee: int

    @property
    def max_cost(self) -> int:
        gas = sum(sim.gas_limit for sim in self.simulated)
        return gas * self.before.fees.max_fee_per_gas + self.l1_fee


class _Contracts:
    """The two contracts, their calls encoded by web3 from the ABIs above."""

    def __init__(self, w3: AsyncWeb3[Any], settings: Settings) -> None:
        self.vvv = w3.eth.contract(cast(ChecksumAddress, settings.vvv_token), abi=_ERC20_ABI)
        self.staking = w3.eth.contract(cast(ChecksumAddress, settings.staking_contract),
                                       abi=_STAKING_ABI)

    def approve(self, amount_wei: int) -> Call:
        data = self.vvv.encode_abi("approve", args=[self.staking.address, amount_wei])
        return Call("approve", self.vvv.address, data)

    def stake(self, wallet: str, amount_wei: int) -> Call:
        data = self.staking.encode_abi("stake", args=[wallet, amount_wei])
        return Call("stake", self.staking.address, data)


async def _preflight(node: Node, settings: Settings, wallet: str) -> _Preflight:
    """The one preflight read (a single batch), on the first endpoint that answers."""

    async def read(w3: AsyncWeb3[Any]) -> list[Any]:
        contracts = _Contracts(w3, settings)
        vvv, staking = contracts.vvv.functions, contracts.staking.functions
        async with w3.batch_requests() as batch:
            batch.add(w3.eth.chain_id)
            batch.add(w3.eth.get_balance(wallet))  # type: ignore[arg-type]
            batch.add(vvv.balanceOf(wallet))
            batch.add(vvv.allowance(wallet, settings.staking_contract))
            batch.add(vvv.decimals())
            batch.add(staking.balanceOf(wallet))
            batch.add(staking.decimals())
            batch.add(w3.eth.get_transaction_count(wallet, "latest"))  # type: ignore[arg-type]
            batch.add(w3.eth.get_transaction_count(wallet, "pending"))  # type: ignore[arg-type]
            batch.add(w3.eth.get_block("latest"))
            batch.add(w3.eth.max_priority_fee)
            batch.add(w3.eth.get_code(GAS_PRICE_ORACLE))  # type: ignore[arg-type]
            answers: list[Any] = await batch.async_execute()
        return answers

    try:
        answers = await node.first_read(read)
    except BadFunctionCallOutput:
        raise await _missing_contract(node, settings) from None
    (chain_id, eth, vvv, allowance, vvv_decimals, svvv, svvv_decimals, mined_nonce,
     pending_nonce, block, tip, oracle_code) = answers
    require_chain(node.host, int(chain_id), settings.chain_id,
                  refusing="to send transactions to the wrong chain")
    for symbol, token, decimals in (("VVV", settings.vvv_token, vvv_decimals),
                                    ("sVVV", settings.staking_contract, svvv_decimals)):
        if int(decimals) != VVV_DECIMALS:
            raise ChainError(f"{symbol} at {token} reports {decimals} decimals, not "
                             f"{VVV_DECIMALS}: check VENICE_VVV_TOKEN / VENICE_STAKING_CONTRACT; "
                             "nothing was sent")
    if int(pending_nonce) > int(mined_nonce):
        raise TransactionError(
            f"wallet {wallet} has {int(pending_nonce) - int(mined_nonce)} transaction(s) still "
            f"pending on {node.host}: wait until they are mined (or dropped), then stake. A "
            "stake sent earlier may be among them; nothing was signed.")
    fees = FeeQuote.from_node(int(block.get("baseFeePerGas", 0)), int(tip),
                              cap=MAX_FEE_PER_GAS_CAP)
    return _Preflight(eth=int(eth), vvv=int(vvv), svvv=int(svvv), allowance=int(allowance),
                      fees=fees, oracle_present=len(bytes(oracle_code)) > 0)


async def _missing_contract(node: Node, settings: Settings) -> ChainError:
    """Why a token read could not be decoded: which address has no code, if one has none."""
    tokens = (("VVV", settings.vvv_token), ("sVVV", settings.staking_contract))

    async def codes(w3: AsyncWeb3[Any]) -> list[bytes]:
        return [bytes(await w3.eth.get_code(address)) for _, address in tokens]  # type: ignore[arg-type]

    empty = [f"{symbol} at {address}" for (symbol, address), code
             in zip(tokens, await node.first_read(codes), strict=True) if not code]
    if empty:
        return MissingContractError(
            f"no contract code on chain {settings.chain_id} ({node.host}) for "
            f"{', '.join(empty)}: check VENICE_VVV_TOKEN / VENICE_STAKING_CONTRACT and the RPC URL")
    return MissingContractError("VVV or sVVV does not answer balanceOf/allowance/decimals like "
                                "an ERC-20: check VENICE_VVV_TOKEN / VENICE_STAKING_CONTRACT")


async def _plan(node: Node, settings: Settings, wallet: str,
                wanted: int | Literal["all"]) -> _Plan:
    before = await _preflight(node, settings, wallet)
    if wanted == "all":
        if before.vvv == 0:
            raise InvalidInputError(f"wallet {wallet} holds no VVV, so there is nothing to "
                                    "stake; nothing was sent", field="amount")
        amount = before.vvv
    else:
        amount = wanted
    if amount > before.vvv:
        raise AmountExceedsBalanceError(
            f"cannot stake {tokens_str(amount)} VVV: wallet {wallet} holds "
            f"{tokens_str(before.vvv)} VVV on chain {settings.chain_id}; nothing was sent",
            amount=amount, balance=before.vvv)
    contracts = _Contracts(node.w3, settings)
    approve = contracts.approve(amount) if before.allowance < amount else None
    stake = contracts.stake(wallet, amount)
    granted = Allowance(settings.vvv_token, wallet, settings.staking_contract, amount)
    calls = [stake] if approve is None else [approve, stake]
    simulated, method = await node.simulate(wallet, calls, granted=granted)
    l1_fee = 0
    for call in calls:
        l1_fee += await node.l1_fee_upper_bound(call, oracle_present=before.oracle_present)
    plan = _Plan(wallet, amount, before, approve, stake, simulated, method, l1_fee)
    _require_gas_money(plan.max_cost, before.eth, wallet, what=" + ".join(c.step for c in calls),
                       fees=before.fees, outcome="Nothing was signed or sent.")
    return plan


def _require_gas_money(needed: int, available: int, wallet: str, *, what: str,
                       fees: FeeQuote, outcome: str) -> None:
    if available < needed:
        gwei = tokens_str(fees.max_fee_per_gas, 9)
        raise InsufficientGasError(
            f"wallet {wallet} holds {tokens_str(available)} ETH, but the {what} can cost up to "
            f"{tokens_str(needed)} ETH in gas (at up to {gwei} gwei per gas, plus Base's L1 data "
            f"fee): send ETH on Base to the wallet. {outcome}", needed=needed,
            available=available)


# --------------------------------------------------------------------------- execution


async def _transact(node: Node, signer: TransactionSigner, call: Call, *,
                    oracle_present: bool, progress: StakeProgress, receipt_timeout: float,
                    poll_interval: float) -> Any:
    """Simulate `call` once more against the chain as it is now, then sign, send, await it."""
    wallet = signer.address
    gas = await node.estimate_gas(wallet, call)  # a revert raises: nothing signed
    fees, eth, nonce = await node.quote(wallet)
    limit = math.ceil(gas * GAS_LIMIT_MARGIN)
    l1_fee = await node.l1_fee_upper_bound(call, oracle_present=oracle_present)
    _require_gas_money(limit * fees.max_fee_per_gas + l1_fee, eth, wallet, what=call.step,
                       fees=fees, outcome=f"The {call.step} was not signed.")
    step: Step = "approve" if call.step == "approve" else "stake"
    try:
        tx_hash = await node.send(signer, call, gas_limit=limit, fees=fees, nonce=nonce,
                                  on_signed=lambda h: progress.record(step, "signed", h))
    except TransactionRefusedError:
        progress.steps.pop(step, None)  # the node did not take it: nothing of it is on chain
        raise
    progress.record(step, "sent", tx_hash)
    try:
        receipt = await node.wait_for_receipt(call, tx_hash, receipt_timeout=receipt_timeout,
                                              poll_interval=poll_interval)
    except TransactionRevertedError:
        progress.record(step, "reverted", tx_hash)
        raise
    progress.record(step, "mined", tx_hash)
    return receipt


async def _balances_at(node: Node, settings: Settings, wallet: str, block: int) -> list[int]:
    """ETH, VVV, sVVV of `wallet` at `block` (a lagging endpoint errors, it does not lie)."""
    contracts = _Contracts(node.w3, settings)
    async with node.w3.batch_requests() as batch:
        batch.add(node.w3.eth.get_balance(wallet, block))  # type: ignore[arg-type]
        batch.add(contracts.vvv.functions.balanceOf(wallet).call(block_identifier=block))
        batch.add(contracts.staking.functions.balanceOf(wallet).call(block_identifier=block))
        answers: list[Any] = await node.request("reading the balances after the stake",
                                                batch.async_execute())
    return [int(value) for value in answers]


async def _execute(node: Node, settings: Settings, signer: TransactionSigner, plan: _Plan, *,
                   progress: StakeProgress, receipt_timeout: float,
                   poll_interval: float) -> StakeResult:
    receipts: dict[str, Any] = {}
    for call in (plan.approve, plan.stake):
        if call is not None:
            receipts[call.step] = await _transact(
                node, signer, call, oracle_present=plan.before.oracle_present,
                progress=progress, receipt_timeout=receipt_timeout, poll_interval=poll_interval)
    block = int(receipts["stake"]["blockNumber"])
    eth, vvv, svvv = await _balances_at(node, settings, plan.wallet, block)
    before = plan.before
    verified = svvv - before.svvv == plan.amount_wei and before.vvv - vvv == plan.amount_wei
    result = _result(settings, plan, dry_run=False, after={"ETH": eth, "VVV": vvv, "sVVV": svvv},
                     receipts=receipts, verified=verified)
    if not verified:
        raise StakeVerificationError(
            f"the stake {result.stake_tx} is mined, so do not run it again; but at block {block} "
            f"sVVV rose by {tokens_str(svvv - before.svvv)} and VVV fell by "
            f"{tokens_str(before.vvv - vvv)}, not by {tokens_str(plan.amount_wei)} each (another "
            "transfer in the same block, or a staking contract that does not credit 1:1): check "
            "the wallet's balances", result=result)
    return result


def _result(settings: Settings, plan: _Plan, *, dry_run: bool, after: dict[str, int],
            receipts: dict[str, Any] | None = None, verified: bool = False) -> StakeResult:
    before = plan.before
    receipts = receipts or {}
    paid = sum(fee_paid(receipt) for receipt in receipts.values())
    return StakeResult(
        address=plan.wallet,
        chain_id=settings.chain_id,
        amount=from_base_units(plan.amount_wei, VVV_DECIMALS),
        amount_wei=plan.amount_wei,
        dry_run=dry_run,
        vvv_token=settings.vvv_token,
        staking_contract=settings.staking_contract,
        approve_needed=plan.approve is not None,
        allowance_before=from_base_units(before.allowance, VVV_DECIMALS),
        simulation=plan.simulation,
        gas_estimates={sim.call.step: sim.gas_limit for sim in plan.simulated},
        max_fee_per_gas=before.fees.max_fee_per_gas,
        fee_estimate=from_base_units(plan.max_cost, 18),
        balances_before={"ETH": from_base_units(before.eth, 18),
                         "VVV": from_base_units(before.vvv, VVV_DECIMALS),
                         "sVVV": from_base_units(before.svvv, VVV_DECIMALS)},
        balances_after={"ETH": from_base_units(after["ETH"], 18),
                        "VVV": from_base_units(after["VVV"], VVV_DECIMALS),
                        "sVVV": from_base_units(after["sVVV"], VVV_DECIMALS)},
        approve_tx=_hash(receipts.get("approve")),
        stake_tx=_hash(receipts.get("stake")),
        gas_used={step: int(receipt["gasUsed"]) for step, receipt in receipts.items()},
        fees_paid=from_base_units(paid, 18) if receipts else None,
        verified=verified,
    )


def _hash(receipt: Any) -> str | None:
    return None if receipt is None else "0x" + bytes(receipt["transactionHash"]).hex()


# --------------------------------------------------------------------------- entry point


async def stake_vvv(
    *,
    settings: Settings,
    signer: Signer,
    amount: StakeAmount,
    dry_run: bool = False,
    progress: StakeProgress | None = None,
    receipt_timeout: float = DEFAULT_RECEIPT_TIMEOUT,
    poll_interval: float = 1.0,
) -> StakeResult:
    """Approve (if needed) and stake `amount` VVV (or "all") for the wallet itself; see the
    module docstring for the order of events. A dry run signs nothing and returns the plan."""
    wanted = parse_stake_amount(amount)
    if not isinstance(signer, TransactionSigner):
        raise WalletError(f"{type(signer).__name__} cannot sign transactions, so it cannot stake")
    if not math.isfinite(receipt_timeout) or receipt_timeout <= 0:
        raise InvalidInputError("receipt_timeout must be a positive number of seconds",
                                field="receipt_timeout")
    progress = progress if progress is not None else StakeProgress()
    progress.steps.clear()  # it describes this run, even when a caller reuses it
    progress.amount_wei = None
    wallet = signer.address
    async with Node(settings.rpc_urls, chain_id=settings.chain_id,
                    timeout=min(settings.timeout, 30.0)) as node:
        if dry_run:
            plan = await _plan(node, settings, wallet, wanted)
            predicted = {"ETH": plan.before.eth - plan.max_cost,
                         "VVV": plan.before.vvv - plan.amount_wei,
                         "sVVV": plan.before.svvv + plan.amount_wei}
            return _result(settings, plan, dry_run=True, after=predicted)
        async with wallet_lock(wallet):
            plan = await _plan(node, settings, wallet, wanted)
            progress.amount_wei = plan.amount_wei
            try:
                return await _execute(node, settings, signer, plan, progress=progress,
                                      receipt_timeout=receipt_timeout,
                                      poll_interval=poll_interval)
            except asyncio.CancelledError as exc:
                exc.add_note(progress.summary())
                log.info("stake interrupted: %s", progress.summary())
                raise
            except VeniceKeysError as exc:
                if progress.anything_signed and not isinstance(exc, StakeVerificationError):
                    exc.args = (f"{exc} {progress.summary()}", *exc.args[1:])
                raise
