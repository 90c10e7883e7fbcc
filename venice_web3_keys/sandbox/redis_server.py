"""A local redis-server for a shared create budget (VENICE_BUDGET_URL=redis://...) in tests,
benchmarks and local multi-process runs: a free loopback port, no persistence, stopped by PID.

redis-server is not a Python package: it comes from the OS (`apt-get install redis-server`,
`brew install redis`).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from venice_web3_keys.errors import ConfigError
from venice_web3_keys.sandbox._process import die_with_parent, terminate

INSTALL_HINT = ("install redis-server: `sudo apt-get install redis-server` (Debian/Ubuntu) or "
                "`brew install redis`; `./dev test` installs it itself when run as root")
_START_TIMEOUT = 10.0


def find_redis_server() -> str | None:
    """VENICE_REDIS_SERVER_BIN, then PATH, then the usual system locations."""
    configured = os.environ.get("VENICE_REDIS_SERVER_BIN")
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    found = shutil.which("redis-server")
    if found:
        return found
    for candidate in ("/usr/bin/redis-server", "/usr/sbin/redis-server",
                      "/usr/local/bin/redis-server", "/opt/homebrew/bin/redis-server"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class LocalRedis:
    """redis-server on 127.0.0.1:<free port>; `url(db)` for VENICE_BUDGET_URL; `stop()`."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, workdir: Path) -> None:
        self._process = process
        self.port = port
        self.pid = process.pid
        self.workdir = workdir

    @classmethod
    def start(cls, *, workdir: str | Path | None = None) -> LocalRedis:
        binary = find_redis_server()
        if binary is None:
            raise ConfigError(f"redis-server was not found; {INSTALL_HINT}")
        directory = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="venice-redis-"))
        for _attempt in range(3):  # a free port can be taken between the probe and the bind
            port = _free_port()
            with (directory / f"redis-{port}.log").open("wb") as log:
                process = subprocess.Popen(
                    [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                     "--appendonly", "no", "--dir", str(directory), "--daemonize", "no"],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    preexec_fn=die_with_parent())
            deadline = time.monotonic() + _START_TIMEOUT
            while process.poll() is None and time.monotonic() < deadline:
                if _answers_ping(port):
                    return cls(process, port, directory)
                time.sleep(0.05)
            terminate(process, grace=5.0)
        raise ConfigError(f"redis-server did not start; see the logs in {directory}")

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def stop(self) -> None:
        terminate(self._process, grace=5.0)

    def __enter__(self) -> LocalRedis:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
