"""Suite-wide settings. Sandbox fixtures come from the package's own pytest plugin."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import settings

from venice_web3_keys.sandbox.chain import LocalChain

# CI runs the same examples every time (a red build must be reproducible from its log);
# locally, hypothesis explores new ones on every run.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(scope="module")
def chain() -> Iterator[LocalChain]:
    """A local chain of the test module's own, for tests that change automining, contract code,
    storage or fees and must not disturb the session sandbox."""
    node = LocalChain.start()
    yield node
    node.stop()


@pytest.fixture
def memory_keyring() -> Iterator[Any]:
    """The active keyring backend, swapped for one that keeps passwords in its `store` dict."""
    keyring = pytest.importorskip("keyring")
    from keyring.backend import KeyringBackend

    class MemoryKeyring(KeyringBackend):
        priority = 1  # type: ignore[assignment]

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
