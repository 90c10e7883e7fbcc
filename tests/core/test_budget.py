"""Rate budgets (budget.py): a moving window in this process or in a real Redis shared by many."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import fake_key
from venice_web3_keys.budget import BudgetStorage, Claims, RateBudget, budget_scope
from venice_web3_keys.errors import BudgetError, ConfigError
from venice_web3_keys.secret import ApiKeySecret, SecretValue
from venice_web3_keys.settings import load_settings

REPO = Path(__file__).resolve().parents[2]


def _max_in_any_window(times: list[float], window: float) -> int:
    times = sorted(times)
    return max((sum(1 for t in times[i:] if t - start < window)
                for i, start in enumerate(times)), default=0)


def test_scope_is_a_one_way_hash_that_is_not_the_fingerprint() -> None:
    secret = fake_key("ADMIN", "budget_scope")
    scope = budget_scope(SecretValue(secret))
    assert scope == budget_scope(SecretValue(secret))  # stable: every replica agrees
    assert secret not in scope and secret[-6:] not in scope
    assert scope not in ApiKeySecret(secret).fingerprint
    assert budget_scope(SecretValue(fake_key("ADMIN", "other"))) != scope


async def test_memory_budget_admits_the_limit_then_waits_for_the_window() -> None:
    storage = BudgetStorage("memory://")
    budget = RateBudget(storage, (3, 1), "creates", "mem-admits")
    assert [await budget.try_acquire() for _ in range(4)] == [True, True, True, False]
    assert await budget.remaining() == 0
    assert 0 < await budget.wait_time() <= 1
    start = time.monotonic()
    await budget.acquire()  # the 4th waits until the first admission leaves the window
    assert time.monotonic() - start >= 0.8
    await storage.aclose()


async def test_memory_budget_is_shared_by_facades_on_one_loop() -> None:
    one = RateBudget(BudgetStorage(), (2, 5), "creates", "mem-shared")
    two = RateBudget(BudgetStorage(), (2, 5), "creates", "mem-shared")
    assert await one.try_acquire() and await two.try_acquire()
    assert not await one.try_acquire() and not await two.try_acquire()


async def test_eta_counts_whole_windows_after_the_free_slots() -> None:
    budget = RateBudget(BudgetStorage(), (20, 60), "creates", "mem-eta")
    assert await budget.eta(0) == 0 and await budget.eta(20) == 0
    assert 59 <= await budget.eta(60) <= 120  # 20 now, 20 in a minute, 20 in two: two windows
    for _ in range(20):
        await budget.try_acquire()
    assert 119 <= await budget.eta(41) <= 180


async def test_claims_are_exclusive_until_released() -> None:
    claims = Claims(BudgetStorage(), 60, "claims", "mem-claims")
    assert await claims.claim("acme")
    assert await claims.held("acme") and not await claims.claim("acme")
    assert not await claims.held("other") and await claims.claim("other")
    await claims.release("acme")
    assert not await claims.held("acme") and await claims.claim("acme")


async def test_releasing_claims_does_not_break_the_memory_expiry_task() -> None:
    """limits' in-memory expiry task reads keys it listed a moment before (one thread hop per
    key); releases made in between must not make it fail ('Task exception was never
    retrieved' on stderr, and expired entries left behind)."""
    from venice_web3_keys import budget

    claims = Claims(BudgetStorage(), 60, "claims", "mem-expiry-race")
    names = [f"race{n}" for n in range(40)]
    for name in names[:-1]:
        assert await claims.claim(name)
    storage: Any = budget._MEMORY[asyncio.get_running_loop()]
    if storage.timer is not None:
        await storage.timer
    assert await claims.claim(names[-1])  # schedules a fresh expiry pass over all 40 keys
    timer = storage.timer
    await asyncio.sleep(0)  # the pass has listed the keys and is on its first thread hop
    for name in names:
        await claims.release(name)
    await asyncio.wait([timer], timeout=5)
    assert timer.done() and timer.exception() is None
    assert not any(events for key, events in storage.events.items() if "mem-expiry-race" in key)


def test_a_redis_url_without_the_redis_client_names_the_extra(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "redis" else real(name, *a))
    with pytest.raises(ConfigError, match=r"venice-web3-keys\[redis\]") as info:
        BudgetStorage("redis://:hunter2@127.0.0.1:6379/0")
    assert "hunter2" not in str(info.value)
    # the default needs no redis client at all
    assert BudgetStorage("memory://").shared is False


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379", "redis://", "redis://h/x",
                                 "memory://somewhere", "redis://h:99999/0", "redis:// h/0"])
def test_bad_budget_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError, match="VENICE_BUDGET_URL"):
        load_settings(environ={"VENICE_BUDGET_URL": url})


def test_budget_settings_default_and_redact() -> None:
    settings = load_settings(environ={})
    assert settings.budget_url == "memory://" and settings.create_budget == (20, 61)
    settings = load_settings(environ={"VENICE_BUDGET_URL": "redis://:hunter2@h:6379/3",
                                      "VENICE_CREATE_BUDGET": "20 per minute"})
    assert settings.create_budget == (20, 60)
    assert "hunter2" not in repr(settings)


