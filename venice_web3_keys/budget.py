"""Rate budgets, counted where every process that shares them can see them: one home for pacing.

Venice refuses the 21st key create of a rolling minute with a 429 and lets an account hold 500
active keys. A `RateBudget` counts admissions in a moving window (the `limits` library's
MovingWindowRateLimiter), the same shape as Venice's rolling minute: a budget of N per W seconds
never admits more than N creates within any W seconds, so a paced run sees no 429.

Where the counts live is `VENICE_BUDGET_URL`:
- `memory://` (default): in this process, one storage per event loop (limits' in-memory storage
  holds asyncio locks), shared by every facade running on that loop;
- `redis://host:port/db`: in Redis, where limits checks and counts in one Lua script, so every
  process and replica pointing at that Redis shares one budget per account. The `redis` client is
  the optional extra `venice-web3-keys[redis]`. Timestamps come from each process's clock, so
  replicas on several hosts need synchronised clocks (NTP), as for any shared moving window.

Storage keys are named by `budget_scope()`, a one-way, domain-separated hash of the admin key: the
key itself never leaves the process, and the hash is not the fingerprint shown for new keys.

The same storage holds `Claims` (a lease on a name, so that two processes never create a key for
one customer at the same time) and any other budget a face needs to share, e.g. the MCP server's
cap on new keys per hour: `RateBudget(storage, (10, 3600), "mcp-new-keys", scope)`.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import math
import random
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from venice_web3_keys.errors import BudgetError, ConfigError
from venice_web3_keys.secret import get_logger, redact_url
from venice_web3_keys.settings import DEFAULT_BUDGET_URL

if TYPE_CHECKING:
    from limits import RateLimitItem
    from limits.aio.storage import Storage
    from limits.aio.strategies import MovingWindowRateLimiter

    from venice_web3_keys.secret import SecretValue

__all__ = ["BudgetStorage", "Claims", "RateBudget", "budget_scope"]

log = get_logger("venice_web3_keys.budget")

_T = TypeVar("_T")
Sleep = Callable[[float], Awaitable[None]]

NAMESPACE = "venice-web3-keys"
REDIS_EXTRA_HINT = "pip install 'venice-web3-keys[redis]'"

#: limits' in-memory storage is bound to the loop that first locks it: one per running loop.
_MEMORY: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Storage] = (
    weakref.WeakKeyDictionary())


def budget_scope(admin_key: SecretValue) -> str:
    """The name an account's budgets go by in shared storage: a one-way hash of its admin key.

    Venice has no call that tells a key its own id, so the key is hashed; the domain prefix keeps
    this value distinct from the sha256 fingerprint printed for new keys.
    """
    digest = hashlib.sha256(b"venice-web3-keys/budget-scope/v1\0" + admin_key.reveal().encode())
    return digest.hexdigest()[:32]


class BudgetStorage:
    """Where budgets and claims are counted: this process (`memory://`) or Redis (shared).

    Nothing connects until the first count. `aclose()` releases the Redis connections.
    """

    def __init__(self, url: str = DEFAULT_BUDGET_URL, *, timeout: float = 5.0) -> None:
        self.url = url
        self.shared = not url.startswith("memory:")
        self.location = redact_url(url) if self.shared else DEFAULT_BUDGET_URL
        self._timeout = timeout
        self._redis_storage: Storage | None = None
        self._pool: Any = None
        if self.shared and importlib.util.find_spec("redis") is None:
            raise ConfigError(
                f"VENICE_BUDGET_URL is a Redis URL ({self.location}) but the redis client is "
                f"not installed: {REDIS_EXTRA_HINT}")

    def __repr__(self) -> str:
        return f"BudgetStorage({self.location!r})"

    def _storage(self) -> Storage:
        if not self.shared:
            loop = asyncio.get_running_loop()
            storage = _MEMORY.get(loop)
            if storage is None:
                storage = _MEMORY[loop] = _memory_storage()
            return storage
        if self._redis_storage is None:
            import redis.asyncio
            from limits.aio.storage import RedisStorage

            # Our own pool: bounded connect/read timeouts, and closed by aclose().
            self._pool = redis.asyncio.ConnectionPool.from_url(
                self.url, socket_connect_timeout=self._timeout, socket_timeout=self._timeout)
            self._redis_storage = RedisStorage(
                "async+" + self.url, implementation="redispy", wrap_exceptions=True,
                connection_pool=self._pool)
        return self._redis_storage

    def limiter(self) -> MovingWindowRateLimiter:
        from limits.aio.strategies import MovingWindowRateLimiter

        return MovingWindowRateLimiter(self._storage())

    async def run(self, operation: Callable[[], Awaitable[_T]]) -> _T:
        """Run one storage operation; a storage failure becomes BudgetError (type only: a
        driver's message may quote the URL, password included)."""
        from limits.errors import StorageError

        try:
            return await operation()
        except StorageError as exc:
            cause = exc.storage_error
            raise BudgetError(
                f"the create budget at {self.location} could not be used "
                f"({type(cause).__name__}); nothing was sent for the key it was pacing. Check "
                "that Redis is running and reachable, or unset VENICE_BUDGET_URL to count in "
                "this process only.") from None
        except OSError as exc:
            raise BudgetError(f"the create budget at {self.location} could not be used "
                              f"({type(exc).__name__}); nothing was sent") from None

    async def aclose(self) -> None:
        pool, self._pool, self._redis_storage = self._pool, None, None
        if pool is not None:
            await pool.aclose()


def _memory_storage() -> Storage:
    from limits.aio.storage import MemoryStorage

    class SafeClearMemoryStorage(MemoryStorage):
        """limits' MemoryStorage whose clear() leaves an emptied key behind: its background
        expiry task lists the keys, then reads each, and a key removed in between made it fail
        with KeyError (limits 5.8). It drops empty keys itself on its next pass."""

        async def clear(self, key: str) -> None:
            had_events = key in self.events
            await super().clear(key)  # no await inside: nothing runs in between
            if had_events:
                self.events[key] = []

    return SafeClearMemoryStorage()


class RateBudget:
    """At most `limit` admissions in any `window` seconds, for one scope, in a BudgetStorage.

    `acquire()` waits for a slot and takes it (the moment it returns counts as the create's
    time: call it right before the request it paces). Waiters in several processes race
    fairly for freed slots; a little jitter keeps them from waking in lock-step.
    """

    def __init__(self, storage: BudgetStorage, rate: tuple[int, int], *scope: str,
                 sleep: Sleep = asyncio.sleep, rng: random.Random | None = None) -> None:
        from limits import RateLimitItemPerSecond

        self.storage = storage
        self.limit, self.window = rate
        self._item: RateLimitItem = RateLimitItemPerSecond(self.limit, self.window)
        self._identifiers = (NAMESPACE, *scope)
        self._sleep = sleep
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not a secret

    def __repr__(self) -> str:
        return (f"RateBudget({self.limit} per {self.window} s, "
                f"{'/'.join(self._identifiers[1:2])}, {self.storage.location})")

    async def try_acquire(self) -> bool:
        """Take a slot if one is free now; never waits."""
        limiter = self.storage.limiter()
        return await self.storage.run(lambda: limiter.hit(self._item, *self._identifiers))

    async def _stats(self) -> tuple[int, float]:
        """(slots free now, seconds until the oldest admission in the window leaves it)."""
        limiter = self.storage.limiter()
        stats = await self.storage.run(
            lambda: limiter.get_window_stats(self._item, *self._identifiers))
        return max(0, stats.remaining), max(0.0, stats.reset_time - time.time())

    async def remaining(self) -> int:
        return (await self._stats())[0]

    async def wait_time(self) -> float:
        """Seconds until a slot frees up (0 when one is free now)."""
        free, frees_in = await self._stats()
        return 0.0 if free else frees_in

    async def acquire(self) -> float:
        """Wait for a slot and take it; returns the seconds spent waiting."""
        start = time.monotonic()
        while not await self.try_acquire():
            delay = await self.wait_time()
            jitter = self._rng.uniform(0.0, min(0.05, self.window / 200))
            await self._sleep(max(delay, 0.005) + jitter)
        return time.monotonic() - start

    async def eta(self, count: int) -> float:
        """Roughly how long until `count` more admissions are possible (0 if they are now)."""
        if count <= 0:
            return 0.0
        free, frees_in = await self._stats()
        if count <= free:
            return 0.0
        # Beyond the free slots, each full window's worth frees up one window after the last:
        # the first as the oldest admission leaves (a whole window away when none is held).
        return frees_in + (math.ceil((count - free) / self.limit) - 1) * self.window

    async def reset(self) -> None:
        """Forget every admission of this budget (tests, or an operator after a bad run)."""
        limiter = self.storage.limiter()
        await self.storage.run(lambda: limiter.clear(self._item, *self._identifiers))


class Claims:
    """Leases on names (customer ids), so that one process at a time works on each.

    A claim is a 1-per-`lease` window: `claim()` succeeds for one caller until `release()` or
    until the lease runs out (a process killed mid-create leaves it for at most `lease` s).
    """

    def __init__(self, storage: BudgetStorage, lease: float, *scope: str) -> None:
        from limits import RateLimitItemPerSecond

        self.storage = storage
        self.lease = max(1, math.ceil(lease))
        self._item: RateLimitItem = RateLimitItemPerSecond(1, self.lease)
        self._identifiers = (NAMESPACE, *scope)

    async def claim(self, name: str) -> bool:
        limiter = self.storage.limiter()
        return await self.storage.run(
            lambda: limiter.hit(self._item, *self._identifiers, name))

    async def held(self, name: str) -> bool:
        """Is `name` claimed right now (by anyone)?"""
        limiter = self.storage.limiter()
        free = await self.storage.run(lambda: limiter.test(self._item, *self._identifiers, name))
        return not free

    async def release(self, name: str) -> None:
        limiter = self.storage.limiter()
        await self.storage.run(lambda: limiter.clear(self._item, *self._identifiers, name))
