"""RetryPolicy and Retry-After parsing."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from venice_web3_keys.client.retry import RetryPolicy, parse_retry_after

NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(("value", "expected"), [
    ("3", 3.0), (" 1.5 ", 1.5), ("0", 0.0), ("-4", 0.0), ("", None), (None, None),
    ("soon", None), ("nan", None), ("inf", None),
])
def test_parse_seconds(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected


def test_parse_http_date() -> None:
    header = format_datetime(NOW + timedelta(seconds=7), usegmt=True)
    assert parse_retry_after(header, now=NOW) == pytest.approx(7.0)
    past = format_datetime(NOW - timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(past, now=NOW) == 0.0


def test_only_get_is_retried_and_attempts_are_capped() -> None:
    policy = RetryPolicy(max_retries=2)
    assert policy.should_retry("GET", 0) and policy.should_retry("get", 1)
    assert not policy.should_retry("GET", 2)
    for method in ("POST", "PATCH", "DELETE", "PUT"):
        assert not policy.should_retry(method, 0)
    assert not RetryPolicy(max_retries=0).should_retry("GET", 0)


def test_full_jitter_exponential_bounds() -> None:
    policy = RetryPolicy(base_delay=0.5, max_backoff=8.0, rng=random.Random(1))
    for attempt, ceiling in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (6, 8.0)]:
        delays = [policy.delay(attempt) for _ in range(200)]
        assert all(d is not None and 0.0 <= d <= ceiling for d in delays)
        assert max(d for d in delays if d is not None) > ceiling * 0.8  # jitter spans the range
        assert len(set(delays)) > 100  # actually random


def test_backoff_capped_by_max_retry_wait() -> None:
    policy = RetryPolicy(max_retry_wait=0.2, rng=random.Random(2))
    assert all((policy.delay(5) or 0) <= 0.2 for _ in range(100))


def test_retry_after_honoured_or_give_up_when_too_long() -> None:
    policy = RetryPolicy(max_retry_wait=10)
    assert policy.delay(0, retry_after=4.0) == 4.0
    assert policy.delay(0, retry_after=10.0) == 10.0
    assert policy.delay(0, retry_after=11.0) is None


def test_invalid_settings() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_retries=-1)
    with pytest.raises(ValueError):
        RetryPolicy(max_retry_wait=-1)
