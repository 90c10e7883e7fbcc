"""A local stand-in for Base: anvil, chain id 8453, the Venice contracts at the real addresses.

Base mainnet is not reachable from tests, so the sandbox runs anvil (the npm-packaged binary) and
uses its cheat RPCs to put committed, precompiled Vyper contracts at the mainnet addresses: a
standard ERC-20 (contracts/Token.vy) for VVV and DIEM, and at the staking address a contract
(contracts/Staking.vy) that is itself the sVVV ERC-20 and takes `stake(address,uint256)`: it pulls
VVV with `transferFrom` and credits sVVV 1:1. Client code therefore runs unchanged: same chain id,
same addresses, same calls. These emulate the contracts' public interface, not their internals
(the real staking contract's accounting, cooldown and unstaking are not reproduced). Balances are
written straight into storage, which is why the storage layouts are fixed (see the .vy files).

JSON-RPC goes over plain httpx (about 1 ms a call locally); web3 is never imported here.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import queue
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import httpx
from eth_hash.auto import keccak

from venice_web3_keys.addresses import HEX_ADDRESS
from venice_web3_keys.amounts import to_base_units
from venice_web3_keys.bounded_http import tls_context
from venice_web3_keys.errors import ChainError, ConfigError, InvalidInputError
from venice_web3_keys.sandbox._process import die_with_parent, terminate
from venice_web3_keys.secret import SecretValue, get_logger, redact_url
from venice_web3_keys.settings import (
    DEFAULT_DIEM_TOKEN,
    DEFAULT_STAKING_CONTRACT,
    DEFAULT_VVV_TOKEN,
)

log = get_logger("venice_web3_keys.sandbox.chain")

# The Base mainnet addresses the client defaults to, so client code runs unchanged here.
STAKING_CONTRACT = DEFAULT_STAKING_CONTRACT
VVV_TOKEN = DEFAULT_VVV_TOKEN
DIEM_TOKEN = DEFAULT_DIEM_TOKEN

#: symbol -> (address, ERC-20 name) of every token the sandbox deploys.
TOKENS: dict[str, tuple[str, str]] = {
    "sVVV": (STAKING_CONTRACT, "Staked VVV"),
    "VVV": (VVV_TOKEN, "Venice Token"),
    "DIEM": (DIEM_TOKEN, "Diem"),
}
#: symbol -> the contract (contracts/<name>.vy) deployed at its address
CONTRACT_OF: dict[str, str] = {"sVVV": "Staking", "VVV": "Token", "DIEM": "Token"}

# Storage slots of Token.vy, which Staking.vy initializes first so they hold for both, plus
# Staking's own (checked by scripts/compile_contracts.py when it recompiles).
SLOT_BALANCES = 0
SLOT_ALLOWANCES = 1
SLOT_TOTAL_SUPPLY = 2
SLOT_NAME = 3
SLOT_SYMBOL = 5
SLOT_STAKED_TOKEN = 7

CONTRACTS_DIR = Path(__file__).resolve().parent / "contracts"
_LISTENING = re.compile(rb"Listening on 127\.0\.0\.1:(\d+)")
_START_TIMEOUT = 15.0

INSTALL_HINT = (
    "anvil (the local Ethereum node the sandbox runs) was not found. Run `npm ci` in the "
    "venice-web3-keys repository (it installs @foundry-rs/anvil into node_modules), or "
    "`npm install @foundry-rs/anvil`, or install Foundry (https://getfoundry.sh), or point "
    "VENICE_ANVIL_BIN at an anvil binary."
)


def find_anvil(
    *, environ: Mapping[str, str] | None = None, search_from: Iterable[Path] | None = None
) -> str:
    """Locate the anvil binary: VENICE_ANVIL_BIN, then node_modules upward, then PATH.

    `search_from` defaults to the cwd and this package's directory, so both a repo checkout and
    a project that did `npm install @foundry-rs/anvil` next to its venv work without settings.
    """
    env = os.environ if environ is None else environ
    explicit = env.get("VENICE_ANVIL_BIN")
    if explicit:
        if os.path.isfile(explicit) and os.access(explicit, os.X_OK):
            return explicit
        raise ConfigError(f"VENICE_ANVIL_BIN={explicit} is not an executable file. {INSTALL_HINT}")
    starts = [Path.cwd(), Path(__file__).resolve().parent] if search_from is None else search_from
    for start in starts:
        for directory in (start, *start.parents):
            for candidate in sorted(directory.glob("node_modules/@foundry-rs/anvil-*/bin/anvil")):
                if os.access(candidate, os.X_OK):
                    return str(candidate)
    on_path = shutil.which("anvil", path=env.get("PATH", ""))
    if on_path:
        return on_path
    raise ConfigError(INSTALL_HINT)


def runtime_bytecode(contract: str = "Token") -> str:
    """The committed runtime bytecode of contracts/<contract>.vy, "0x"-prefixed."""
    return (CONTRACTS_DIR / f"{contract}.bin-runtime").read_text().strip()


def to_wei(amount: Decimal | int | str, *, field: str) -> int:
    """Whole tokens (18 decimals) to base units; refuses negatives and sub-wei fractions."""
    return to_base_units(amount, 18, field=field)


def _word(value: int) -> str:
    return "0x" + value.to_bytes(32, "big").hex()


def _short_string_slots(slot: int, text: str) -> list[tuple[int, str]]:
    """Vyper String[32] storage: length in `slot`, the bytes left-aligned in `slot + 1`."""
    data = text.encode()
    if len(data) > 32:
        raise ValueError("token name/symbol longer than 32 bytes")
    return [(slot, _word(len(data))), (slot + 1, "0x" + data.ljust(32, b"\0").hex())]


def _mapping_slot(slot: int, address: str) -> int:
    """Storage slot of `map[address]` for a Vyper HashMap at `slot`: keccak(slot . key)."""
    key = bytes.fromhex(address.lower().removeprefix("0x")).rjust(32, b"\0")
    return int.from_bytes(keccak(slot.to_bytes(32, "big") + key), "big")


def balance_slot(address: str) -> int:
    """Storage slot of `balanceOf[address]`."""
    return _mapping_slot(SLOT_BALANCES, address)


def allowance_slot(owner: str, spender: str) -> int:
    """Storage slot of `allowance[owner][spender]` (a HashMap nested in a HashMap)."""
    return _mapping_slot(_mapping_slot(SLOT_ALLOWANCES, owner), spender)


class ChainRPC:
    """JSON-RPC to a sandbox chain (anvil), with the cheat calls that set balances.

    `LocalChain` (which also owns the anvil process) is one; `ChainRPC.attach()` gives one for
    a sandbox another process runs, e.g. for `venice-keys sandbox fund`.
    """

    def __init__(self, rpc_url: str, chain_id: int) -> None:
        self.rpc_url = rpc_url
        self.chain_id = chain_id
        self._http = httpx.Client(timeout=30.0, verify=tls_context([rpc_url]))
        self._ids = 0
        self._lock = threading.Lock()
        self._stopped = False

    @classmethod
    def attach(cls, rpc_url: str) -> ChainRPC:
        """The running sandbox chain at `rpc_url`: a loopback anvil with the sandbox tokens.

        Anything else is refused before a balance is touched: cheat calls go to no other node.
        """
        host = urlsplit(rpc_url).hostname or ""
        if not _is_loopback(host):
            raise ConfigError(f"{redact_url(rpc_url)} is not a local sandbox chain (loopback "
                              "only): set BASE_RPC_URL to the line `venice-keys sandbox` printed")
        probe = cls(rpc_url, 0)
        try:
            chain_id, client, code = probe.batch([
                ("eth_chainId", []), ("web3_clientVersion", []),
                ("eth_getCode", [STAKING_CONTRACT, "latest"])])
        except (ChainError, ValueError, KeyError, TypeError) as exc:
            probe.close()
            raise ChainError(f"no sandbox chain answers at {redact_url(rpc_url)} "
                             f"({type(exc).__name__}): is `venice-keys sandbox` running?") from None
        if not str(client).lower().startswith("anvil") or \
                str(code).lower() != runtime_bytecode(CONTRACT_OF["sVVV"]).lower():
            probe.close()
            raise ConfigError(f"{redact_url(rpc_url)} is not a venice-keys sandbox chain")
        probe.chain_id = int(str(chain_id), 16)
        return probe

    def close(self) -> None:
        if not self._stopped:
            self._stopped = True
            self._http.close()

    # ---------------------------------------------------------------- JSON-RPC
    def rpc(self, method: str, params: Sequence[Any] = ()) -> Any:
        """One JSON-RPC call; an RPC error becomes ChainError."""
        return self.batch([(method, params)])[0]

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """Several JSON-RPC calls in one HTTP request; results in call order."""
        if self._stopped:
            raise ChainError("the local chain is stopped")
        with self._lock:
            first = self._ids
            self._ids += len(calls)
        body = [{"jsonrpc": "2.0", "id": first + i, "method": m, "params": list(p)}
                for i, (m, p) in enumerate(calls)]
        try:
            response = self._http.post(self.rpc_url, json=body)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise ChainError(f"local chain RPC failed: {type(exc).__name__}") from exc
        by_id = {item["id"]: item for item in response.json()}
        results = []
        for i, (method, _) in enumerate(calls):
            item = by_id[first + i]
            if "error" in item:
                raise ChainError(f"{method} failed: {item['error'].get('message', item['error'])}")
            results.append(item.get("result"))
        return results

    # ---------------------------------------------------------------- tokens and balances
    def _deploy_tokens(self) -> None:
        calls: list[tuple[str, Sequence[Any]]] = [
            # The staking contract pulls VVV from this address when it stakes.
            ("anvil_setStorageAt", [STAKING_CONTRACT, _word(SLOT_STAKED_TOKEN),
                                    _word(int(VVV_TOKEN, 16))]),
        ]
        for symbol, (address, name) in TOKENS.items():
            calls.append(("anvil_setCode", [address, runtime_bytecode(CONTRACT_OF[symbol])]))
            for slot, value in (*_short_string_slots(SLOT_NAME, name),
                                *_short_string_slots(SLOT_SYMBOL, symbol)):
                calls.append(("anvil_setStorageAt", [address, _word(slot), value]))
        self.batch(calls)

    def fund(
        self,
        address: str,
        *,
        eth: Decimal | int | str | None = None,
        vvv: Decimal | int | str | None = None,
        svvv: Decimal | int | str | None = None,
        diem: Decimal | int | str | None = None,
    ) -> None:
        """Set `address`'s balances, in whole tokens; None leaves that balance unchanged.

        Setting (rather than adding) lets a test make a wallet ineligible with `svvv=0`.
        Each token's totalSupply moves by the same delta, so the ERC-20 stays consistent.
        """
        _check_address(address)
        wanted = {"VVV": vvv, "sVVV": svvv, "DIEM": diem}
        targets = {sym: to_wei(v, field=sym.lower()) for sym, v in wanted.items() if v is not None}
        calls: list[tuple[str, Sequence[Any]]] = []
        if eth is not None:
            calls.append(("anvil_setBalance", [address, hex(to_wei(eth, field="eth"))]))
        if targets:
            slot = _word(balance_slot(address))
            reads: list[tuple[str, Sequence[Any]]] = []
            for sym in targets:
                token = TOKENS[sym][0]
                reads += [("eth_getStorageAt", [token, slot, "latest"]),
                          ("eth_getStorageAt", [token, _word(SLOT_TOTAL_SUPPLY), "latest"])]
            raw = [int(x, 16) for x in self.batch(reads)]
            for i, (sym, amount) in enumerate(targets.items()):
                old, supply = raw[2 * i], raw[2 * i + 1]
                token = TOKENS[sym][0]
                calls += [("anvil_setStorageAt", [token, slot, _word(amount)]),
                          ("anvil_setStorageAt",
                           [token, _word(SLOT_TOTAL_SUPPLY), _word(supply - old + amount)])]
        if calls:
            self.batch(calls)

    def new_wallet(
        self,
        *,
        eth: Decimal | int | str = 1,
        vvv: Decimal | int | str = 0,
        svvv: Decimal | int | str = 100,
        diem: Decimal | int | str = 0,
    ) -> tuple[str, SecretValue]:
        """A fresh random wallet, funded: (checksummed address, private key as SecretValue)."""
        from eth_account import Account  # heavy (~0.9 s): only when a wallet is wanted

        account = Account.create()
        address = str(account.address)
        self.fund(address, eth=eth, vvv=vvv, svvv=svvv, diem=diem)
        return address, SecretValue("0x" + bytes(account.key).hex())

    def balance_of(self, token: str, address: str) -> int:
        """`balanceOf(address)` in base units via eth_call; `token` is a symbol or an address."""
        _check_address(address)
        target = TOKENS[token][0] if token in TOKENS else token
        data = "0x70a08231" + address.lower().removeprefix("0x").rjust(64, "0")
        return int(self.rpc("eth_call", [{"to": target, "data": data}, "latest"]), 16)

    def eth_balance(self, address: str) -> int:
        """ETH balance in wei."""
        return int(self.rpc("eth_getBalance", [address, "latest"]), 16)

    def balances(self, address: str) -> dict[str, str]:
        """ETH, VVV, sVVV and DIEM of `address` in whole tokens, as plain decimal strings."""
        from venice_web3_keys.amounts import decimal_str, from_base_units

        out = {"ETH": decimal_str(from_base_units(self.eth_balance(address), 18))}
        for symbol in ("VVV", "sVVV", "DIEM"):
            out[symbol] = decimal_str(from_base_units(self.balance_of(symbol, address), 18))
        return out

    # ---------------------------------------------------------------- snapshots
    def snapshot(self) -> str:
        """An anvil snapshot id; `revert()` returns the whole chain (code, storage, ETH) to it."""
        return str(self.rpc("evm_snapshot"))

    def revert(self, snapshot_id: str) -> None:
        """Revert to a snapshot. Anvil ids are single-use: take a new snapshot to revert again."""
        if self.rpc("evm_revert", [snapshot_id]) is not True:
            raise ChainError(f"unknown or already used snapshot id {snapshot_id}")



class LocalChain(ChainRPC):
    """A running anvil node with the Venice tokens deployed. Create with `LocalChain.start()`."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, chain_id: int) -> None:
        super().__init__(f"http://127.0.0.1:{port}", chain_id)
        self._process = process
        self.pid = process.pid
        self.port = port
        self.ready_seconds = 0.0
        atexit.register(self.stop)

    # ---------------------------------------------------------------- lifecycle
    @classmethod
    def start(cls, *, chain_id: int = 8453, anvil_bin: str | None = None) -> LocalChain:
        """Start anvil on a free loopback port, deploy the tokens; ConfigError/ChainError if not.

        On Linux anvil is told to stop when the thread that started it ends (so also when this
        process is killed): a crashed sandbox leaves no orphan node holding a port.
        """
        began = time.perf_counter()
        binary = anvil_bin or find_anvil()
        args = [binary, "--host", "127.0.0.1", "--port", "0", "--chain-id", str(chain_id),
                "--accounts", "0"]
        # Own session: a terminal's Ctrl-C reaches only our process, which stops anvil in order.
        process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL, start_new_session=True,
                                   preexec_fn=die_with_parent())
        assert process.stdout is not None
        ports: queue.Queue[int | None] = queue.Queue()
        threading.Thread(target=_read_port_then_drain, args=(process.stdout, ports),
                         name=f"anvil-{process.pid}-stdout", daemon=True).start()
        try:
            port = ports.get(timeout=_START_TIMEOUT)
        except queue.Empty:
            port = None
        if port is None:
            terminate(process)
            raise ChainError(f"anvil ({binary}) did not start listening within {_START_TIMEOUT}s "
                             f"(exit code {process.poll()})")
        chain = cls(process, port, chain_id)
        try:
            chain._deploy_tokens()
        except BaseException:
            chain.stop()
            raise
        chain.ready_seconds = time.perf_counter() - began
        log.info("anvil pid %d ready on %s in %.3fs", chain.pid, chain.rpc_url, chain.ready_seconds)
        return chain

    def stop(self) -> None:
        """Stop anvil by its PID (SIGTERM, then SIGKILL). Idempotent."""
        if self._stopped:
            return
        self.close()
        atexit.unregister(self.stop)
        terminate(self._process)

    @property
    def running(self) -> bool:
        return not self._stopped and self._process.poll() is None

    def __enter__(self) -> LocalChain:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"LocalChain(rpc_url={self.rpc_url!r}, pid={self.pid}, chain_id={self.chain_id})"


def _check_address(address: str) -> None:
    if not HEX_ADDRESS.fullmatch(address):
        raise InvalidInputError("not a 0x-prefixed 20-byte hex address", field="address")


def _read_port_then_drain(stream: IO[bytes], ports: queue.Queue[int | None]) -> None:
    """Report the port from anvil's banner, then keep reading so its log never fills the pipe."""
    reported = False
    for line in stream:
        if not reported:
            match = _LISTENING.search(line)
            if match:
                ports.put(int(match.group(1)))
                reported = True
    if not reported:
        ports.put(None)
    with contextlib.suppress(OSError):
        stream.close()


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False

