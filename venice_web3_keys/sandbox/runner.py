"""`Sandbox`: the local chain and the Venice API emulator, started and stopped as one unit.

The emulator is served by uvicorn on a daemon thread of this process, so tests can reach its
Python API (`sandbox.emulator`: faults, clock, mint variant) while clients talk to it over real
loopback HTTP. uvicorn is imported only when a sandbox starts.
"""

from __future__ import annotations

import socket
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from venice_web3_keys.errors import ConfigError, VeniceKeysError
from venice_web3_keys.sandbox import DEFAULT_STARTING_USD, MINT_VARIANTS
from venice_web3_keys.sandbox.chain import LocalChain
from venice_web3_keys.secret import SecretValue, get_logger

if TYPE_CHECKING:
    import uvicorn

    from venice_web3_keys.sandbox.emulator import EmulatorState

log = get_logger("venice_web3_keys.sandbox.runner")

_START_TIMEOUT = 15.0


class Sandbox:
    """A running chain + emulator pair. Create with `Sandbox.start()`; stop with `stop()`."""

    def __init__(self, chain: LocalChain, emulator: EmulatorState, server: uvicorn.Server,
                 thread: threading.Thread, port: int, mint_variant: str) -> None:
        self.chain = chain
        self.emulator = emulator
        self.port = port
        self.default_mint_variant = mint_variant
        self.api_base_url = f"http://127.0.0.1:{port}/api/v1"
        self.ready_seconds = 0.0
        self._server = server
        self._thread = thread
        self._stopped = False

    @property
    def rpc_url(self) -> str:
        return self.chain.rpc_url

    @property
    def chain_id(self) -> int:
        return self.chain.chain_id

    @classmethod
    def start(cls, *, mint_variant: str = "jwt", persist_path: Path | None = None,
              port: int = 0, chain_id: int = 8453,
              starting_usd: Decimal | int | str = DEFAULT_STARTING_USD) -> Sandbox:
        """Start anvil, then the emulator on 127.0.0.1:`port` (0 = a free port).

        Balances: each account gets `starting_usd` of USD credit, and its DIEM follows the
        wallet's DIEM token balance on the chain (`new_wallet(diem=5)` -> 5 DIEM a day).
        """
        if mint_variant not in MINT_VARIANTS:
            raise ConfigError(f"mint variant must be one of {', '.join(MINT_VARIANTS)}")
        try:
            usd = Decimal(str(starting_usd))
        except ArithmeticError:
            usd = Decimal(-1)
        if not usd.is_finite() or usd < 0:
            raise ConfigError("starting USD credit must be a number >= 0")
        began = time.perf_counter()
        sock = _bind_loopback(port)  # first: a busy --port fails before anvil starts
        try:
            chain = LocalChain.start(chain_id=chain_id)
        except BaseException:
            sock.close()
            raise
        try:
            import uvicorn

            from venice_web3_keys.sandbox.emulator import EmulatorState, create_app

            try:
                state = EmulatorState(rpc_url=chain.rpc_url, chain_id=chain_id,
                                      mint_variant=mint_variant,  # type: ignore[arg-type]
                                      persist_path=persist_path, starting_usd=usd)
            except (ValueError, OSError) as exc:  # an unreadable --persist file
                raise ConfigError(str(exc)) from None
            config = uvicorn.Config(create_app(state), log_level="warning", access_log=False,
                                    lifespan="on", timeout_graceful_shutdown=2)
            server = uvicorn.Server(config)
            bound_port = int(sock.getsockname()[1])
            thread = threading.Thread(target=_serve, args=(server, sock),
                                      name=f"venice-emulator-{bound_port}", daemon=True)
            thread.start()
            deadline = time.monotonic() + _START_TIMEOUT
            while not server.started:
                if not thread.is_alive() or time.monotonic() > deadline:
                    server.should_exit = True
                    raise VeniceKeysError("the Venice API emulator failed to start")
                time.sleep(0.005)
        except BaseException:
            sock.close()
            chain.stop()
            raise
        sandbox = cls(chain, state, server, thread, bound_port, mint_variant)
        sandbox.ready_seconds = time.perf_counter() - began
        log.info("sandbox ready in %.3fs: %s, %s", sandbox.ready_seconds, sandbox.api_base_url,
                 chain.rpc_url)
        return sandbox

    def new_wallet(self, **balances: Decimal | int | str) -> tuple[str, SecretValue]:
        """A fresh funded wallet on the sandbox chain (see `LocalChain.new_wallet`)."""
        return self.chain.new_wallet(**balances)

    def env(self, wallet_private_key: SecretValue | None = None) -> dict[str, str]:
        """The settings a client needs to use this sandbox, as environment / .env entries."""
        values = {
            "VENICE_API_BASE_URL": self.api_base_url,
            "BASE_RPC_URL": self.rpc_url,
            "VENICE_CHAIN_ID": str(self.chain_id),
        }
        if wallet_private_key is not None:
            values["VENICE_WALLET_PRIVATE_KEY"] = wallet_private_key.reveal()
        return values

    def reset_test_state(self) -> None:
        """Undo what a test may have switched: faults, latency, mint variant, a fake clock,
        the create limit.

        Accounts and keys stay: tests isolate themselves with fresh wallets, which is far
        cheaper than restarting the emulator.
        """
        from venice_web3_keys.sandbox.emulator.clock import SystemClock
        from venice_web3_keys.sandbox.emulator.state import CREATIONS_PER_MINUTE

        self.emulator.faults.clear()  # also sets the global latency back to 0
        self.emulator.mint_variant = self.default_mint_variant
        self.emulator.clock = SystemClock()
        self.emulator.create_limit = CREATIONS_PER_MINUTE
        self.emulator.create_window = 60.0

    def stop(self) -> None:
        """Stop uvicorn (graceful, then forced) and anvil. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        self.emulator.release_hangs()  # a request held open by a `hang` fault would block exit
        self._server.should_exit = True
        self._thread.join(timeout=5)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(timeout=2)
        self.chain.stop()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"Sandbox(api_base_url={self.api_base_url!r}, rpc_url={self.rpc_url!r})"


def _bind_loopback(port: int) -> socket.socket:
    """Bind before serving so the port is known at once and no other process can take it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}") from None
    sock.set_inheritable(True)
    return sock


def _serve(server: Any, sock: socket.socket) -> None:
    try:
        server.run(sockets=[sock])
    except BaseException:  # a crashed server must not kill the host process from a thread
        log.exception("the Venice API emulator stopped with an error")
    finally:
        sock.close()
