"""Stopping a service the sandbox started (anvil, redis-server): by its PID, politely first."""

from __future__ import annotations

import subprocess


def terminate(process: subprocess.Popen[bytes], grace: float = 3.0) -> None:
    """SIGTERM, wait up to `grace` seconds, then SIGKILL; a process already gone is left alone."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=grace)
