"""Fixtures for the emulator tests: a real anvil chain and the emulator on loopback HTTP.

Loaded by the emulator test modules with `pytest_plugins`. The server is real uvicorn on a free
port in a thread, shared by the session; each test plugs in a fresh emulator with a FakeClock.
The chain is the session sandbox's LocalChain (anvil, chain id 8453, tokens at the mainnet
addresses), rolled back after each test (`venice_isolated_chain` of the package's plugin).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.harness import PLAIN_HTTP
from tests.sandbox.emulator_support import Emu, ServerThread, SwappableApp
from venice_web3_keys.sandbox.chain import LocalChain
from venice_web3_keys.sandbox.emulator import EmulatorState, FakeClock, create_app


@pytest.fixture(scope="session")
def emu_server() -> Iterator[tuple[SwappableApp, int]]:
    swappable = SwappableApp()
    server = ServerThread(swappable)
    port = server.start()
    try:
        yield swappable, port
    finally:
        server.stop()


@pytest.fixture
def emu(venice_isolated_chain: LocalChain, emu_server: tuple[SwappableApp, int]) -> Iterator[Emu]:
    """A fresh emulator (FakeClock) on the session's uvicorn and the session's chain, which is
    rolled back after the test."""
    swappable, port = emu_server
    clock = FakeClock()
    state = EmulatorState(rpc_url=venice_isolated_chain.rpc_url, clock=clock)
    swappable.app = create_app(state)
    origin = f"http://127.0.0.1:{port}"
    with httpx.Client(verify=PLAIN_HTTP, base_url=f"{origin}/api/v1", timeout=10) as http:
        try:
            yield Emu(state, clock, f"{origin}/api/v1", origin, http, venice_isolated_chain)
        finally:
            state.release_hangs()
