"""Fixtures for the emulator tests: a real anvil chain and the emulator on loopback HTTP.

Loaded by the emulator test modules with `pytest_plugins`. The server is real uvicorn on a free
port in a thread, shared by the session; each test plugs in a fresh emulator with a FakeClock.
The chain is the sandbox's LocalChain (anvil, chain id 8453, tokens at the mainnet addresses).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.sandbox.emulator_support import Emu, ServerThread, SwappableApp
from venice_web3_keys.sandbox.chain import LocalChain
from venice_web3_keys.sandbox.emulator import EmulatorState, FakeClock, create_app


@pytest.fixture(scope="session")
def emu_chain() -> Iterator[LocalChain]:
    local = LocalChain.start()
    try:
        yield local
    finally:
        local.stop()


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
def emu(emu_chain: LocalChain, emu_server: tuple[SwappableApp, int]) -> Iterator[Emu]:
    swappable, port = emu_server
    clock = FakeClock()
    state = EmulatorState(rpc_url=emu_chain.rpc_url, clock=clock)
    swappable.app = create_app(state)
    origin = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=f"{origin}/api/v1", timeout=10) as http:
        try:
            yield Emu(state, clock, f"{origin}/api/v1", origin, http, emu_chain)
        finally:
            state.release_hangs()
