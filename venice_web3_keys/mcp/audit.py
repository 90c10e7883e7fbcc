"""Append-only JSON-lines audit log of every MCP tool call that changes (or tried to change) keys.

One line per call: time, tool, masked arguments, outcome (ok / refused / error), key ids, rule.
The log doubles as the persistent counter for the keys-per-hour cap, so a restart does not reset it.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from venice_web3_keys.secret import SecretValue, mask

Outcome = Literal["ok", "refused", "error"]

# Anything that looks like a credential is masked even if it arrives in an odd field.
_SECRET_LIKE = re.compile(
    r"(VENICE_[A-Z]+_KEY_[A-Za-z0-9_\-]+|0x[0-9a-fA-F]{64}|[A-Za-z0-9_\-]{40,})"
)


def mask_value(value: Any) -> Any:
    """Mask secret-looking strings (recursively); SecretValue objects become their masked form."""
    if isinstance(value, SecretValue):
        return str(value)
    if isinstance(value, str):
        return _SECRET_LIKE.sub(lambda m: mask(m.group(0)), value)
    if isinstance(value, Mapping):
        return {str(k): mask_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(v) for v in value]
    return value


class AuditLog:
    """Thread-safe appender; the directory is created 0700 and the file 0600."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self._lock = threading.Lock()

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
        counts_as_key: bool = False,
    ) -> None:
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
        if counts_as_key:
            entry["made_key"] = True
        line = json.dumps(entry, separators=(",", ":"), ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.write(fd, line.encode())
            finally:
                os.close(fd)

    def keys_made_since(self, since: datetime) -> int:
        """How many lines marked `made_key` are newer than `since` (a missing log counts 0)."""
        count = 0
        try:
            with self.path.open(encoding="utf-8") as fh:
                for raw in fh:
                    try:
                        entry = json.loads(raw)
                        if not entry.get("made_key"):
                            continue
                        when = datetime.fromisoformat(str(entry["time"]).replace("Z", "+00:00"))
                    except (ValueError, KeyError, TypeError):
                        continue
                    if when > since:
                        count += 1
        except FileNotFoundError:
            return 0
        return count

    def keys_made_last_hour(self) -> int:
        return self.keys_made_since(datetime.now(UTC) - timedelta(hours=1))
