"""Stopping a service the sandbox started (anvil, redis-server): by its PID, politely first."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable


def die_with_parent() -> Callable[[], None] | None:
    """A preexec_fn asking Linux to SIGTERM the child when its parent dies (PR_SET_PDEATHSIG),
    so a sandbox killed with SIGKILL leaves no orphan service behind.

    Resolved here, in the parent: the child only makes one libc call between fork and exec.
    Elsewhere (macOS) there is no such call; `stop()` and atexit still stop the service.
    """
    import ctypes
    import signal
    import sys

    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()
    pr_set_pdeathsig = 1

    def arm() -> None:
        prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the call: do not outlive it
            os._exit(1)

    return arm


def terminate(process: subprocess.Popen[bytes], grace: float = 3.0) -> None:
    """SIGTERM, wait up to `grace` seconds, then SIGKILL; a process already gone is left alone."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=grace)
