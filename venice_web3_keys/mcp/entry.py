"""`venice-keys-mcp`: load and build the server with the cycle collector paused, then serve.

Start-up allocates several hundred thousand objects that live as long as the server (the MCP
SDK, pydantic, starlette, every tool's schemas), and with the collector on CPython walks them
about two hundred times before the first request can be answered: roughly 130 ms of a 1.5 s
start on a 2-CPU machine (`benchmarks/mcp_startup.py` times the start). Paused, nothing is
walked until the server is built; then everything alive is frozen, never walked again, and the
collector resumes for what serving allocates. This module imports nothing heavy itself, so the
pause begins before the SDK loads.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `venice-keys-mcp` and `python mcp_server.py`."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        from venice_web3_keys.mcp import server

        started = server.start(argv)
    finally:
        if collecting:
            gc.freeze()
            gc.enable()
    if isinstance(started, int):
        return started
    return server.serve(*started)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