@pytest.mark.parametrize(("text", "want"), [("20/minute", (20, 60)), ("5 per 2 s", (5, 2)),
                                            ("10/hour", (10, 3600)), ("3/2seconds", (3, 2))])
def test_create_budget_forms(text: str, want: tuple[int, int]) -> None:
    assert load_settings(environ={"VENICE_CREATE_BUDGET": text}).create_budget == want


@pytest.mark.parametrize("text", ["", "twenty/minute", "0/minute", "20/0 s", "20/fortnight"])
def test_bad_create_budgets_are_config_errors(text: str) -> None:
    with pytest.raises(ConfigError, match="VENICE_CREATE_BUDGET"):
        load_settings(environ={"VENICE_CREATE_BUDGET": text or " x"})


# ------------------------------------------------------------------------------ real Redis


async def test_redis_unreachable_is_a_budget_error_without_the_password() -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    storage = BudgetStorage(f"redis://:hunter2@127.0.0.1:{port}/0", timeout=1)
    budget = RateBudget(storage, (2, 1), "creates", "unreachable")
    with pytest.raises(BudgetError) as info:
        await budget.acquire()
    assert "hunter2" not in str(info.value) and f"127.0.0.1:{port}" in str(info.value)
    await storage.aclose()


async def test_redis_budget_is_one_budget_for_separate_connections(redis_server: Any) -> None:
    first = BudgetStorage(redis_server.url(1))
    second = BudgetStorage(redis_server.url(1))
    try:
        one = RateBudget(first, (3, 2), "creates", "redis-shared")
        two = RateBudget(second, (3, 2), "creates", "redis-shared")
        assert [await one.try_acquire(), await two.try_acquire(), await one.try_acquire()] == [
            True, True, True]
        assert not await two.try_acquire() and await one.remaining() == 0
        assert 0 < await two.wait_time() <= 2
        other_db = RateBudget(BudgetStorage(redis_server.url(2)), (3, 2), "creates",
                              "redis-shared")
        assert await other_db.try_acquire()  # another database is another budget
        await other_db.storage.aclose()
        claims_a = Claims(first, 30, "claims", "redis-shared")
        claims_b = Claims(second, 30, "claims", "redis-shared")
        assert await claims_a.claim("c1") and not await claims_b.claim("c1")
        await claims_a.release("c1")
        assert await claims_b.claim("c1")
    finally:
        await first.aclose()
        await second.aclose()


_RACER = textwrap.dedent("""
    import asyncio, json, sys, time
    from venice_web3_keys.budget import BudgetStorage, RateBudget

    class Stamped(RateBudget):
        # The time each successful try started: the limiter stamps the admission with its own
        # clock reading a moment later, so these can only read early, never late.
        stamps = []

        async def try_acquire(self):
            started = time.time()
            admitted = await super().try_acquire()
            if admitted:
                self.stamps.append(started)
            return admitted

    async def main():
        storage = BudgetStorage(sys.argv[1])
        budget = Stamped(storage, (4, 1), "creates", sys.argv[2])
        for _ in range(int(sys.argv[3])):
            await budget.acquire()
        await storage.aclose()
        print(json.dumps(Stamped.stamps))

    asyncio.run(main())
""")


def test_racing_processes_share_one_redis_budget(redis_server: Any, tmp_path: Path) -> None:
    """Three processes take 6 slots each from one 4-per-second budget: never more than 4
    admissions in any second, all together, and the whole takes the time the budget implies."""
    script = tmp_path / "racer.py"
    script.write_text(_RACER)
    scope = f"race-{os.getpid()}-{time.time_ns()}"
    start = time.time()
    procs = [subprocess.Popen([sys.executable, str(script), redis_server.url(3), scope, "6"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              cwd=REPO) for _ in range(3)]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outputs]
    times = [t for out, _ in outputs for t in json.loads(out)]
    assert len(times) == 18
    # Early readings can shrink a gap by the few ms between a try and the limiter's stamp.
    assert _max_in_any_window(times, 1.0 - 0.05) <= 4, sorted(times)
    assert max(times) - start >= 3.0  # 18 slots at 4/s: at least 3 full windows after the first 4


async def test_budget_storage_keys_never_hold_the_admin_key(redis_server: Any) -> None:
    secret = fake_key("ADMIN", "redis_keys")
    scope = budget_scope(SecretValue(secret))
    storage = BudgetStorage(redis_server.url(4))
    try:
        await RateBudget(storage, (20, 61), "creates", scope).acquire()
        await Claims(storage, 30, "customer-claims", scope).claim("acme")
    finally:
        await storage.aclose()
    names = await _keys(redis_server, 4)
    assert names and all(scope in name for name in names)
    fingerprint = ApiKeySecret(secret).fingerprint
    assert not any(secret in name or secret[-6:] in name or fingerprint in name
                   for name in names)


async def _keys(redis_server: Any, db: int) -> list[str]:
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(redis_server.url(db))
    try:
        return [k.decode() if isinstance(k, bytes) else k for k in await client.keys("*")]
    finally:
        await client.aclose()
