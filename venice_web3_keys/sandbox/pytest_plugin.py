"""pytest fixtures for testing your own code against the sandbox (entry point `pytest11`).

    def test_my_integration(venice_sandbox, venice_wallet):
        address, private_key = venice_wallet
        settings = venice_sandbox.env(private_key)   # VENICE_API_BASE_URL, BASE_RPC_URL, ...

One sandbox (anvil + emulator, ~0.1-0.5 s) serves the whole session; each test gets it back
with faults, latency, mint variant and clock restored, and isolates itself with fresh wallets.
pytest loads this module in every run of every project that installs the package, so it
imports nothing heavy and starts nothing until a fixture is requested.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from venice_web3_keys.sandbox.chain import LocalChain
    from venice_web3_keys.sandbox.runner import Sandbox
    from venice_web3_keys.secret import SecretValue


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("venice_sandbox", "venice-web3-keys sandbox")
    group.addoption("--venice-sandbox-variant", choices=("jwt", "siwe"), default="jwt",
                    help="default web3 mint variant of the venice_sandbox fixtures (default: jwt)")


@pytest.fixture(scope="session")
def venice_sandbox_session(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """One chain + emulator for the whole session; stopped (anvil by PID) at the end."""
    from venice_web3_keys.sandbox.runner import Sandbox

    variant = str(request.config.getoption("--venice-sandbox-variant"))
    sandbox = Sandbox.start(mint_variant=variant)
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture
def venice_sandbox(venice_sandbox_session: Sandbox) -> Iterator[Sandbox]:
    """The session sandbox; after the test, faults/latency/variant/clock are reset."""
    try:
        yield venice_sandbox_session
    finally:
        venice_sandbox_session.reset_test_state()


@pytest.fixture
def venice_chain(venice_sandbox_session: Sandbox) -> LocalChain:
    """The sandbox's local chain (anvil, chain id 8453, tokens at the mainnet addresses)."""
    return venice_sandbox_session.chain


@pytest.fixture
def venice_wallet(venice_sandbox_session: Sandbox) -> tuple[str, SecretValue]:
    """A fresh wallet holding 1 ETH and 100 sVVV: (checksummed address, private key)."""
    return venice_sandbox_session.new_wallet()
