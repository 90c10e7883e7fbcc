"""The TLS context each HTTP client gets (bounded_http.tls_context).

httpx loads the CA bundle for every client it builds; the package's clients load it at most
once per process, and not at all for plain-http URLs (the sandbox, a loopback node). The
attack: a no-CA context must never be a way to talk TLS without verification.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from venice_web3_keys.bounded_http import _verifying_context, tls_context
from venice_web3_keys.chain import ChainReader
from venice_web3_keys.client.async_client import AsyncVeniceClient
from venice_web3_keys.settings import (
    DEFAULT_DIEM_TOKEN,
    DEFAULT_STAKING_CONTRACT,
    DEFAULT_VVV_TOKEN,
)


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[int]:
    """A TLS server on 127.0.0.1 with a self-signed certificate; yields its port."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail("openssl is needed to make the test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(5)

    def serve() -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        try:
            with server_ctx.wrap_socket(conn, server_side=True):
                pass
        except (ssl.SSLError, OSError):
            pass  # the client hung up: what the test expects

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
        thread.join(5)


def test_a_context_for_plain_http_trusts_no_certificate_at_all(tls_server: int) -> None:
    ctx = tls_context(["http://127.0.0.1:8545", "HTTP://localhost:1/api/v1"])
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    assert ctx.get_ca_certs() == []
    with socket.create_connection(("127.0.0.1", tls_server), timeout=5) as raw, \
            pytest.raises(ssl.SSLCertVerificationError):
        ctx.wrap_socket(raw, server_hostname="127.0.0.1")


def test_any_https_url_gets_the_one_verifying_context() -> None:
    ctx = tls_context(["http://127.0.0.1:8545", "https://mainnet.base.org"])
    assert ctx is tls_context(["https://api.venice.ai/api/v1"])
    assert ctx is not tls_context(["http://127.0.0.1:8545"])
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    assert len(ctx.get_ca_certs()) > 0


def test_building_clients_loads_the_ca_bundle_at_most_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """httpx alone loads it once per client (the cost this removes)."""
    loads: list[Any] = []
    real = ssl.SSLContext.load_verify_locations

    def counting(self: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        loads.append(args)
        real(self, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counting)
    _verifying_context.cache_clear()
    for _ in range(3):
        AsyncVeniceClient("http://127.0.0.1:9/api/v1")
        ChainReader(["http://127.0.0.1:9"], chain_id=8453,
                    staking_contract=DEFAULT_STAKING_CONTRACT, vvv_token=DEFAULT_VVV_TOKEN,
                    diem_token=DEFAULT_DIEM_TOKEN)
    assert loads == []
    for _ in range(3):
        AsyncVeniceClient("https://api.venice.ai/api/v1")
        ChainReader(["https://mainnet.base.org"], chain_id=8453,
                    staking_contract=DEFAULT_STAKING_CONTRACT, vvv_token=DEFAULT_VVV_TOKEN,
                    diem_token=DEFAULT_DIEM_TOKEN)
    assert len(loads) == 1
