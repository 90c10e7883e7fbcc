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
