"""Fixtures for flow tests: the facade over a fresh `account` (tests/conftest.py), the log."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tests.harness import SandboxAccount
from venice_web3_keys.api import AsyncVeniceKeys


@pytest.fixture
async def vk(account: SandboxAccount) -> AsyncIterator[AsyncVeniceKeys]:
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
