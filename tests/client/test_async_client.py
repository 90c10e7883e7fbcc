"""AsyncVeniceClient over httpx.MockTransport: routes, auth, envelopes, retries, no POST retry."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests.client.helpers import (
    ADMIN,
    BASE,
    INFER,
    KEY_ID,
    NEW_SECRET,
    Script,
    Sleeps,
    api_key_json,
    created_json,
    make_client,
    resp,
)
from venice_web3_keys import errors
from venice_web3_keys.client import USER_AGENT, AsyncVeniceClient
from venice_web3_keys.models import KeySpec, KeyUpdate, Web3Challenge

ADDR = "0x1111111111111111111111111111111111111111"
SPEC = KeySpec(api_key_type="INFERENCE", description="backend", usd_limit=50,
               limit_period="MONTH")


def auth_of(request: httpx.Request) -> str | None:
    value: str | None = request.headers.get("authorization")
    return value


# ------------------------------------------------------------------ routes and envelopes


async def test_list_keys() -> None:
    script = Script(resp(200, {"object": "list", "data": [api_key_json(), api_key_json()]}))
    async with make_client(script) as client:
        keys = await client.list_keys()
    assert [k.id for k in keys] == [KEY_ID, KEY_ID]
    req = script.requests[0]
    assert req.method == "GET" and str(req.url) == f"{BASE}/api_keys"
    assert auth_of(req) == f"Bearer {ADMIN.reveal()}"
    assert req.headers["user-agent"] == USER_AGENT
    assert USER_AGENT.startswith("venice-web3-keys/")


async def test_get_key_validates_id_and_uses_data_envelope() -> None:
    script = Script(resp(200, {"data": api_key_json(usage={"trailingSevenDays": {"usd": "1.0"}})}))
    async with make_client(script) as client:
        key = await client.get_key(KEY_ID.upper())
        with pytest.raises(errors.InvalidInputError):
            await client.get_key("../billing/balance")
    assert key.usage is not None
    assert len(script.requests) == 1
    assert script.requests[0].url.path == f"/api/v1/api_keys/{KEY_ID}"


async def test_create_key_body_and_secret() -> None:
    script = Script(resp(200, {"success": True, "data": created_json()}))
    async with make_client(script) as client:
        created = await client.create_key(SPEC)
    assert created.secret.reveal() == NEW_SECRET and created.id == KEY_ID
    req = script.requests[0]
    assert req.method == "POST" and req.url.path == "/api/v1/api_keys"
    assert script.body() == {"apiKeyType": "INFERENCE", "description": "backend",
                             "consumptionLimit": {"usd": 50.0}, "limitPeriod": "MONTH"}


async def test_update_key() -> None:
    script = Script(resp(200, {"success": True, "data": api_key_json(description="new")}))
    async with make_client(script) as client:
        key = await client.update_key(KeyUpdate(id=KEY_ID, description="new", usd_limit=None))
    assert key.description == "new"
    assert script.requests[0].method == "PATCH"
    assert script.body() == {"id": KEY_ID, "description": "new",
                             "consumptionLimit": {"usd": None}}


async def test_delete_key_uses_query_id() -> None:
    script = Script(resp(200, {"success": True}))
    async with make_client(script) as client:
        await client.delete_key(KEY_ID)
    req = script.requests[0]
    assert req.method == "DELETE" and req.url.path == "/api/v1/api_keys"
    assert req.url.params["id"] == KEY_ID and req.content == b""


async def test_delete_success_false_is_an_error() -> None:
    async with make_client(Script(resp(200, {"success": False}))) as client:
        with pytest.raises(errors.APIError):
            await client.delete_key(KEY_ID)


@pytest.mark.parametrize(("api_key", "key", "expected"), [
    (None, None, ADMIN), (INFER, None, INFER), (INFER, ADMIN, ADMIN)])
async def test_rate_limits_key_choice(api_key: Any, key: Any, expected: Any) -> None:
    script = Script(resp(200, {"data": {"accessPermitted": True, "balances": {"USD": 1.5}}}))
    async with make_client(script, api_key=api_key) as client:
        limits = await client.rate_limits(key)
    assert limits.access_permitted is True
    assert auth_of(script.requests[0]) == f"Bearer {expected.reveal()}"
    assert script.requests[0].url.path == "/api/v1/api_keys/rate_limits"


async def test_rate_limits_with_only_inference_key() -> None:
    script = Script(resp(200, {"data": {"accessPermitted": False}}))
    async with make_client(script, admin_key=None, api_key=INFER) as client:
        assert (await client.rate_limits()).access_permitted is False
        with pytest.raises(errors.ConfigError):
            await client.list_keys()
    assert len(script.requests) == 1


async def test_no_key_at_all_is_a_config_error_and_sends_nothing() -> None:
    script = Script(resp(200, {}))
    async with make_client(script, admin_key=None) as client:
        for call in (client.list_keys(), client.rate_limits(), client.billing_balance(),
                     client.rate_limit_log(), client.create_key(SPEC)):
            with pytest.raises(errors.ConfigError):
                await call
    assert script.requests == []


async def test_rate_limit_log_and_billing() -> None:
    script = Script(
        resp(200, {"object": "list", "data": [{"apiKeyId": KEY_ID, "modelId": "m",
                                               "rateLimitTier": "paid", "rateLimitType": "RPM",
                                               "timestamp": "2026-01-01T00:00:00Z"}]}),
        resp(200, {"canConsume": True, "consumptionCurrency": "DIEM",
                   "balances": {"diem": 90.5, "usd": 25}, "diemEpochAllocation": 100}),
    )
    async with make_client(script) as client:
        log = await client.rate_limit_log()
        bal = await client.billing_balance()
    assert log[0].rate_limit_type == "RPM" and bal.can_consume is True
    assert [r.url.path for r in script.requests] == [
        "/api/v1/api_keys/rate_limits/log", "/api/v1/billing/balance"]


# ------------------------------------------------------------------ web3


async def test_web3_jwt_variant_without_authorization() -> None:
    script = Script(resp(200, {"success": True, "data": {"token": "h.p.s"}}),
                    resp(200, {"success": True, "data": created_json()}))
    async with make_client(script) as client:
        challenge = await client.get_web3_challenge(ADDR)
        created = await client.mint_web3_key(address=ADDR, signature="0xsig",
                                             challenge=challenge, spec=SPEC)
    assert challenge.variant == "jwt" and created.secret.reveal() == NEW_SECRET
    get, post = script.requests
    assert get.url.params["address"] == ADDR and get.method == "GET"
    assert auth_of(get) is None and auth_of(post) is None
    body = script.body(1)
    assert body["token"] == "h.p.s" and "message" not in body
    assert body["address"] == ADDR and body["signature"] == "0xsig"
    assert body["apiKeyType"] == "INFERENCE" and body["consumptionLimit"] == {"usd": 50.0}


async def test_web3_siwe_variant_posts_message() -> None:
    msg = "api.venice.ai wants you to sign in with your Ethereum account:\n" + ADDR
    script = Script(resp(200, {"success": True, "data": {"message": msg, "nonce": "n" * 32,
                                                        "expiresAt": "2099-01-01T00:00:00Z"}}),
                    resp(200, {"success": True, "data": created_json()}))
    async with make_client(script) as client:
        challenge = await client.get_web3_challenge(ADDR)
        await client.mint_web3_key(address=ADDR, signature="0xsig", challenge=challenge,
                                   spec=SPEC)
    assert challenge.variant == "siwe" and challenge.nonce == "n" * 32
    body = script.body(1)
    assert body["message"] == msg and "token" not in body


async def test_web3_strips_authorization_even_from_a_callers_client() -> None:
    script = Script(resp(200, {"success": True, "data": {"token": "h.p.s"}}))
    http = httpx.AsyncClient(transport=httpx.MockTransport(script),
                             headers={"Authorization": "Bearer leaked"})
    client = AsyncVeniceClient(BASE, admin_key=ADMIN, http_client=http)
    await client.get_web3_challenge(ADDR)
    await http.aclose()
    assert auth_of(script.requests[0]) is None


async def test_web3_challenge_without_token_or_message_is_malformed() -> None:
    script = Script(resp(200, {"success": True, "data": {"weird": 1}}))
    async with make_client(script) as client:
        with pytest.raises(errors.APIError, match="unreadable response"):
            await client.get_web3_challenge(ADDR)


# ------------------------------------------------------------------ retries


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
async def test_get_retried_on_retryable_status(status: int) -> None:
    sleeps = Sleeps()
    script = Script(resp(status, {"error": "busy"}), resp(status, {"error": "busy"}),
                    resp(200, {"object": "list", "data": []}))
    async with make_client(script, sleeps=sleeps) as client:
        assert await client.list_keys() == []
    assert len(script.requests) == 3 and len(sleeps.calls) == 2
    assert all(0 <= s <= 1.0 for s in sleeps.calls)


@pytest.mark.parametrize("exc", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"),
                                 httpx.ConnectTimeout("slow"), httpx.ReadError("reset"),
                                 httpx.RemoteProtocolError("eof")])
async def test_get_retried_on_transport_errors(exc: Exception) -> None:
    script = Script(exc, resp(200, {"data": api_key_json()}))
    async with make_client(script) as client:
        await client.get_key(KEY_ID)
    assert len(script.requests) == 2


async def test_get_gives_up_after_max_retries() -> None:
    sleeps = Sleeps()
    script = Script(resp(503, {"error": "down"}))
    async with make_client(script, max_retries=3, sleeps=sleeps) as client:
        with pytest.raises(errors.InternalServerError) as info:
            await client.billing_balance()
    assert len(script.requests) == 4 and len(sleeps.calls) == 3
    assert info.value.status_code == 503


async def test_max_retries_zero_means_one_request() -> None:
    script = Script(resp(500, {"error": "x"}))
    async with make_client(script, max_retries=0) as client:
        with pytest.raises(errors.InternalServerError):
            await client.list_keys()
    assert len(script.requests) == 1


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404])
async def test_get_not_retried_on_client_errors(status: int) -> None:
    script = Script(resp(status, {"error": "nope"}))
    async with make_client(script) as client:
        with pytest.raises(errors.APIStatusError):
            await client.list_keys()
    assert len(script.requests) == 1


async def test_retry_after_seconds_honoured() -> None:
    sleeps = Sleeps()
    script = Script(resp(429, {"error": "slow"}, headers={"Retry-After": "7"}),
                    resp(200, {"object": "list", "data": []}))
    async with make_client(script, sleeps=sleeps) as client:
        await client.list_keys()
    assert sleeps.calls == [7.0]


async def test_retry_after_http_date_honoured() -> None:
    from datetime import UTC, datetime, timedelta
    from email.utils import format_datetime

    sleeps = Sleeps()
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    script = Script(resp(503, {"error": "slow"}, headers={"Retry-After": when}),
                    resp(200, {"object": "list", "data": []}))
    async with make_client(script, sleeps=sleeps) as client:
        await client.list_keys()
    assert 17 <= sleeps.calls[0] <= 20


async def test_retry_after_beyond_cap_gives_up_with_retry_after() -> None:
    sleeps = Sleeps()
    script = Script(resp(429, {"error": "slow"}, headers={"Retry-After": "120"}))
    async with make_client(script, max_retry_wait=30, sleeps=sleeps) as client:
        with pytest.raises(errors.RateLimitError) as info:
            await client.list_keys()
    assert info.value.retry_after == 120.0
    assert len(script.requests) == 1 and sleeps.calls == []


@pytest.mark.parametrize("failure", [
    resp(500, {"error": "boom"}), resp(502, text="<html>bad gateway</html>"),
    resp(429, {"error": "slow"}, headers={"Retry-After": "1"}),
    httpx.ReadTimeout("slow"), httpx.ConnectError("refused")])
async def test_writes_are_never_retried(failure: Any) -> None:
    expected = (errors.APITimeoutError if isinstance(failure, httpx.TimeoutException)
                else errors.APIConnectionError if isinstance(failure, Exception)
                else errors.APIStatusError)
    calls: dict[str, Callable[[AsyncVeniceClient], Awaitable[Any]]] = {
        "create": lambda c: c.create_key(SPEC),
        "mint": lambda c: c.mint_web3_key(address=ADDR, signature="0x",
                                          challenge=Web3Challenge(variant="jwt", token="a.b.c"),
                                          spec=SPEC),
        "update": lambda c: c.update_key(KeyUpdate(id=KEY_ID, description="x")),
        "delete": lambda c: c.delete_key(KEY_ID),
    }
    for name, call in calls.items():
        script = Script(failure, resp(200, {"success": True, "data": created_json()}))
        sleeps = Sleeps()
        async with make_client(script, sleeps=sleeps) as client:
            with pytest.raises(expected):
                await call(client)
        assert len(script.requests) == 1, name
        assert sleeps.calls == [], name


async def test_post_timeout_and_5xx_classes_for_reconciliation() -> None:
    async with make_client(Script(httpx.WriteTimeout("slow"))) as client:
        with pytest.raises(errors.APITimeoutError):
            await client.create_key(SPEC)
    async with make_client(Script(resp(500, {"error": "x"}))) as client:
        with pytest.raises(errors.InternalServerError):
            await client.create_key(SPEC)


# ------------------------------------------------------------------ error mapping end to end


@pytest.mark.parametrize(("status", "body", "cls"), [
    (401, {"error": "Admin API key required"}, errors.AdminKeyRequiredError),
    (401, {"error": "Authentication failed"}, errors.AuthenticationError),
    (402, {"x402Version": 2, "error": "Authentication required", "accepts": []},
     errors.CredentialsRequiredError),
    (400, {"error": "API key not found or expired"}, errors.KeyNotFoundError),
    (400, {"error": "Invalid", "details": {"expiresAt": {"_errors": ["Invalid"]}}},
     errors.ValidationError),
    (400, {"error": "Wallet has no staked VVV on Base"}, errors.NoStakedVVVError),
])
async def test_error_mapped_through_client(status: int, body: Any, cls: type) -> None:
    async with make_client(Script(resp(status, body))) as client:
        with pytest.raises(cls):
            await client.list_keys()


async def test_connect_error_and_timeout_classes() -> None:
    async with make_client(Script(httpx.ConnectError("refused")), max_retries=0) as client:
        with pytest.raises(errors.APIConnectionError) as info:
            await client.list_keys()
    assert not isinstance(info.value, errors.APITimeoutError)
    async with make_client(Script(httpx.PoolTimeout("t")), max_retries=0) as client:
        with pytest.raises(errors.APITimeoutError):
            await client.list_keys()


async def test_real_timeout_over_loopback() -> None:
    """A server that accepts but never answers: httpx's timeout becomes APITimeoutError."""
    import asyncio

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = AsyncVeniceClient(f"http://127.0.0.1:{port}/api/v1", admin_key=ADMIN, timeout=0.2,
                               max_retries=0)
    try:
        with pytest.raises(errors.APITimeoutError):
            await client.list_keys()
    finally:
        await client.aclose()
        server.close()


