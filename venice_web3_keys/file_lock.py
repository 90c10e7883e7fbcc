"""Exclusive advisory locks on a file descriptor (flock), shared by every writer of one file.

Processes and threads that write the same file (a .env, the MCP audit log) take turns; the kernel
drops the lock when its holder dies. Windows has no flock: there every try succeeds, so writers
are not serialized across processes.
"""

from __future__ import annotations

import sys

if sys.platform == "win32":  # pragma: no cover - no flock

    def try_lock(fd: int) -> bool:
        """Take the exclusive lock if it is free (never blocks)."""
        return True

    def unlock(fd: int) -> None:
        return None

else:
    import fcntl

    def try_lock(fd: int) -> bool:
        """Take the exclusive lock if it is free (never blocks)."""
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
