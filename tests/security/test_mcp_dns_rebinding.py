"""DNS rebinding against the Streamable HTTP transport: a web page whose name resolves to the
server's loopback address makes the browser send requests with the page's own Host and Origin.
The server must answer 421 (foreign Host) / 403 (foreign Origin) and run nothing, however the
loopback bind address is spelled, with or without a bearer token."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.mcp.conftest import TOKEN, Operator, free_port, http_server, new_account
from tests.mcp.helpers import HTTP_HEADERS, INITIALIZE

# bind address -> where a client connects, and the Host it sends when it is not rebound
LOOPBACK_SPELLINGS = {
    "127.0.0.2": ("127.0.0.2", "127.0.0.2"),
    "LOCALHOST": ("127.0.0.1", "localhost"),
    "0:0:0:0:0:0:0:1": ("::1", "[::1]"),
}


@pytest.fixture
def operator(tmp_path: Path, venice_sandbox: Any) -> Operator:
    return Operator(home=tmp_path, account=new_account(venice_sandbox))


@contextmanager
def serving(op: Operator, host: str, connect: str, port: int) -> Iterator[str]:
    with http_server(op, op.home / f"http-{port}.log", port=port, host=host,
                     connect=connect) as url:
        yield url


def post(url: str, body: dict[str, Any], **headers: str) -> httpx.Response:
    return httpx.post(url, json=body, headers={**HTTP_HEADERS, **headers}, timeout=10)


@pytest.mark.parametrize("bind", list(LOOPBACK_SPELLINGS))
def test_a_rebound_page_cannot_reach_a_loopback_server_however_loopback_is_spelled(
    operator: Operator, bind: str
) -> None:
    connect, own_name = LOOPBACK_SPELLINGS[bind]
    port = free_port()
    own_host = f"{own_name}:{port}"
    with serving(operator, bind, connect, port) as url:
        assert post(url, INITIALIZE, Host=f"evil.example:{port}").status_code == 421
        assert post(url, INITIALIZE, Host=f"attacker.test:{port}",
                    Origin=f"http://attacker.test:{port}").status_code == 421
        assert post(url, INITIALIZE, Host=own_host,
                    Origin=f"http://evil.example:{port}").status_code == 403
        assert post(url, INITIALIZE, Host=own_host).status_code == 200  # no Origin: not a browser
        assert post(url, INITIALIZE, Host=own_host, Origin=f"http://{own_host}").status_code == 200


def test_a_rebound_tool_call_runs_nothing(operator: Operator, venice_sandbox: Any) -> None:
    port = free_port()
    own = {"Host": f"127.0.0.2:{port}"}
    emulator = venice_sandbox.emulator
    with serving(operator, "127.0.0.2", "127.0.0.2", port) as url:
        init = post(url, INITIALIZE, **own)
        assert init.status_code == 200
        session = {"Mcp-Session-Id": init.headers["mcp-session-id"],
                   "Mcp-Protocol-Version": "2025-11-25"}
        post(url, {"jsonrpc": "2.0", "method": "notifications/initialized"}, **own, **session)
        call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                "params": {"name": "venice_list_keys", "arguments": {}}}
        before = len(emulator.requests())
        rebound = post(url, call, **session, Host=f"evil.example:{port}",
                       Origin=f"http://evil.example:{port}")
        assert rebound.status_code == 421
        time.sleep(0.5)
        assert [r.route for r in emulator.requests()[before:]] == []  # Venice never asked
        allowed = post(url, call, **own, **session)
        assert allowed.status_code == 200 and '"count"' in allowed.text
        assert "GET /api_keys" in [r.route for r in emulator.requests()[before:]]


def test_off_loopback_with_a_token_only_the_listed_hosts_are_served(operator: Operator) -> None:
    port = free_port()
    operator.extra_env.update(VENICE_MCP_AUTH_TOKEN=TOKEN,
                              VENICE_MCP_ALLOWED_HOSTS=f"keys.internal.test:{port}",
                              VENICE_MCP_ALLOWED_ORIGINS="https://console.internal.test")
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with serving(operator, "0.0.0.0", "127.0.0.1", port) as url:
        assert post(url, INITIALIZE, **auth, Host=f"evil.example:{port}").status_code == 421
        assert post(url, INITIALIZE, **auth, Host=f"keys.internal.test:{port}").status_code == 200
        assert post(url, INITIALIZE, **auth, Host=f"keys.internal.test:{port}",
                    Origin="https://console.internal.test").status_code == 200
        assert post(url, INITIALIZE, **auth, Host=f"keys.internal.test:{port}",
                    Origin="https://evil.example").status_code == 403
        assert post(url, INITIALIZE, **auth, Host=f"127.0.0.1:{port}").status_code == 200