async def test_real_connection_refused_over_loopback() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sleeps = Sleeps()
    client = AsyncVeniceClient(f"http://127.0.0.1:{port}/api/v1", admin_key=ADMIN,
                               max_retries=1, sleep=sleeps)
    with pytest.raises(errors.APIConnectionError):
        await client.list_keys()
    assert len(sleeps.calls) == 1
    await client.aclose()


# ------------------------------------------------------------------ secret safety


async def test_malformed_success_body_with_key_never_leaks() -> None:
    bodies = [
        {"success": True, "data": {"apiKey": NEW_SECRET}},                # no id
        {"success": True, "data": {"apiKey": NEW_SECRET, "id": 5, "apiKeyType": []}},
        {"success": True, "apiKey": NEW_SECRET},                          # no data
        {"success": True, "data": {"id": KEY_ID, "apiKeyType": "INFERENCE",
                                   "apiKey": [NEW_SECRET]}},
    ]
    for body in bodies:
        async with make_client(Script(resp(200, body))) as client:
            with pytest.raises(errors.APIResponseValidationError) as info:
                await client.create_key(SPEC)
        err = info.value
        text = f"{err} {err!r} {err.message} {err.body!r} {err.__cause__!r} {err.__context__!r}"
        assert "brandnewsecret" not in text, body
        assert err.status_code == 200


