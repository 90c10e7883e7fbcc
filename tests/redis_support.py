"""A real redis-server for the tests: started on a free loopback port, stopped by its PID.

On CI (`CI=true`) a missing redis-server fails the Redis tests instead of skipping them: `./dev
test` installs it (Debian package `redis-server`) when it runs as root.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = ("install it with `sudo apt-get install redis-server` (Debian/Ubuntu) or "
                "`brew install redis`; `./dev test` installs it itself when run as root")


def find_redis_server() -> str | None:
    found = shutil.which("redis-server")
    if found:
        return found
    for candidate in ("/usr/bin/redis-server", "/usr/sbin/redis-server",
                      "/usr/local/bin/redis-server"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


@dataclass
class RedisServer:
    port: int
    pid: int

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def command(self, *args: str) -> bytes:
        """One RESP command over a plain socket (no client library needed)."""
        payload = f"*{len(args)}\r\n" + "".join(f"${len(a)}\r\n{a}\r\n" for a in args)
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as conn:
            conn.sendall(payload.encode())
            conn.settimeout(5)
            chunks = [conn.recv(65536)]
            while chunks[-1] and not chunks[-1].endswith(b"\r\n"):
                chunks.append(conn.recv(65536))
            return b"".join(chunks)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _ready(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextlib.contextmanager
def running_redis(binary: str, workdir: Path) -> Iterator[RedisServer]:
    """redis-server on 127.0.0.1:<free port>, no persistence; stopped (SIGTERM, then SIGKILL)."""
    for _attempt in range(3):  # a free port can be taken between the probe and the bind
        port = _free_port()
        log = (workdir / f"redis-{port}.log").open("wb")
        proc = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(workdir), "--daemonize", "no"],
            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None and not _ready(port):
            time.sleep(0.05)
        if proc.poll() is None and _ready(port):
            break
        _stop(proc)
        log.close()
    else:
        raise RuntimeError(f"redis-server did not start; see {workdir}")
    try:
        yield RedisServer(port=port, pid=proc.pid)
    finally:
        _stop(proc)
        log.close()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
