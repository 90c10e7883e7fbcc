"""Append-only JSON-lines audit log of every MCP tool call that changes (or tried to change) keys.

One line per call (at most 4 KiB): time, tool, masked arguments, outcome, key ids, rule(s), and
for a stake the transaction hashes (public on chain, so not masked). Outcomes: `ok`, `refused`
(the policy rules broken, named), `error` (the call failed; `made_key` when a key may exist all
the same), `invalid` (the arguments failed the tool's input schema, so nothing was attempted: only
`argument_names` and `invalid_fields` are kept, never the values).

The log doubles as the persistent counter for the keys-per-hour cap, so a restart does not reset it,
and as the record of which keys this server made (`made_key_ids`): ownership is by id, not by
the description marker anyone can copy. It is opened without following symlinks and kept 0600.
Every server sharing one log (several stdio processes, say) takes an exclusive advisory lock on
`<log>.lock` around "count, make the key, append the line" (`AuditLog.exclusive`), so that together
they cannot pass the cap.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, Literal

import anyio

from venice_web3_keys.errors import AuditLockError, ConfigError
from venice_web3_keys.file_lock import try_lock as _try_lock
from venice_web3_keys.file_lock import unlock as _unlock
from venice_web3_keys.secret import SecretValue, redact_text

Outcome = Literal["ok", "refused", "error", "invalid"]

# Longest string kept in an audit line, longest argument name, longest line (bytes).
MAX_AUDIT_STRING = 200
MAX_NAME = 64
MAX_LINE_BYTES = 4096
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
LOCK_TIMEOUT = 120.0  # seconds: longer than any single mint/create/rotate should take


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


def mask_value(value: Any) -> Any:
    """Mask secret-looking strings (recursively); SecretValue objects become their masked form."""
    if isinstance(value, SecretValue):
        return str(value)
    if isinstance(value, str):
        # anything that looks like a credential is masked, even in an odd field
        masked = redact_text(value, long_tokens=True)
        if len(masked) > MAX_AUDIT_STRING:
            masked = f"{masked[:MAX_AUDIT_STRING]}…[{len(value)} chars]"
        return masked
    if isinstance(value, Mapping):
        return {mask_value(str(k)): mask_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(v) for v in value]
    return value


def _open(path: Path, flags: int) -> int:
    """Open the log (or its lock file) without following a symlink; tighten its mode to 0600.

    A planted symlink would otherwise have us append to (or chmod) a file of someone else's
    choosing; anything but a regular file is refused the same way.
    """
    try:
        fd = os.open(path, flags | _NOFOLLOW | os.O_CLOEXEC, 0o600)
    except FileNotFoundError:
        raise
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ConfigError(
                f"the audit log {path} is a symbolic link; refusing to follow it"
            ) from None
        raise ConfigError(f"the audit log {path} cannot be opened: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"the audit log {path} is not a regular file; refusing to use it")
        if info.st_mode & 0o077:
            os.fchmod(fd, 0o600)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _short(name: Any) -> str:
    text = mask_value(str(name))
    return text if len(text) <= MAX_NAME else f"{text[:MAX_NAME]}…"


def fit_line(entry: dict[str, Any]) -> bytes:
    """The entry as one JSON line of at most MAX_LINE_BYTES. What is cut first: argument
    values (their names stay), then names; never the time, tool, outcome, rule or key ids."""

    def encode() -> bytes:
        return (json.dumps(entry, separators=(",", ":"), ensure_ascii=False) + "\n").encode()

    line = encode()
    if len(line) > MAX_LINE_BYTES and "arguments" in entry:
        entry["argument_names"] = [_short(n) for n in entry.pop("arguments")]
        entry["values_omitted"] = True
        line = encode()
    for listed in ("argument_names", "invalid_fields"):
        names = entry.get(listed)
        while len(line) > MAX_LINE_BYTES and names:
            kept = len(names) // 2
            entry[listed] = names = names[:kept]
            entry[f"{listed}_cut"] = True
            line = encode()
    return line


class AuditLog:
    """Thread-safe appender; the directory is created 0700 and the file 0600 (see `_open`)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.lock_timeout = LOCK_TIMEOUT
        self._lock = threading.Lock()
        # made_key_ids() reads only what was appended since its last call.
        self._scanned: tuple[int, int] | None = None  # (st_dev, st_ino) of the file read
        self._scan_offset = 0
        self._made_ids: set[str] = set()

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        """Hold an exclusive advisory lock (flock on `<log>.lock`) shared by every process.

        Polls without blocking the event loop (a cancelled caller leaves nothing locked);
        the kernel drops the lock if the holder dies. AuditLockError after `lock_timeout` s.
        """
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = _open(self.lock_path, os.O_RDWR | os.O_CREAT)
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
        new_key_ids: list[str] | None = None,
        rules: tuple[str, ...] = (),
        error_type: str | None = None,
        invalid_fields: list[str] | None = None,
        counts_as_key: bool = False,
        restored: bool = False,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        """Append one line. For `invalid` calls only the argument names are kept: the values
        failed the schema, so they are the caller's arbitrary data. `details` is what the server
        itself observed (a stake's public transaction hashes, say), written as given."""
        entry: dict[str, Any] = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "tool": tool,
        }
        if outcome == "invalid":
            entry["argument_names"] = sorted(_short(name) for name in arguments)
        else:
            entry["arguments"] = mask_value(dict(arguments))
        entry["outcome"] = outcome
        for name, value in (
            ("key_id", key_id),
            ("new_key_id", new_key_id),
            ("new_key_ids", new_key_ids or None),
            ("rule", rules[0] if rules else None),
            ("rules", list(rules) if len(rules) > 1 else None),
            ("error_type", error_type),
        ):
            if value is not None:
                entry[name] = value
        if invalid_fields is not None:
            entry["invalid_fields"] = [_short(name) for name in invalid_fields]
        if counts_as_key:
            entry["made_key"] = True
        if restored:
            entry["restored"] = True
        if details:
            entry["details"] = dict(details)
        line = fit_line(entry)
        with self._lock:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = _open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)

    def ensure_usable(self) -> None:
        """Create the log if need be and check it can be appended to safely (ConfigError if
        not): a write is not attempted when its outcome could not be recorded."""
        with self._lock:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.close(_open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND))

    def _read_fd(self) -> int | None:
        try:
            return _open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return None

    def times_keys_made_since(self, since: datetime) -> list[datetime]:
        """When each key counted after `since` was made (a missing log counts none).

        Reads from the end and stops at the first line older than `since - ORDER_SLACK`: the
        log is appended in time order (give or take concurrent writers), so each check costs
        the recent lines, not the whole history.
        """
        horizon = since - ORDER_SLACK
        times: list[datetime] = []
        fd = self._read_fd()
        if fd is None:
            return times
        with os.fdopen(fd, "rb") as fh:
            for raw in _lines_from_end(fh):
                try:
                    entry = json.loads(raw)
                    when = datetime.fromisoformat(str(entry["time"]).replace("Z", "+00:00"))
                    if when <= horizon:
                        break
                except (ValueError, KeyError, TypeError):
                    continue
                if entry.get("made_key") and when > since:
                    times.append(when)
        return times

    def times_keys_made_last_hour(self) -> list[datetime]:
        return self.times_keys_made_since(datetime.now(UTC) - timedelta(hours=1))

    def made_key_ids(self) -> frozenset[str]:
        """Ids of every key a server using this log made (including partial outcomes)."""
        with self._lock:
            fd = self._read_fd()
            if fd is None:
                return frozenset(self._made_ids)
            with os.fdopen(fd, "rb") as fh:
                info = os.fstat(fh.fileno())
                if self._scanned != (info.st_dev, info.st_ino) or info.st_size < self._scan_offset:
                    self._scanned, self._scan_offset = (info.st_dev, info.st_ino), 0
                    self._made_ids = set()
                fh.seek(self._scan_offset)
                data = fh.read()
            complete = data[: data.rfind(b"\n") + 1]
            self._scan_offset += len(complete)
            for raw in complete.splitlines():
                try:
                    entry = json.loads(raw)
                except ValueError:
                    continue
                if not isinstance(entry, dict) or not entry.get("made_key"):
                    continue
                ids = [entry.get("new_key_id"), *(entry.get("new_key_ids") or [])]
                self._made_ids.update(i for i in ids if isinstance(i, str))
            return frozenset(self._made_ids)
