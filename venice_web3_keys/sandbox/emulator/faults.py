"""Fault injection: per-route queues of one-shot faults, plus a global latency.

Clients must survive the failures that matter for key creation: an error before anything
happened, a slow answer, and above all an *ambiguous* outcome (the key was made, then the
response was lost), which is the case that must never lead to a blind retry.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import asdict, dataclass, fields
from typing import Any

#: Every route the emulator serves, by the name faults are keyed on.
ROUTES: frozenset[str] = frozenset(
    {
        "GET /api_keys",
        "POST /api_keys",
        "PATCH /api_keys",
        "DELETE /api_keys",
        "GET /api_keys/{id}",
        "GET /api_keys/rate_limits",
        "GET /api_keys/rate_limits/log",
        "GET /api_keys/generate_web3_key",
        "POST /api_keys/generate_web3_key",
        "GET /billing/balance",
    }
)


@dataclass(frozen=True)
class Fault:
    """One injected misbehaviour, consumed by the next request to its route.

    status:      answer with this status instead (default body `{"error": ...}`).
    body:        JSON body for `status`.
    latency:     seconds to wait before handling (alone: a slow but correct answer).
    commit:      run the real handler first, then apply the fault (ambiguous outcome).
    drop:        send headers, then close the connection mid-body.
    hang:        hold the request open this many seconds, then send nothing (client timeout).
    malformed:   answer 200 with a truncated, unparsable JSON body.
    retry_after: a `Retry-After` header (seconds), e.g. with status 429.
    forged_secret: run the real handler (the key is made), then answer with its response but the
                 new key's `apiKey` replaced by this text: a hostile or broken server.
    """

    status: int | None = None
    body: Any = None
    latency: float = 0.0
    commit: bool = False
    drop: bool = False
    hang: float | None = None
    malformed: bool = False
    retry_after: float | None = None
    forged_secret: str | None = None

    def __post_init__(self) -> None:
        if self.status is not None and not 100 <= self.status <= 599:
            raise ValueError("status must be an HTTP status code")
        if sum([self.status is not None, self.drop, self.hang is not None, self.malformed,
                self.forged_secret is not None]) > 1:
            raise ValueError("choose one of status, drop, hang, malformed, forged_secret")
        if self.commit and not (self.status or self.drop or self.hang is not None
                                or self.malformed):
            raise ValueError("commit needs a failure to apply afterwards")
        if self.latency < 0 or (self.hang is not None and self.hang < 0):
            raise ValueError("latency and hang must be >= 0")

    # Named constructors for the common cases.
    @classmethod
    def error(cls, status: int = 500, body: Any = None) -> Fault:
        """Fail before doing anything."""
        return cls(status=status, body=body)

    @classmethod
    def detailed_error(cls, details: Any, *, status: int = 400,
                       error: str = "Invalid request parameters") -> Fault:
        """A DetailedError; Venice sometimes sends `details` as a plain string, not a zod tree."""
        return cls(status=status, body={"error": error, "details": details})

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        return cls(latency=seconds)

    @classmethod
    def rate_limited(cls, retry_after: float = 1) -> Fault:
        return cls(status=429, retry_after=retry_after)

    @classmethod
    def commit_then_fail(cls, status: int = 500) -> Fault:
        return cls(status=status, commit=True)

    @classmethod
    def commit_then_drop(cls) -> Fault:
        return cls(drop=True, commit=True)

    @classmethod
    def commit_then_hang(cls, seconds: float = 10.0) -> Fault:
        return cls(hang=seconds, commit=True)

    @classmethod
    def forge_secret(cls, text: str) -> Fault:
        """The key is created, but the answer carries `text` as its secret."""
        return cls(forged_secret=text)

    @classmethod
    def malformed_body(cls, *, commit: bool = False) -> Fault:
        return cls(malformed=True, commit=commit)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, False, 0.0)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fault:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        return cls(**data)


class FaultPlan:
    """Thread-safe: tests add faults from their own thread while uvicorn serves in another."""

    def __init__(self) -> None:
        self._queues: dict[str, deque[Fault]] = {}
        self._latency = 0.0
        self._lock = threading.Lock()

    def add(self, route: str, fault: Fault, *, times: int = 1) -> None:
        """Queue `fault` for the next `times` requests to `route` (e.g. "POST /api_keys")."""
        if route not in ROUTES:
            raise ValueError(f"unknown route {route!r}; one of {sorted(ROUTES)}")
        if times < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._queues.setdefault(route, deque()).extend([fault] * times)

    def pop(self, route: str) -> Fault | None:
        with self._lock:
            queue = self._queues.get(route)
            return queue.popleft() if queue else None

    def pending(self) -> dict[str, list[dict[str, Any]]]:
        with self._lock:
            return {r: [f.to_dict() for f in q] for r, q in self._queues.items() if q}

    def clear(self) -> None:
        with self._lock:
            self._queues.clear()
            self._latency = 0.0

    def set_latency(self, seconds: float) -> None:
        """Delay every API request by `seconds` (0 turns it off)."""
        if seconds < 0:
            raise ValueError("latency must be >= 0")
        with self._lock:
            self._latency = seconds

    @property
    def latency(self) -> float:
        with self._lock:
            return self._latency
