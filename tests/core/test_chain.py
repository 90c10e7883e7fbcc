from __future__ import annotations

import json
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from tests.harness import PLAIN_HTTP
from venice_web3_keys.chain import ChainReader
from venice_web3_keys.errors import (
    ChainError,
    ChainUnreachableError,
    MissingContractError,
    WrongChainError,
)
from venice_web3_keys.sandbox.chain import LocalChain
from venice_web3_keys.settings import (
    DEFAULT_DIEM_TOKEN,
    DEFAULT_STAKING_CONTRACT,
    DEFAULT_VVV_TOKEN,
)

WALLET = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
NO_CODE = "0x000000000000000000000000000000000000dEaD"


def dead_url(path: str = "") -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"  # closed again: connection refused


class _Handler(BaseHTTPRequestHandler):
    status = 503
    body = b'{"error": "upstream"}'

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(self.status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def bad_server() -> Iterator[tuple[str, type[_Handler]]]:
    handler = type("H", (_Handler,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v3/PROVIDERKEY", handler
    server.shutdown()
    server.server_close()


@pytest.fixture
def silent_server() -> Iterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)  # never accepts: requests connect, then time out waiting for a response
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


class Counter:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> None:
        self.requests.append(request)


@pytest.fixture
async def counted() -> AsyncIterator[tuple[httpx.AsyncClient, Counter]]:
    counter = Counter()
    client = httpx.AsyncClient(event_hooks={"request": [counter]})
    yield client, counter
    await client.aclose()


def reader(urls: list[str], *, chain_id: int = 8453, diem: str = DEFAULT_DIEM_TOKEN,
           timeout: float = 5.0, client: httpx.AsyncClient | None = None) -> ChainReader:
    return ChainReader(urls, chain_id=chain_id, staking_contract=DEFAULT_STAKING_CONTRACT,
                       vvv_token=DEFAULT_VVV_TOKEN, diem_token=diem, timeout=timeout,
                       http_client=client)


async def test_wallet_status_one_batch(
    chain: LocalChain, counted: tuple[httpx.AsyncClient, Counter]
) -> None:
    client, counter = counted
    chain.fund(WALLET, eth=Decimal("0.25"), vvv=1000, svvv=Decimal("1.5"),
               diem=Decimal("0.000000000000000001"))
    r = reader([chain.rpc_url], client=client)
    status = await r.wallet_status(WALLET.lower())
    assert status.address == WALLET
    assert status.chain_id == 8453
    assert status.balances == {"ETH": Decimal("0.25"), "VVV": Decimal(1000),
                               "sVVV": Decimal("1.5"), "DIEM": Decimal("1E-18")}
    assert list(status.balances) == ["ETH", "VVV", "sVVV", "DIEM"]
    assert status.eligible is True
    assert len(counter.requests) == 1
    assert isinstance(json.loads(counter.requests[0].content), list)
    await r.aclose()
    assert not client.is_closed  # a caller's client is not ours to close


async def test_huge_balances_are_exact(chain: LocalChain) -> None:
    """30+ significant digits: the default decimal context (28 digits) would round these."""
    huge = Decimal("123456789012345.123456789012345678")
    chain.fund(WALLET, vvv=huge)
    r = reader([chain.rpc_url])
    assert (await r.wallet_status(WALLET)).balances["VVV"] == huge
    await r.aclose()


async def test_not_eligible_without_svvv(chain: LocalChain) -> None:
    chain.fund(WALLET, svvv=0, vvv=5)
    r = reader([chain.rpc_url])
    status = await r.wallet_status(WALLET)
    assert status.eligible is False and status.balances["sVVV"] == 0
    assert status.balances["VVV"] == 5
    await r.aclose()


async def test_failover_dead_then_5xx_then_anvil(
    chain: LocalChain, bad_server: tuple[str, type[_Handler]],
    counted: tuple[httpx.AsyncClient, Counter],
) -> None:
    client, counter = counted
    chain.fund(WALLET, svvv=7)
    r = reader([dead_url(), bad_server[0], chain.rpc_url], client=client)
    status = await r.wallet_status(WALLET)
    assert status.balances["sVVV"] == 7
    assert len(counter.requests) == 3
    assert await r.chain_id() == 8453


async def test_failover_on_timeout_and_non_batch_answer(
    chain: LocalChain, silent_server: str, bad_server: tuple[str, type[_Handler]]
) -> None:
    url, handler = bad_server
    handler.status, handler.body = 200, b'{"jsonrpc":"2.0","id":null,"error":{"code":-32600}}'
    r = reader([silent_server, url, chain.rpc_url], timeout=0.5)
    assert (await r.wallet_status(WALLET)).chain_id == 8453
    await r.aclose()


async def test_all_unreachable_lists_hosts_without_keys(
    bad_server: tuple[str, type[_Handler]], silent_server: str
) -> None:
    dead = dead_url("/v2/ALCHEMYSECRET?key=Q")
    r = reader([dead, bad_server[0], silent_server], timeout=0.5)
    with pytest.raises(ChainUnreachableError) as info:
        await r.wallet_status(WALLET)
    text = str(info.value)
    assert "ALCHEMYSECRET" not in text and "PROVIDERKEY" not in text and "key=Q" not in text
    for url in (dead, bad_server[0], silent_server):
        assert url.split("/")[2] in text
    assert "HTTP 503" in text and "timed out" in text and "connection failed" in text
    await r.aclose()


async def test_wrong_chain(chain: LocalChain) -> None:
    r = reader([chain.rpc_url], chain_id=84532)
    with pytest.raises(WrongChainError) as info:
        await r.wallet_status(WALLET)
    assert info.value.expected == 84532 and info.value.actual == 8453
    assert "chain 8453," in str(info.value) and "chain 84532 " in str(info.value)
    with pytest.raises(WrongChainError):
        await r.chain_id()
    await r.aclose()


async def test_missing_contract(chain: LocalChain) -> None:
    r = reader([chain.rpc_url], diem=NO_CODE)
    with pytest.raises(MissingContractError, match="no contract code") as info:
        await r.wallet_status(WALLET)
    assert "DIEM" in str(info.value) and NO_CODE in str(info.value)
    await r.aclose()


async def test_contract_that_is_not_an_erc20(chain: LocalChain) -> None:
    weird = "0x00000000000000000000000000000000000beef0"
    chain.rpc("anvil_setCode", [weird, "0x00"])  # STOP: returns no data to any call
    r = reader([chain.rpc_url], diem=weird)
    with pytest.raises(MissingContractError, match="ERC-20"):
        await r.wallet_status(WALLET)
    await r.aclose()


def test_repr_hides_rpc_keys() -> None:
    r = reader(["https://base.example/v2/SECRETKEY"])
    assert "SECRETKEY" not in repr(r) and "base.example" in repr(r)


# ---- a JSON-RPC proxy in front of anvil that damages its answers in one chosen way --------

@pytest.fixture
def proxy(chain: LocalChain) -> Iterator[Any]:
    """set(mutate) then use `.url`: each batch goes to anvil, `mutate(calls, answers)` decides
    what the client gets back (a list to send as JSON, or raw bytes)."""

    class Proxy:
        mutate: Any = None
        url = ""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            calls = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
            answers = httpx.post(chain.rpc_url, verify=PLAIN_HTTP, json=calls, timeout=10).json()
            out = Proxy.mutate(calls, answers)
            body = out if isinstance(out, bytes) else json.dumps(out).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Proxy
    server.shutdown()
    server.server_close()


def _answer_for(calls: list[dict[str, Any]], answers: list[dict[str, Any]], index: int,
                **replace: Any) -> list[dict[str, Any]]:
    """`answers` with the answer to calls[index] replaced by `replace` (same id)."""
    wanted = calls[index]["id"]
    return [({"jsonrpc": "2.0", "id": wanted, **replace} if a["id"] == wanted else a)
            for a in answers]


@pytest.mark.parametrize(("damage", "why"), [
    (lambda calls, answers: b"<html>502 Bad Gateway</html>", "other than JSON"),  # 200, no JSON
    (lambda calls, answers: answers[:-1], "left calls of the batch unanswered"),
])
async def test_failover_past_an_unusable_batch_answer(chain: LocalChain, proxy: Any,
                                                      damage: Any, why: str) -> None:
    chain.fund(WALLET, svvv=9)
    proxy.mutate = damage
    async with reader([proxy.url, chain.rpc_url]) as r:
        assert (await r.wallet_status(WALLET)).balances["sVVV"] == 9
    async with reader([proxy.url]) as r:
        with pytest.raises(ChainUnreachableError) as info:
            await r.wallet_status(WALLET)
    assert why in str(info.value)


@pytest.mark.parametrize(("index", "replace", "expected"), [
    (0, {"error": {"code": -32005, "message": "rate limited"}}, "refused eth_chainId: rate lim"),
    (1, {"error": "plain text error"}, "refused eth_getBalance: plain text error"),
    (2, {"error": {"code": 3, "message": "execution reverted"}}, "sVVV contract .* call failed"),
    (0, {"result": "0xZZ"}, "malformed value for eth_chainId"),
    (1, {"result": 12}, "malformed value for ETH balance"),
    (3, {"result": hex(78)}, "sVVV contract .* reports 78 decimals"),
])
async def test_bad_answers_inside_a_good_batch_are_chain_errors(
        chain: LocalChain, proxy: Any, index: int, replace: dict[str, Any],
        expected: str) -> None:
    chain.fund(WALLET, svvv=1)
    proxy.mutate = lambda calls, answers: _answer_for(calls, answers, index, **replace)
    async with reader([proxy.url, chain.rpc_url]) as r:  # an answer, so no failover
        with pytest.raises(ChainError, match=expected) as info:
            await r.wallet_status(WALLET)
    assert not isinstance(info.value, ChainUnreachableError)


async def test_chain_id_refused_and_no_urls(proxy: Any) -> None:
    proxy.mutate = lambda calls, answers: _answer_for(calls, answers, 0,
                                                      error={"message": "forbidden"})
    async with reader([proxy.url]) as r:
        with pytest.raises(ChainError, match="refused eth_chainId: forbidden"):
            await r.chain_id()
    with pytest.raises(ChainError, match="no RPC URL"):
        reader([])


async def test_context_manager_closes_its_own_client() -> None:
    r = reader(["http://127.0.0.1:1"])
    async with r as entered:
        assert entered is r
    assert r._client.is_closed


async def test_failover_warns_only_when_there_is_a_next_endpoint(
    chain: LocalChain, caplog: pytest.LogCaptureFixture
) -> None:
    """'trying the next one' after the last endpoint would send the user looking for it."""
    caplog.set_level("WARNING", logger="venice_web3_keys.chain")
    r = reader([dead_url(), chain.rpc_url])
    await r.wallet_status(WALLET)
    assert [m for m in caplog.messages if "trying the next one" in m]
    caplog.clear()
    lone = reader([dead_url()])
    with pytest.raises(ChainUnreachableError):
        await lone.wallet_status(WALLET)
    assert not [m for m in caplog.messages if "trying the next one" in m]
    await r.aclose()
    await lone.aclose()
