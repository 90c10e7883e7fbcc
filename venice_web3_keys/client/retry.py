"""When and how long to wait before re-sending a *safe* request.

Only GETs are retried. A POST that creates a key is never re-sent: Venice documents no
idempotency key, so a retry after a timeout or 5xx can mint a second key whose first twin's secret
is lost (the flows reconcile instead). PATCH and DELETE would be idempotent in effect, but a
blind re-send can still hide what happened (e.g. a DELETE retried after success reports "not
found"), so they stay single-shot and the caller sees the real outcome.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = ["RETRYABLE_STATUS", "SAFE_METHODS", "RetryPolicy", "parse_retry_after"]

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
SAFE_METHODS = frozenset({"GET"})

Sleep = Callable[[float], Awaitable[None]]


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date); None if unusable."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN / inf
        return None
    return max(0.0, seconds)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, Retry-After honoured up to `max_retry_wait`."""

    max_retries: int = 2
    base_delay: float = 0.5
    max_backoff: float = 8.0
    max_retry_wait: float = 30.0
    sleep: Sleep = asyncio.sleep
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if self.max_retry_wait < 0:
            raise ValueError("max_retry_wait must be >= 0")

    def attempts(self, method: str) -> int:
        """How many times a request with `method` may be sent at most."""
        return 1 + self.max_retries if method.upper() in SAFE_METHODS else 1

    def should_retry(self, method: str, attempt: int) -> bool:
        """`attempt` counts retries already made (0 after the first try)."""
        return method.upper() in SAFE_METHODS and attempt < self.max_retries

    def delay(self, attempt: int, retry_after: float | None = None) -> float | None:
        """Seconds to wait before retry number `attempt + 1`, or None to give up.

        A server-requested wait longer than `max_retry_wait` means giving up: re-sending earlier
        than asked would only be refused again and count against the key's error budget.
        """
        if retry_after is not None:
            return retry_after if retry_after <= self.max_retry_wait else None
        ceiling = min(self.max_backoff, self.base_delay * (2**attempt), self.max_retry_wait)
        return self.rng.uniform(0.0, ceiling)
