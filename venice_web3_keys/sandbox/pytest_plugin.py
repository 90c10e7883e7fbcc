"""pytest fixtures for testing your own code against the sandbox (entry point `pytest11`).

Installing venice-web3-keys makes these fixtures available in any pytest run; they need the
anvil binary (`npm install @foundry-rs/anvil`, or Foundry, or VENICE_ANVIL_BIN):

    venice_sandbox     the running `Sandbox` (.api_base_url, .rpc_url, .chain, .emulator, .env())
    venice_chain       its `LocalChain` (fund(), balance_of(), snapshot()/revert())
    venice_isolated_chain  the same chain, rolled back after the test (evm_snapshot/evm_revert)
    venice_wallet      a fresh wallet with 1 ETH and 100 sVVV: (address, private key SecretValue)
    venice_admin_key   an ADMIN key (ApiKeySecret) in venice_wallet's account, made without a mint
    venice_sandbox_session  the session-scoped sandbox behind them (no reset between tests)

    def test_my_integration(venice_sandbox, venice_wallet, venice_admin_key):
        address, private_key = venice_wallet
        env = venice_sandbox.env(private_key)   # VENICE_API_BASE_URL, BASE_RPC_URL, ...
        env["VENICE_ADMIN_KEY"] = venice_admin_key.reveal()
        venice_sandbox.emulator.faults.add("POST /api_keys", Fault.commit_then_fail())

One sandbox (anvil + emulator) serves the whole session (with pytest-xdist: one per worker,
each on its own free ports); after each test its faults, latency, mint variant and clock are
restored, and tests isolate themselves with fresh wallets (accounts and keys are kept). A test
that changes what others may read (code, storage or balances at fixed addresses) takes
`venice_isolated_chain`, which undoes it all when the test ends. Accounts start with $10 of USD
credit and follow the wallet's DIEM on chain, so a fresh wallet's keys pass
`rate_limits.accessPermitted`. `--venice-sandbox-variant=siwe` switches the default mint to the
pending SIWE challenge.

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
    from venice_web3_keys.secret import ApiKeySecret, SecretValue


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
def venice_isolated_chain(venice_sandbox_session: Sandbox) -> Iterator[LocalChain]:
    """The sandbox's chain, reverted to its state before the test once the test ends.

    A chain snapshot costs one RPC round trip, against a second or so for a new anvil with
    the tokens deployed; `evm_revert` also undoes `anvil_setCode` and `anvil_setStorageAt`.
    """
    chain = venice_sandbox_session.chain
    snapshot = chain.snapshot()
    try:
        yield chain
    finally:
        chain.revert(snapshot)


@pytest.fixture
def venice_wallet(venice_sandbox_session: Sandbox) -> tuple[str, SecretValue]:
    """A fresh wallet holding 1 ETH and 100 sVVV: (checksummed address, private key)."""
    return venice_sandbox_session.new_wallet()


@pytest.fixture
def venice_admin_key(venice_sandbox_session: Sandbox,
                     venice_wallet: tuple[str, SecretValue]) -> ApiKeySecret:
    """An ADMIN key in the account of `venice_wallet`, as if that wallet had minted it.

    Made through the emulator's Python API (no mint, so it does not use one of the account's
    20 creations a minute); use it as VENICE_ADMIN_KEY for admin routes.
    """
    _, secret = venice_sandbox_session.emulator.create_account_with_admin_key(venice_wallet[0])
    return secret