async def test_non_json_success_body_and_non_json_error() -> None:
    async with make_client(Script(resp(200, text=f"oops {NEW_SECRET}"))) as client:
        with pytest.raises(errors.APIResponseValidationError) as info:
            await client.create_key(SPEC)
    assert "brandnewsecret" not in str(info.value)
    async with make_client(Script(resp(400, text=f"bad {NEW_SECRET}"))) as client:
        with pytest.raises(errors.BadRequestError) as info2:
            await client.create_key(SPEC)
    assert "brandnewsecret" not in f"{info2.value} {info2.value.body!r}"


async def test_errors_and_logs_never_contain_the_bearer_key(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    failures: list[httpx.Response | Exception] = [
        resp(401, {"error": f"bad key {ADMIN.reveal()}"}), httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"), resp(500, {"error": "x", "apiKey": NEW_SECRET})]
    for failure in failures:
        async with make_client(Script(failure), max_retries=1) as client:
            with pytest.raises(errors.APIError) as info:
                await client.list_keys()
        err = info.value
        text = f"{err} {err!r} {err.body!r} {err.__cause__!r}"
        assert "adminsecret" not in text and "brandnewsecret" not in text
    assert "adminsecret" not in caplog.text and "brandnewsecret" not in caplog.text
    assert "retrying GET /api_keys" in caplog.text


async def test_repr_hides_keys() -> None:
    client = make_client(Script(resp(200, {})), api_key=INFER)
    assert "adminsecret" not in repr(client) and "infersecret" not in repr(client)
    await client.aclose()


async def test_base_url_checked_and_trailing_slash_stripped() -> None:
    with pytest.raises(errors.ConfigError):
        AsyncVeniceClient("ftp://x")
    client = AsyncVeniceClient(BASE + "/")
    assert client.base_url == BASE
    await client.aclose()


async def test_callers_http_client_left_open() -> None:
    http = httpx.AsyncClient(transport=httpx.MockTransport(Script(resp(200, {}))))
    async with AsyncVeniceClient(BASE, http_client=http):
        pass
    assert not http.is_closed
    await http.aclose()
