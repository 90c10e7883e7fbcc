"""Fixtures for flow tests: real sandbox (anvil + emulator over loopback), fresh accounts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from venice_web3_keys.api import AsyncVeniceKeys
from venice_web3_keys.secret import SecretValue
from venice_web3_keys.settings import Settings, load_settings


@dataclass
class Account:
    address: str
    private_key: SecretValue
    admin_key: SecretValue | None
    settings: Settings


def make_settings(sandbox: Any, *, private_key: SecretValue | None = None,
                  admin_key: SecretValue | None = None, **overrides: Any) -> Settings:
    environ = dict(sandbox.env(private_key))
    if admin_key is not None:
        environ["VENICE_ADMIN_KEY"] = admin_key.reveal()
    return load_settings(environ=environ, **overrides)


@pytest.fixture
def account(venice_sandbox: Any) -> Account:
    """A wallet with 100 sVVV and an ADMIN key on the account that wallet mints into."""
    address, pk = venice_sandbox.new_wallet()
    _id, admin = venice_sandbox.emulator.create_account_with_admin_key(address)
    return Account(address, pk, admin, make_settings(venice_sandbox, private_key=pk,
                                                      admin_key=admin))


@pytest.fixture
async def vk(account: Account) -> AsyncIterator[AsyncVeniceKeys]:
    keys = AsyncVeniceKeys(account.settings)
    try:
        yield keys
    finally:
        await keys.aclose()


class RequestLog:
    """The emulator's request log from the moment this object was made."""

    def __init__(self, emulator: Any) -> None:
        self._emulator = emulator
        self._start = len(emulator.requests())

    def entries(self) -> list[Any]:
        entries: list[Any] = self._emulator.requests()
        return entries[self._start:]

    def routes(self) -> list[str]:
        return [f"{r.method} {r.path.split('/api/v1', 1)[-1]}" for r in self.entries()]

    def count(self, method: str, suffix: str) -> int:
        return sum(1 for r in self.entries()
                   if r.method == method and r.path.rstrip("/").endswith(suffix))


@pytest.fixture
def request_log(venice_sandbox: Any) -> Callable[[], RequestLog]:
    return lambda: RequestLog(venice_sandbox.emulator)
