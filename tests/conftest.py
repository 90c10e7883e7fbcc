"""Suite-wide settings and fixtures, on top of the package's own pytest plugin
(venice_web3_keys/sandbox/pytest_plugin.py: `venice_sandbox`, `venice_wallet`, ...)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import settings

from tests.harness import CliRunner, SandboxAccount
from venice_web3_keys import lean_imports

# As the CLI, MCP server and sandbox do: py_ecc's BLS tables (0.8 s per worker) stay unbuilt;
# tests/core/test_lean_imports.py checks that in fresh interpreters, with and without it.
lean_imports.defer_bls12_381()

if TYPE_CHECKING:
    from venice_web3_keys.sandbox.chain import LocalChain
    from venice_web3_keys.sandbox.runner import Sandbox
    from venice_web3_keys.secret import ApiKeySecret, SecretValue

# CI runs the same examples every time (a red build must be reproducible from its log);
# locally, hypothesis explores new ones on every run.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture
def chain(venice_isolated_chain: LocalChain) -> Iterator[LocalChain]:
    """The worker's sandbox chain, for tests that change automining, contract code, storage or
    fees: when the test ends automining is back on and the chain is rolled back to its state
    before the test (evm_revert), so the session sandbox is undisturbed."""
    try:
        yield venice_isolated_chain
    finally:
        venice_isolated_chain.rpc("evm_setAutomine", [True])


@pytest.fixture
def memory_keyring() -> Iterator[Any]:
    """The active keyring backend, swapped for one that keeps passwords in its `store` dict."""
    keyring = pytest.importorskip("keyring")
    from keyring.backend import KeyringBackend

    class MemoryKeyring(KeyringBackend):
        priority = 1

        def __init__(self) -> None:
            super().__init__()  # type: ignore[no-untyped-call]
            self.store: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self.store.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.store[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            self.store.pop((service, username), None)

    old = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(old)


#: the random tail tests/fakes.py puts on every fake key
_FAKE_KEY_TAIL = re.compile(r"(_KEY_FAKE\w*?)[0-9a-f]{24}")


def pytest_make_parametrize_id(config: pytest.Config, val: object, argname: str) -> str | None:
    """Test ids without the random part of fake keys: pytest-xdist workers collect separately
    and must agree on every id."""
    if isinstance(val, str) and _FAKE_KEY_TAIL.search(val):
        return _FAKE_KEY_TAIL.sub(r"\1", val).encode("unicode_escape").decode("ascii")
    return None


@pytest.fixture
def account(venice_sandbox: Sandbox, venice_wallet: tuple[str, SecretValue],
            venice_admin_key: ApiKeySecret) -> SandboxAccount:
    """A fresh wallet with 100 sVVV and an ADMIN key of its account, on the session sandbox."""
    address, private_key = venice_wallet
    env = venice_sandbox.env(private_key)
    env["VENICE_ADMIN_KEY"] = venice_admin_key.reveal()
    return SandboxAccount(venice_sandbox, address, private_key, venice_admin_key, env)


@pytest.fixture
def admin_env(account: SandboxAccount) -> dict[str, str]:
    """The sandbox settings plus a fresh account's ADMIN key, and no wallet."""
    return {k: v for k, v in account.env.items() if k != "VENICE_WALLET_PRIVATE_KEY"}


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> CliRunner:
    """`cli(*argv, env=...)` runs `venice-keys` in-process; `cli.subprocess(...)` the script."""
    return CliRunner(tmp_path, monkeypatch, capsys)


def pytest_report_header(config: pytest.Config) -> str | None:
    from tests.redis_support import on_ci
    from venice_web3_keys.sandbox.redis_server import INSTALL_HINT, find_redis_server

    if find_redis_server() is None and not on_ci():
        return f"!!! redis-server NOT FOUND: the Redis tests will SKIP; {INSTALL_HINT}"
    return None


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real redis-server on a free loopback port for the whole session (stopped by PID)."""
    from tests.redis_support import on_ci
    from venice_web3_keys.sandbox.redis_server import INSTALL_HINT, LocalRedis, find_redis_server

    if find_redis_server() is None:
        if on_ci():
            pytest.fail(f"CI=true but redis-server is missing: {INSTALL_HINT}")
        pytest.skip("needs redis-server, which is not installed (see the line at the top)")
    with LocalRedis.start(workdir=tmp_path_factory.mktemp("redis")) as server:
        yield server
