"""Append-only JSON-lines audit log of every MCP tool call that changes (or tried to change) keys.

One line per call: time, tool, masked arguments, outcome, key ids, rule, and for a stake the
transaction hashes (public on chain, so not masked). Outcomes: `ok`, `refused`
(a policy rule, named), `error` (the call failed), `invalid` (the arguments failed the tool's input
schema, so nothing was attempted; `invalid_fields` names the offending fields).

The log doubles as the persistent counter for the keys-per-hour cap, so a restart does not reset it.
Every server sharing one log (several stdio processes, say) takes an exclusive advisory lock on
`<log>.lock` around "count, make the key, append the line" (`AuditLog.exclusive`), so that together
they cannot pass the cap.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, Literal

import anyio

from venice_web3_keys.errors import VeniceKeysError
from venice_web3_keys.secret import SecretValue, mask

Outcome = Literal["ok", "refused", "error", "invalid"]

# Longest string kept in an audit line: arguments rejected by the schema are unbounded.
MAX_AUDIT_STRING = 200
LOCK_TIMEOUT = 120.0  # seconds: longer than any single mint/create/rotate should take


class AuditLockError(VeniceKeysError):
    """Another server sharing the audit log held the key-making lock for too long."""


if sys.platform == "win32":  # pragma: no cover - no flock: the in-process lock is all there is

    def _try_lock(fd: int) -> bool:
        return True

    def _unlock(fd: int) -> None:
        return None

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


# How far out of time order concurrent writers may append lines (see keys_made_since).
ORDER_SLACK = timedelta(minutes=5)


def _lines_from_end(fh: BinaryIO, chunk: int = 64 * 1024) -> Iterator[bytes]:
    """The lines of a binary file, last first."""
    pos = fh.seek(0, os.SEEK_END)
    tail = b""
    while pos > 0:
        step = min(chunk, pos)
        pos -= step
        fh.seek(pos)
        first, *rest = (fh.read(step) + tail).split(b"\n")
        yield from reversed(rest)
        tail = first
    yield tail


# Anything that looks like a credential is masked even if it arrives in an odd field.
_SECRET_LIKE = re.compile(
    r"(VENICE_[A-Z]+_KEY_[A-Za-z0-9_\-]+|0x[0-9a-fA-F]{64}|[A-Za-z0-9_\-]{40,})"
)


def mask_value(value: Any) -> Any:
    """Mask secret-looking strings (recursively); SecretValue objects become their masked form."""
    if isinstance(value, SecretValue):
        return str(value)
    if isinstance(value, str):
        masked = _SECRET_LIKE.sub(lambda m: mask(m.group(0)), value)
        if len(masked) > MAX_AUDIT_STRING:
            masked = f"{masked[:MAX_AUDIT_STRING]}…[{len(value)} chars]"
        return masked
    if isinstance(value, Mapping):
        return {mask_value(str(k)): mask_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(v) for v in value]
    return value


class AuditLog:
    """Thread-safe appender; the directory is created 0700 and the file 0600."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.lock_timeout = LOCK_TIMEOUT
        self._lock = threading.Lock()

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        """Hold an exclusive advisory lock (flock on `<log>.lock`) shared by every process.

        Polls without blocking the event loop (a cancelled caller leaves nothing locked);
        the kernel drops the lock if the holder dies. AuditLockError after `lock_timeout` s.
        """
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            deadline = time.monotonic() + self.lock_timeout
            delay = 0.005
            while not _try_lock(fd):
                if time.monotonic() >= deadline:
                    raise AuditLockError(
                        "another server sharing this audit log has been making a key for "
                        f"over {self.lock_timeout:g} s; try again later"
                    )
                await anyio.sleep(delay)
                delay = min(delay * 2, 0.1)
            try:
                yield
            finally:
                _unlock(fd)
        finally:
            os.close(fd)

    def record(
        self,
        tool: str,
        arguments: Mapping[str, Any],
        outcome: Outcome,
        *,
        key_id: str | None = None,
        new_key_id: str | None = None,
        rule: str | None = None,
        error_type: str | None = None,
        invalid_fields: list[str] | None = None,
        counts_as_key: bool = False,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        """Append one line. `details` is what the server itself observed (a stake's public
        transaction hashes, say), written as given; `arguments` come from the agent and are
        masked."""
        entry: dict[str, Any] = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "tool": tool,
            "arguments": mask_value(dict(arguments)),
            "outcome": outcome,
        }
        for name, value in (
            ("key_id", key_id),
            ("new_key_id", new_key_id),
            ("rule", rule),
            ("error_type", error_type),
        ):
            if value is not None:
                entry[name] = value
        if invalid_fields is not None:
            entry["invalid_fields"] = mask_value(invalid_fields)
        if counts_as_key:
            entry["made_key"] = True
        if details:
            entry["details"] = dict(details)
        line = json.dumps(entry, separators=(",", ":"), ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.write(fd, line.encode())
            finally:
                os.close(fd)

    def keys_made_since(self, since: datetime) -> int:
        """How many lines marked `made_key` are newer than `since` (a missing log counts 0).

        Reads from the end and stops at the first line older than `since - ORDER_SLACK`: the
        log is appended in time order (give or take concurrent writers), so each check costs
        the recent lines, not the whole history.
        """
        horizon = since - ORDER_SLACK
        count = 0
        try:
            with self.path.open("rb") as fh:
                for raw in _lines_from_end(fh):
                    try:
                        entry = json.loads(raw)
                        when = datetime.fromisoformat(str(entry["time"]).replace("Z", "+00:00"))
                        if when <= horizon:
                            break
                    except (ValueError, KeyError, TypeError):
                        continue
                    if entry.get("made_key") and when > since:
                        count += 1
        except FileNotFoundError:
            return 0
        return count

    def keys_made_last_hour(self) -> int:
        return self.keys_made_since(datetime.now(UTC) - timedelta(hours=1))
