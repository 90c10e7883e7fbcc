"""Small hostile servers for the attack tests, on real sockets (threads, no mocks).

- `TcpRelay`: a man in the middle that forwards bytes to the sandbox, listening on a
  non-loopback address of this machine: a Venice stand-in that is not Venice and not local.
- `SlowLoris`: answers 200, promises a body and then sends it one byte a second.
- `HugeBody`: answers 200 with a JSON body larger than any sane Venice answer.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Self


def non_loopback_ipv4() -> str:
    """An IPv4 address of this machine that is not loopback (the route to a public address)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("198.51.100.1", 9))  # TEST-NET-2: a UDP connect sends no packet
        address = str(probe.getsockname()[0])
    if address.startswith("127."):
        raise RuntimeError("this machine has no non-loopback IPv4 address for the relay test")
    return address


class _Server:
    """A listening socket served by one accept thread; `connections` counts clients."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._listener = socket.create_server((host, 0))
        self._listener.settimeout(0.2)
        self.host = host
        self.port = int(self._listener.getsockname()[1])
        self.connections = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accept = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> Self:
        self._accept.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._accept.join(timeout=5)
        for thread in self._threads:
            thread.join(timeout=5)
        self._listener.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            thread = threading.Thread(target=self._guarded, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _guarded(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError), conn:
            self.handle(conn)

    def handle(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def _read_request(self, conn: socket.socket) -> bytes:
        """The request head and body (by Content-Length), enough to answer it."""
        conn.settimeout(5)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
        return head + b"\r\n\r\n" + body


class TcpRelay(_Server):
    """Forwards every connection, byte for byte, to `target` (host, port)."""

    def __init__(self, target: tuple[str, int], host: str) -> None:
        super().__init__(host)
        self.target = target

    def handle(self, conn: socket.socket) -> None:
        with socket.create_connection(self.target, timeout=30) as upstream:
            pumps = [threading.Thread(target=_pump, args=(a, b), daemon=True)
                     for a, b in ((conn, upstream), (upstream, conn))]
            for pump in pumps:
                pump.start()
            for pump in pumps:
                pump.join(timeout=60)


def _pump(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while chunk := source.recv(65536):
            sink.sendall(chunk)
        sink.shutdown(socket.SHUT_WR)


class SlowLoris(_Server):
    """200 with a promised body of `promised` bytes, sent one byte every `interval` seconds."""

    def __init__(self, *, interval: float = 1.0, promised: int = 100_000) -> None:
        super().__init__()
        self.interval = interval
        self.promised = promised

    def handle(self, conn: socket.socket) -> None:
        self._read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Content-Length: " + str(self.promised).encode() + b"\r\n\r\n")
        for _ in range(self.promised):
            if self._stop.wait(self.interval):
                return
            conn.sendall(b" ")


class HugeBody(_Server):
    """200 with a JSON body of `size` bytes (a valid JSON string, so only its size is wrong)."""

    def __init__(self, size: int, *, make_body: Callable[[int], bytes] | None = None) -> None:
        super().__init__()
        self.body = (make_body or _json_string)(size)

    def handle(self, conn: socket.socket) -> None:
        self._read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Content-Length: " + str(len(self.body)).encode() + b"\r\n\r\n")
        view = memoryview(self.body)
        while view:
            sent = conn.send(view[:65536])
            view = view[sent:]


def _json_string(size: int) -> bytes:
    return b'"' + b"a" * (size - 2) + b'"'


class LyingNode(_Server):
    """A JSON-RPC node that forwards to a real one (anvil) after `rewrite` edits each request
    object (single or batch): a hostile RPC endpoint that answers with real data about the
    wrong thing, e.g. the receipt of another transaction."""

    def __init__(self, upstream: str, rewrite: Callable[[dict[str, object]], None]) -> None:
        super().__init__()
        self.upstream = upstream
        self.rewrite = rewrite

    def handle(self, conn: socket.socket) -> None:
        import json

        import httpx

        while True:
            raw = self._read_request(conn)
            if not raw:
                return
            body = json.loads(raw.partition(b"\r\n\r\n")[2] or b"null")
            for request in body if isinstance(body, list) else [body]:
                if isinstance(request, dict):
                    self.rewrite(request)
            answer = httpx.post(self.upstream, json=body, timeout=30).content
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: " + str(len(answer)).encode() + b"\r\n\r\n" + answer)
