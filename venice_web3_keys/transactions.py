"""Transactions on Base through web3.py: simulate, price, sign, send, and wait for the receipt.

Only code that moves funds imports this module (web3 costs over a second to import): read-only
commands, `--help` and the MCP handshake never do. One `Node` is one wallet's session with one
RPC endpoint: the first that answers (failover happens once, on the first read), kept for every
later call, so the node that simulated a transaction is the node that receives it and reports
its receipt.

What it provides, and how flows/stake.py uses it:
- `simulate` / `estimate_gas`: the exact call, from the wallet, on the latest block; a flow signs
  only after one of them has just passed for that call.
- `send`: always EIP-1559 with the configured chain id; `quote` gives fees from the node under a
  cap (a refusal, not an overpayment, in a fee spike) and the nonce: the node's pending count,
  never below one this Node already used. `wallet_lock` keeps one wallet sending from one place
  in the process at a time.
- `wait_for_receipt`: a receipt that does not come in time is reported with its hash and what
  the node knows of it (still pending, or no longer known), never guessed.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import aiohttp
from eth_abi.abi import decode as abi_decode
from eth_hash.auto import keccak
from eth_typing import ChecksumAddress
from web3 import AsyncWeb3
from web3.exceptions import (
    BadFunctionCallOutput,
    ContractLogicError,
    MethodUnavailable,
    TransactionNotFound,
    Web3Exception,
    Web3RPCError,
)
from web3.types import StateOverride, TxParams

from venice_web3_keys.amounts import tokens_str
from venice_web3_keys.errors import (
    ChainError,
    ChainUnreachableError,
    SimulationRevertedError,
    TransactionError,
    TransactionRefusedError,
    TransactionRevertedError,
    TransactionTimeoutError,
)
from venice_web3_keys.secret import get_logger, redact_url
from venice_web3_keys.signer import TransactionSigner

log = get_logger("venice_web3_keys.transactions")

_T = TypeVar("_T")

GWEI = 10**9
#: Highest max fee per gas we sign. Base's base fee is usually far below 0.1 gwei; a node that
#: asks for more than this is in a fee spike (or misbehaving), and we refuse to overpay.
MAX_FEE_PER_GAS_CAP = 10 * GWEI
#: gas limit = estimate x this: state can change a little between estimate and inclusion.
GAS_LIMIT_MARGIN = 1.2
#: A simulated gasUsed is after refunds (clearing an allowance refunds gas) and ignores the
#: 63/64 rule for inner calls; this much more is what such a call may need as its limit.
SIMULATED_GAS_MARGIN = 1.5
#: Base's GasPriceOracle predeploy (OP Stack): the L1 data fee every transaction also pays.
GAS_PRICE_ORACLE = "0x420000000000000000000000000000000000000F"
#: Highest L1 data fee we accept for one approve or stake (0.001 ETH; usually far below).
MAX_L1_FEE_CAP = 10**15
_ALLOWANCE = "0xdd62ed3e"  # allowance(address,address)
_L1_FEE_UPPER_BOUND = "0x" + keccak(b"getL1FeeUpperBound(uint256)")[:4].hex()
#: bytes of a type-2 transaction besides its calldata (RLP of chain id, nonce, fees, gas, to...)
_TX_ENVELOPE_BYTES = 120

#: transport failures: the request may not have reached the node, or its answer was lost
CONNECTION_ERRORS: tuple[type[Exception], ...] = (aiohttp.ClientError, TimeoutError, OSError)
#: anything a lookup made only to describe a situation may fail with
_LOOKUP_ERRORS: tuple[type[Exception], ...] = (*CONNECTION_ERRORS, Web3Exception)

_ERROR_STRING = bytes.fromhex("08c379a0")  # Error(string)
_PANIC = bytes.fromhex("4e487b71")  # Panic(uint256)
#: OpenZeppelin 5 ERC-20 custom errors, the likeliest reverts of a real token's transferFrom
_CUSTOM_ERRORS = {
    bytes.fromhex("e450d38c"): "ERC20InsufficientBalance",
    bytes.fromhex("fb8f41b2"): "ERC20InsufficientAllowance",
}


def revert_reason(data: Any, fallback: str = "reverted without a reason") -> str:
    """A readable reason from revert data (Error(string), Panic, known custom errors)."""
    if isinstance(data, dict):  # some nodes nest it: {"data": "0x..."}
        data = data.get("data")
    if isinstance(data, str):
        try:
            data = bytes.fromhex(data.removeprefix("0x"))
        except ValueError:
            return fallback
    if not isinstance(data, bytes | bytearray) or len(data) < 4:
        return fallback
    data = bytes(data)
    try:
        if data[:4] == _ERROR_STRING:
            return str(abi_decode(["string"], data[4:])[0])[:200]
        if data[:4] == _PANIC:
            return f"panic 0x{abi_decode(['uint256'], data[4:])[0]:02x}"
    except Exception:  # malformed payload: say so rather than guess
        return fallback
    name = _CUSTOM_ERRORS.get(data[:4])
    return name or f"custom error 0x{data[:4].hex()}"


def rpc_message(exc: BaseException) -> str:
    """The node's own words for a JSON-RPC error, else the exception's type."""
    if isinstance(exc, Web3RPCError) and isinstance(exc.rpc_response, dict):
        error = exc.rpc_response.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])[:200]
    if isinstance(exc, ContractLogicError):
        return revert_reason(exc.data, str(exc.message or "execution reverted")[:200])
    return type(exc).__name__


# --------------------------------------------------------------------------- per-wallet lock

_WALLET_LOCKS: dict[str, threading.Lock] = {}
_WALLET_LOCKS_GUARD = threading.Lock()


@contextlib.asynccontextmanager
async def wallet_lock(address: str, *, poll_interval: float = 0.02) -> AsyncIterator[None]:
    """Hold the process-wide lock of one wallet while it reads, signs and sends.

    A threading lock (not an asyncio one): sync facades run their own event loops on their own
    threads, and two of them staking from one wallet must still queue. It is taken by polling,
    never by a blocking acquire in a worker thread, so a cancelled waiter never ends up holding it.
    """
    with _WALLET_LOCKS_GUARD:
        lock = _WALLET_LOCKS.setdefault(address.lower(), threading.Lock())
    while not lock.acquire(blocking=False):  # noqa: ASYNC110 (the holder may be another loop)
        await asyncio.sleep(poll_interval)
    try:
        yield
    finally:
        lock.release()


# --------------------------------------------------------------------------- values


@dataclass(frozen=True)
class FeeQuote:
    """EIP-1559 fees for the next block, in wei per gas."""

    base_fee: int
    max_priority_fee_per_gas: int
    max_fee_per_gas: int

    @classmethod
    def from_node(cls, base_fee: int, priority_fee: int, *, cap: int) -> FeeQuote:
        """`2 x base fee + tip` (room for six full blocks of base-fee rises), capped at `cap`;
        TransactionError when even `base fee + tip` is above the cap (nothing is signed)."""
        if base_fee < 0 or priority_fee < 0:
            raise ChainError("the node reported a negative fee")
        if base_fee + priority_fee > cap:
            raise TransactionError(
                f"gas is too expensive right now: the node asks {_gwei(base_fee + priority_fee)} "
                f"gwei per gas, above the cap of {_gwei(cap)} gwei; nothing was signed. "
                "Try again later."
            )
        return cls(base_fee, priority_fee, min(2 * base_fee + priority_fee, cap))


@dataclass(frozen=True)
class Call:
    """One contract call the wallet will make (value 0)."""

    step: str  # "approve" / "stake": how messages name it
    to: str
    data: str  # 0x-prefixed calldata


@dataclass(frozen=True)
class Allowance:
    """`owner` lets `spender` take `amount` of `token` (what an approve grants)."""

    token: str
    owner: str
    spender: str
    amount: int

    def read_call(self) -> Call:
        """`allowance(owner, spender)` on the token, as a call."""
        data = (_ALLOWANCE + self.owner.lower().removeprefix("0x").rjust(64, "0")
                + self.spender.lower().removeprefix("0x").rjust(64, "0"))
        return Call("allowance read", self.token, data)


@dataclass(frozen=True)
class SimulatedCall:
    """What a simulation of `call` from the wallet said: it succeeded, using `gas_used`."""

    call: Call
    gas_used: int
    return_data: bytes

    @property
    def gas_limit(self) -> int:
        """A gas limit that covers this call when sent (see SIMULATED_GAS_MARGIN)."""
        return math.ceil(self.gas_used * SIMULATED_GAS_MARGIN)


def _gwei(wei: int) -> str:
    return tokens_str(wei, 9)


def _params(wallet: str | None, call: Call) -> TxParams:
    params = {"to": call.to, "data": call.data} | ({"from": wallet} if wallet else {})
    return cast("TxParams", params)


def _word(value: int) -> str:
    return "0x" + value.to_bytes(32, "big").hex()


# --------------------------------------------------------------------------- the node


class Node:
    """One wallet's session with the first RPC endpoint that answers (see the module docstring).

    Use as `async with Node(urls, chain_id=..., timeout=...) as node:`; `first_read(fn)` runs
    `fn(w3)` on each endpoint in turn until one answers, and pins that endpoint.
    """

    def __init__(self, rpc_urls: Sequence[str], *, chain_id: int, timeout: float) -> None:
        if not rpc_urls:
            raise ChainError("no RPC URL configured (BASE_RPC_URL)")
        self.chain_id = chain_id
        self._urls = tuple(rpc_urls)
        self._timeout = timeout
        self._opened: list[AsyncWeb3[Any]] = []
        self._w3: AsyncWeb3[Any] | None = None
        self.host = ""
        self._last_nonce: dict[str, int] = {}

    def _connect(self, url: str) -> AsyncWeb3[Any]:
        provider = AsyncWeb3.AsyncHTTPProvider(
            url,
            request_kwargs={"timeout": aiohttp.ClientTimeout(total=self._timeout)},
            exception_retry_configuration=None,  # retries are decided here, per call
            cache_allowed_requests=True,  # the chain id, which web3 asks before many calls
        )
        w3: AsyncWeb3[Any] = AsyncWeb3(provider)
        self._opened.append(w3)
        return w3

    async def __aenter__(self) -> Node:
        return self

    async def __aexit__(self, *exc: object) -> None:
        opened, self._opened = self._opened, []
        for w3 in opened:
            with contextlib.suppress(Exception):
                await w3.provider.disconnect()

    @property
    def w3(self) -> AsyncWeb3[Any]:
        if self._w3 is None:
            raise RuntimeError("Node.first_read() has not found an endpoint yet")
        return self._w3

    async def first_read(self, read: Callable[[AsyncWeb3[Any]], Awaitable[_T]]) -> _T:
        """`read(w3)` on each endpoint in order until one answers; that endpoint is kept.

        Only transport failures move on to the next endpoint: a JSON-RPC error is an answer.
        """
        tried: list[str] = []
        for position, url in enumerate(self._urls, start=1):
            host = redact_url(url)
            w3 = self._connect(url)
            try:
                result = await read(w3)
            except CONNECTION_ERRORS as exc:
                if position < len(self._urls):
                    log.warning("RPC endpoint %s failed (%s); trying the next one", host,
                                type(exc).__name__)
                tried.append(f"{host} ({type(exc).__name__})")
                continue
            except Web3RPCError as exc:
                raise ChainError(f"{host} refused a read: {rpc_message(exc)}") from None
            except BadFunctionCallOutput:
                raise  # a contract call with nothing to decode: the caller says which contract
            except Web3Exception as exc:
                raise ChainError(f"{host} gave an unusable answer ({type(exc).__name__})") from None
            self._w3, self.host = w3, host
            return result
        raise ChainUnreachableError("no RPC endpoint answered: " + "; ".join(tried))

    async def request(self, what: str, request: Awaitable[_T]) -> _T:
        """One request to the pinned endpoint; transport and RPC errors become ChainError."""
        try:
            return await request
        except CONNECTION_ERRORS as exc:
            raise ChainUnreachableError(
                f"{self.host} stopped answering ({type(exc).__name__}) during {what}") from None
        except ContractLogicError:
            raise
        except Web3RPCError as exc:
            raise ChainError(f"{self.host} refused {what}: {rpc_message(exc)}") from None
        except Web3Exception as exc:
            raise ChainError(f"{self.host} gave an unusable answer to {what} "
                             f"({type(exc).__name__})") from None

    # ------------------------------------------------------------------ fees

    async def quote(self, wallet: str, *,
                    cap: int = MAX_FEE_PER_GAS_CAP) -> tuple[FeeQuote, int, int]:
        """One batch before signing: (fees under `cap`, the wallet's ETH in wei, its next nonce:
        the pending count, never below a nonce this Node already used)."""
        address = cast("ChecksumAddress", wallet)
        async with self.w3.batch_requests() as batch:
            batch.add(self.w3.eth.get_block("latest"))
            batch.add(self.w3.eth.max_priority_fee)
            batch.add(self.w3.eth.get_balance(address))
            batch.add(self.w3.eth.get_transaction_count(address, "pending"))
            answers: list[Any] = await self.request("reading fees, balance and nonce",
                                                    batch.async_execute())
        block, tip, eth, pending = answers
        used = self._last_nonce.get(wallet.lower())
        nonce = int(pending) if used is None else max(int(pending), used + 1)
        fees = FeeQuote.from_node(int(block.get("baseFeePerGas", 0)), int(tip), cap=cap)
        return fees, int(eth), nonce

    async def l1_fee_upper_bound(self, call: Call, *, oracle_present: bool) -> int:
        """Base's L1 data fee for `call` (an upper bound, wei); 0 where there is no oracle
        (a chain that is not an OP Stack chain, such as a plain local node)."""
        if not oracle_present:
            return 0
        size = _TX_ENVELOPE_BYTES + (len(call.data) - 2) // 2
        query = Call("L1 fee read", GAS_PRICE_ORACLE, _L1_FEE_UPPER_BOUND + _word(size)[2:])
        try:
            raw = bytes(await self.request("reading Base's L1 data fee",
                                           self.w3.eth.call(_params(None, query))))
        except ContractLogicError:
            raw = b""  # an oracle without getL1FeeUpperBound: refused below, not guessed
        if len(raw) != 32:
            raise ChainError(f"the GasPriceOracle at {GAS_PRICE_ORACLE} did not quote "
                             "getL1FeeUpperBound, so the L1 data fee cannot be priced; nothing "
                             "was signed")
        fee = int.from_bytes(raw, "big")
        if fee > MAX_L1_FEE_CAP:
            raise TransactionError(
                f"Base's L1 data fee is too expensive right now: up to {tokens_str(fee)} ETH for "
                f"the {call.step}, above the cap of {tokens_str(MAX_L1_FEE_CAP)} ETH; the "
                f"{call.step} was not signed. Try again later.")
        return fee

    # ------------------------------------------------------------------ simulation

    async def simulate(self, wallet: str, calls: Sequence[Call], *,
                       granted: Allowance | None = None) -> tuple[list[SimulatedCall], str]:
        """Simulate `calls` in order, from `wallet`, on the latest block; (results, method).

        eth_simulateV1 runs them as one sequence, so the stake sees the approve's allowance.
        A node without it gets each call as an eth_call + eth_estimateGas instead, the later
        calls on a state override in which the allowance the first call grants (`granted`)
        is already in place; the override is proven before it is trusted (see
        `allowance_override`). SimulationRevertedError when any call reverts.
        """
        try:
            return await self._simulate_v1(wallet, calls), "eth_simulateV1"
        except MethodUnavailable:
            log.info("%s has no eth_simulateV1; simulating with eth_call", self.host)
        except Web3RPCError as exc:
            log.info("%s refused eth_simulateV1 (%s); simulating with eth_call", self.host,
                     rpc_message(exc))
        return await self.simulate_each(wallet, calls, granted=granted)

    async def simulate_each(self, wallet: str, calls: Sequence[Call], *,
                            granted: Allowance | None = None
                            ) -> tuple[list[SimulatedCall], str]:
        """The eth_call fallback of `simulate` (public so tests can run it on any node)."""
        override = None
        if len(calls) > 1:
            if granted is None:
                raise TransactionError("cannot simulate dependent calls without knowing what "
                                       "the first one grants; nothing was signed")
            override = await self.allowance_override(wallet, granted)
        results = []
        for position, call in enumerate(calls):
            state = override if position > 0 else None
            gas = await self.estimate_gas(wallet, call, state_override=state)
            returned = await self._call(wallet, call, state_override=state)
            results.append(SimulatedCall(call, gas, returned))
        return results, "eth_call" if override is None else "eth_call+state-override"

    async def allowance_override(self, wallet: str, granted: Allowance) -> StateOverride:
        """A state override in which `allowance(owner, spender)` on `token` reads `amount`.

        The slot is not assumed (token layouts differ, proxies add slots): eth_createAccessList
        lists what the allowance read touches, and a candidate is used only once an eth_call
        under it returns exactly `amount`. TransactionError if none does: nothing is signed
        without an honest simulation.
        """
        read = granted.read_call()
        tx = _params(wallet, read)
        found = await self.request("listing the storage an allowance read touches",
                                self.w3.eth.create_access_list(tx, "latest"))
        for entry in found.get("accessList", []):
            if str(entry["address"]).lower() != granted.token.lower():
                continue
            for slot in entry.get("storageKeys", []):
                override: Any = {granted.token: {"stateDiff": {slot: _word(granted.amount)}}}
                try:
                    returned = await self._call(wallet, read, state_override=override)
                except (TransactionError, ChainError):
                    continue
                if returned == bytes.fromhex(_word(granted.amount)[2:]):
                    return cast("StateOverride", override)
        raise TransactionError(
            f"{self.host} supports neither eth_simulateV1 nor a provable state override of the "
            "allowance, so the stake cannot be simulated before the approve is mined; nothing "
            "was signed. Use an RPC endpoint with eth_simulateV1 (BASE_RPC_URL).")

    async def _simulate_v1(self, wallet: str, calls: Sequence[Call]) -> list[SimulatedCall]:
        payload: Any = {
            "blockStateCalls": [{"calls": [
                {"from": wallet, "to": c.to, "data": c.data} for c in calls]}],
            "validation": False,  # gas money is checked by the caller against real fees
        }
        try:
            blocks = await self.w3.eth.simulate_v1(payload, "latest")
        except CONNECTION_ERRORS as exc:
            raise ChainUnreachableError(f"{self.host} stopped answering ({type(exc).__name__}) "
                                        "during the simulation; nothing was signed") from None
        outcomes = blocks[0]["calls"] if blocks else []
        if len(outcomes) != len(calls):
            raise TransactionError(f"{self.host} answered eth_simulateV1 with {len(outcomes)} "
                                   f"results for {len(calls)} calls; nothing was signed")
        results = []
        for call, outcome in zip(calls, outcomes, strict=True):
            returned = bytes(outcome.get("returnData") or b"")
            if int(outcome["status"]) != 1:
                error: Any = outcome.get("error") or {}
                fallback = str(error.get("message") or "execution reverted")
                raise _reverted(call, revert_reason(returned, fallback))
            _check_returned_true(call, returned)
            results.append(SimulatedCall(call, int(outcome["gasUsed"]), returned))
        return results

    async def _call(self, wallet: str, call: Call, *,
                    state_override: StateOverride | None = None) -> bytes:
        tx = _params(wallet, call)
        try:
            returned = bytes(await self.request(
                f"simulating the {call.step}", self.w3.eth.call(tx, "latest", state_override)))
        except ContractLogicError as exc:
            raise _reverted(call, rpc_message(exc)) from None
        _check_returned_true(call, returned)
        return returned

    async def estimate_gas(self, wallet: str, call: Call, *,
                           state_override: StateOverride | None = None) -> int:
        """eth_estimateGas of `call` from `wallet`: itself a simulation (a revert raises)."""
        tx = _params(wallet, call)
        try:
            return int(await self.request(f"estimating the {call.step}'s gas",
                                       self.w3.eth.estimate_gas(tx, "latest", state_override)))
        except ContractLogicError as exc:
            raise _reverted(call, rpc_message(exc)) from None

    # ------------------------------------------------------------------ sending

    async def send(self, signer: TransactionSigner, call: Call, *, gas_limit: int,
                   fees: FeeQuote, nonce: int,
                   on_signed: Callable[[str], None] | None = None) -> str:
        """Sign `call` (EIP-1559, this chain's id) and send it; returns its hash.

        `on_signed(tx_hash)` runs before the bytes leave the process, so a caller that is
        interrupted mid-send still knows which hash to look for. A JSON-RPC refusal means the
        node did not take it; a transport failure is settled by asking for it by hash.
        """
        tx = {
            "type": 2,
            "chainId": self.chain_id,
            "nonce": nonce,
            "to": call.to,
            "value": 0,
            "data": call.data,
            "gas": gas_limit,
            "maxFeePerGas": fees.max_fee_per_gas,
            "maxPriorityFeePerGas": fees.max_priority_fee_per_gas,
        }
        raw = signer.sign_transaction(tx)
        tx_hash = "0x" + keccak(raw).hex()
        self._last_nonce[signer.address.lower()] = nonce
        if on_signed is not None:
            on_signed(tx_hash)
        try:
            await self.w3.eth.send_raw_transaction(raw)
        except Web3RPCError as exc:
            message = rpc_message(exc)
            if "already known" not in message.lower():
                self._last_nonce.pop(signer.address.lower(), None)
                raise TransactionRefusedError(
                    f"{self.host} refused the {call.step} transaction {tx_hash}: {message}. "
                    "It was not sent.", tx_hash=tx_hash) from None
        except _LOOKUP_ERRORS as exc:  # did it arrive? ask the node for it
            if not await self._known(tx_hash):
                raise TransactionError(
                    f"sending the {call.step} transaction {tx_hash} failed "
                    f"({type(exc).__name__}) and {self.host} does not know it: it was most "
                    "likely not sent. Look the hash up on a block explorer before retrying.",
                    tx_hash=tx_hash) from None
        log.info("%s transaction %s sent (nonce %d)", call.step, tx_hash, nonce)
        return tx_hash

    async def _known(self, tx_hash: str) -> bool | None:
        """Whether the node holds `tx_hash` (pending or mined); None if it cannot tell."""
        try:
            await self.w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
        except TransactionNotFound:
            return False
        except _LOOKUP_ERRORS:
            return None
        return True

    async def wait_for_receipt(self, call: Call, tx_hash: str, *, receipt_timeout: float,
                               poll_interval: float) -> Any:
        """The receipt of `tx_hash`; TransactionRevertedError if it reverted, and
        TransactionTimeoutError (with what the node knows of it) if none comes in `timeout`.

        Transient RPC failures while polling are tolerated until the deadline.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + receipt_timeout
        while True:
            try:
                receipt = await self.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
            except TransactionNotFound:
                receipt = None
            except _LOOKUP_ERRORS as exc:
                log.warning("polling %s for the receipt of %s failed (%s)", self.host, tx_hash,
                            type(exc).__name__)
                receipt = None
            if receipt is not None:
                break
            if loop.time() >= deadline:
                known = await self._known(tx_hash)
                state = {True: "the node still holds it as pending, so it may yet be mined",
                         False: "the node no longer knows it (dropped or replaced)",
                         None: "the node could not say whether it still holds it"}[known]
                raise TransactionTimeoutError(
                    f"the {call.step} transaction {tx_hash} was sent but not mined within "
                    f"{receipt_timeout:g} s; {state}.",
                    tx_hash=tx_hash, pending=known)
            await asyncio.sleep(poll_interval)
        answered = receipt.get("transactionHash")
        if answered is None or "0x" + bytes(answered).hex() != tx_hash.lower():
            # A receipt is evidence only of the transaction it names: a node that hands out
            # another one's (a lie or a bug) says nothing about ours, and nothing more is signed.
            raise TransactionError(
                f"{self.host} answered the receipt request for the {call.step} transaction "
                f"{tx_hash} with the receipt of another transaction, so this node cannot be "
                f"trusted: look {tx_hash} up on a block explorer, or use another RPC endpoint "
                "(BASE_RPC_URL).", tx_hash=tx_hash)
        if int(receipt["status"]) != 1:
            raise TransactionRevertedError(
                f"the {call.step} transaction {tx_hash} was mined in block "
                f"{receipt['blockNumber']} but reverted (it paid {fee_paid(receipt)} wei of "
                "gas and changed nothing).", tx_hash=tx_hash)
        log.info("%s transaction %s mined in block %d", call.step, tx_hash,
                 receipt["blockNumber"])
        return receipt


def fee_paid(receipt: Any) -> int:
    """Wei a mined transaction cost: gas used x effective gas price, plus Base's L1 data fee
    (`l1Fee` in OP Stack receipts; absent elsewhere)."""
    l1 = receipt.get("l1Fee") or 0
    if isinstance(l1, str):
        l1 = int(l1, 16)
    return int(receipt["gasUsed"]) * int(receipt["effectiveGasPrice"]) + int(l1)


def _reverted(call: Call, reason: str) -> SimulationRevertedError:
    return SimulationRevertedError(
        f"the {call.step} would revert ({reason}) when simulated from the wallet, so it was not "
        "signed", step=call.step, reason=reason)


def _check_returned_true(call: Call, returned: bytes) -> None:
    """An ERC-20 `approve` returns true (or, in old tokens, nothing); false is a failure."""
    if call.step == "approve" and returned and int.from_bytes(returned[:32], "big") != 1:
        raise _reverted(call, "approve returned false")
