"""VENICE_TIMEOUT bounds a whole call (every read, every retry), and bodies are capped.

Reproduced: `VENICE_TIMEOUT=2 venice-keys keys list` against a server sending one byte a second
ran on until killed, because each read finished inside the per-read timeout. The servers here are
real loopback sockets (tests/security/servers.py). A bound that fails shows up as the test's own
`asyncio.wait_for` / subprocess timeout firing, many times the configured deadline.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Awaitable

import pytest

from tests.fakes import fake_key
from tests.harness import CliRunner
from tests.security.servers import HugeBody, SlowLoris, _Server
from venice_web3_keys.chain import ChainReader
from venice_web3_keys.client import AsyncVeniceClient
from venice_web3_keys.errors import (
    APIResponseValidationError,
    APITimeoutError,
    ChainUnreachableError,
    RateLimitError,
)
from venice_web3_keys.secret import SecretValue
from venice_web3_keys.settings import (
    DEFAULT_DIEM_TOKEN,
    DEFAULT_STAKING_CONTRACT,
    DEFAULT_VVV_TOKEN,
)

ADMIN = SecretValue(fake_key("ADMIN"))
WALLET = "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23"
#: how long a bounded call may take before the test calls it unbounded (deadline is 2 s)
GUARD = 15.0


async def _seconds_until(error: type[Exception], call: Awaitable[object]) -> float:
    """How long `call` took to fail with `error` (the guard fails the test if it never ends)."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(error):
        await asyncio.wait_for(call, GUARD)
    return loop.time() - started


def _reader(urls: list[str], timeout: float) -> ChainReader:
    return ChainReader(urls, chain_id=8453, staking_contract=DEFAULT_STAKING_CONTRACT,
                       vvv_token=DEFAULT_VVV_TOKEN, diem_token=DEFAULT_DIEM_TOKEN,
                       timeout=timeout)


async def test_slowloris_server_hits_overall_deadline() -> None:
    with SlowLoris(interval=1.0) as server:
        async with AsyncVeniceClient(f"{server.url}/api/v1", admin_key=ADMIN, timeout=2,
                                     max_retries=0) as client:
            with pytest.raises(APITimeoutError, match="VENICE_TIMEOUT"):
                await asyncio.wait_for(client.list_keys(), GUARD)


async def test_slowloris_deadline_covers_retries() -> None:
    """Retries of a GET share the one deadline: six slow attempts do not get 2 s each, and
    each gets a share of what is left (a stuck first attempt does not starve the retries)."""
    with SlowLoris(interval=0.5) as server:
        async with AsyncVeniceClient(f"{server.url}/api/v1", admin_key=ADMIN, timeout=2,
                                     max_retries=5) as client:
            elapsed = await _seconds_until(APITimeoutError, client.list_keys())
    assert elapsed < 2 + 0.5, elapsed
    assert 2 <= server.connections <= 6


def test_slowloris_cli_exits_within_venice_timeout(cli: CliRunner) -> None:
    with SlowLoris(interval=1.0) as server:
        res = cli.subprocess("--json", "keys", "list", timeout=GUARD, env={
            "VENICE_API_BASE_URL": f"{server.url}/api/v1", "VENICE_ADMIN_KEY": ADMIN.reveal(),
            "VENICE_TIMEOUT": "2"})
    assert res.code == 1, res.stderr
    assert res.json()["error"]["type"] == "APITimeoutError"


async def test_slowloris_rpc_hits_overall_deadline() -> None:
    with SlowLoris(interval=1.0) as first, SlowLoris(interval=1.0) as second:
        reader = _reader([first.url, second.url], timeout=2)
        async with reader:
            with pytest.raises(ChainUnreachableError, match="timed out"):
                await asyncio.wait_for(reader.wallet_status(WALLET), GUARD)
    assert first.connections == 1 and second.connections == 1  # failover kept a share


class _AlwaysBusy(_Server):
    """429 with Retry-After: 1, forever."""

    def handle(self, conn: socket.socket) -> None:
        while self._read_request(conn):
            body = json.dumps({"error": "Rate limit exceeded"}).encode()
            conn.sendall(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\n"
                         b"Content-Type: application/json\r\nContent-Length: "
                         + str(len(body)).encode() + b"\r\n\r\n" + body)


async def test_retry_waits_never_pass_the_deadline() -> None:
    with _AlwaysBusy() as server:
        async with AsyncVeniceClient(f"{server.url}/api/v1", admin_key=ADMIN, timeout=2.5,
                                     max_retries=50) as client:
            elapsed = await _seconds_until(RateLimitError, client.list_keys())
    assert elapsed < 2.5 + 0.5, elapsed  # gave up instead of sleeping past the deadline


async def test_oversized_body_is_refused_with_a_clear_error() -> None:
    with HugeBody(9 * 1024 * 1024) as server:
        async with AsyncVeniceClient(f"{server.url}/api/v1", admin_key=ADMIN, timeout=10,
                                     max_retries=0) as client:
            with pytest.raises(APIResponseValidationError, match="8 MiB"):
                await asyncio.wait_for(client.list_keys(), GUARD)


async def test_oversized_rpc_body_is_refused() -> None:
    with HugeBody(9 * 1024 * 1024) as server:
        async with _reader([server.url], timeout=10) as reader:
            with pytest.raises(ChainUnreachableError, match="8 MiB"):
                await asyncio.wait_for(reader.wallet_status(WALLET), GUARD)


def test_default_timeout_is_stated() -> None:
    from pathlib import Path

    from venice_web3_keys.settings import DEFAULT_TIMEOUT, Settings

    assert Settings().timeout == DEFAULT_TIMEOUT
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith("| `VENICE_TIMEOUT`"))
    assert f"`{DEFAULT_TIMEOUT:g}`" in row and "retries" in row
