"""Streamable HTTP hardening: bearer token (constant-time, 401), refusals to start, session cap."""

from __future__ import annotations

import subprocess
import sys

import anyio
import httpx
import pytest
from mcp import Client

from tests.mcp.conftest import LAUNCHER, TOKEN, Operator, free_port, http_server, open_client
from tests.mcp.helpers import HTTP_HEADERS as HEADERS
from tests.mcp.helpers import INITIALIZE as INIT
from tests.mcp.helpers import READ_TOOLS


async def test_token_required_on_every_request(operator: Operator) -> None:
    operator.extra_env["VENICE_MCP_AUTH_TOKEN"] = TOKEN
    with http_server(operator, operator.home / "http.log") as url:
        async with httpx.AsyncClient(timeout=10) as http:
            for auth in (None, "Bearer wrong", f"Bearer {TOKEN}x", TOKEN, f"Basic {TOKEN}"):
                headers = dict(HEADERS, **({"Authorization": auth} if auth else {}))
                r = await http.post(url, json=INIT, headers=headers)
                assert r.status_code == 401, auth
                assert TOKEN not in r.text
                assert (await http.get(url, headers=headers)).status_code == 401
            good = dict(HEADERS, Authorization=f"Bearer {TOKEN}")
            r = await http.post(url, json=INIT, headers=good)
            assert r.status_code == 200
        # the real client without the token cannot even initialize
        with pytest.raises(Exception):  # noqa: B017 - any transport failure will do
            async with Client(url) as c:
                await c.list_tools()
    assert TOKEN not in (operator.home / "http.log").read_text()


@pytest.mark.parametrize(
    ("args", "token", "message"),
    [
        (["--http"], "short-token", "at least 32 characters"),
        (["--http", "--host", "0.0.0.0"], None, "not loopback"),
        (["--http", "--host", "192.0.2.10"], None, "without VENICE_MCP_AUTH_TOKEN"),
    ],
)
def test_refuses_to_start(
    operator: Operator, args: list[str], token: str | None, message: str
) -> None:
    if token:
        operator.extra_env["VENICE_MCP_AUTH_TOKEN"] = token
    proc = subprocess.run(
        [sys.executable, str(LAUNCHER), *args, "--port", str(free_port())],
        env=operator.env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert message in proc.stderr
    if token:
        assert token not in proc.stderr


async def test_loopback_without_token_serves(operator: Operator) -> None:
    async with open_client("http", operator) as run:
        assert {t.name for t in (await run.client.list_tools()).tools} == READ_TOOLS


async def test_session_cap_and_idle_ttl(operator: Operator) -> None:
    operator.extra_env.update(VENICE_MCP_MAX_SESSIONS="1", VENICE_MCP_SESSION_TTL="1")
    with http_server(operator, operator.home / "http.log") as url:
        async with httpx.AsyncClient(timeout=10) as http:
            first = await http.post(url, json=INIT, headers=HEADERS)
            assert first.status_code == 200 and first.headers.get("mcp-session-id")
            second = await http.post(url, json=INIT, headers=HEADERS)
            assert second.status_code == 503
            await anyio.sleep(2.5)  # the idle session is reaped, freeing its slot
            third = await http.post(url, json=INIT, headers=HEADERS)
            assert third.status_code == 200
