"""Injectable clocks: a test moves time (key expiry, JWT exp, rate windows) in milliseconds."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from venice_web3_keys.timeparse import format_datetime


@runtime_checkable
class Clock(Protocol):
    """What the emulator needs from time: the current UTC instant, and a way to skip ahead."""

    def now(self) -> datetime: ...

    def advance(self, seconds: float) -> None: ...


class SystemClock:
    """Wall-clock time plus an offset, so even a live sandbox can be fast-forwarded."""

    def __init__(self) -> None:
        self._offset = timedelta()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return datetime.now(UTC) + self._offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += timedelta(seconds=seconds)


class FakeClock:
    """Time that only moves when told to: deterministic tests of windows and expiries."""

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2026, 1, 15, 12, 0, 0, tzinfo=UTC)
        if start.tzinfo is None:
            raise ValueError("FakeClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += timedelta(seconds=seconds)

    def set(self, when: datetime) -> None:
        """Jump to an absolute instant (timezone-aware)."""
        if when.tzinfo is None:
            raise ValueError("FakeClock needs a timezone-aware instant")
        with self._lock:
            self._now = when.astimezone(UTC)


#: Venice's timestamp format: UTC, millisecond precision, `Z` suffix.
iso_ms = format_datetime


def parse_iso(text: str) -> datetime:
    """Parse a `...Z` / offset ISO timestamp or a bare date (midnight UTC)."""
    if len(text) == 10:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
