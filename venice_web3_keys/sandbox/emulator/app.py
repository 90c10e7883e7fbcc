"""The Starlette app: Venice's `/api/v1` key routes, plus `/_sandbox/` controls for tests.

Auth, envelopes, status codes and texts follow Venice's documented and observed behaviour;
where Venice documents nothing the choice is ours and marked [I]. A pure-ASGI middleware in
front applies injected faults and keeps the request log, so faults can act *after* a handler
committed (the ambiguous outcomes clients must reconcile).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from venice_web3_keys.sandbox.emulator import web3_mint
from venice_web3_keys.sandbox.emulator.clock import iso_ms
from venice_web3_keys.sandbox.emulator.faults import ROUTES, Fault
from venice_web3_keys.sandbox.emulator.schemas import (
    RequestValidationError,
    validate_address_query,
    validate_create,
    validate_delete,
    validate_mint,
    validate_update,
)
from venice_web3_keys.sandbox.emulator.state import (
    KEY_NOT_FOUND,
    EmulatorHTTPError,
    EmulatorState,
    RecordedRequest,
    StoredKey,
)

PREFIX = "/api/v1"
AUTH_FAILED = "Authentication failed"
ADMIN_REQUIRED = "Admin API key required"
AUTH_REQUIRED = "Authentication required"
BASE_USDC = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"
SANDBOX_PAY_TO = "0x000000000000000000000000000000000000dEaD"  # sandbox only: nothing is paid
_SIWX_HEADERS = ("sign-in-with-x", "x-sign-in-with-x")

Handler = Callable[[Request], Awaitable[Response]]


def route_name(method: str, path: str) -> str | None:
    """The fault/route key of a request, e.g. "GET /api_keys/{id}"; None for unknown paths."""
    if not path.startswith(PREFIX + "/"):
        return None
    sub = path[len(PREFIX):].rstrip("/") or "/"
    name = f"{method} {sub}"
    if name in ROUTES:
        return name
    if method == "GET" and sub.startswith("/api_keys/") and sub.count("/") == 2:
        return "GET /api_keys/{id}"
    return None


def _redact_query(query: str) -> str:
    """Keep the query for the log, minus anything that looks like a pasted secret."""
    pairs = [(k, "[redacted]" if v.startswith("VENICE_") else v)
             for k, v in parse_qsl(query, keep_blank_values=True)]
    return urlencode(pairs)


def _origin(request: Request) -> tuple[str, str]:
    """(host, base) as the client addressed us: `127.0.0.1:PORT`, `http://127.0.0.1:PORT`."""
    host = request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"
    return host, f"{request.url.scheme}://{host}"


def discovery_body(state: EmulatorState, request: Request) -> dict[str, Any]:
    """The x402 discovery body Venice sends with a 402 when no credentials came."""
    host, base = _origin(request)
    now = state.now()
    return {
        "x402Version": 2,
        "error": AUTH_REQUIRED,
        "resource": {"url": f"{base}{request.url.path}", "description": "Venice API",
                     "mimeType": "application/json"},
        "accepts": [{
            "scheme": "exact", "network": "eip155:8453", "amount": "5000000",
            "asset": BASE_USDC, "payTo": SANDBOX_PAY_TO, "maxTimeoutSeconds": 300,
            "extra": {"name": "USD Coin", "version": "2"},
        }],
        "extensions": {"sign-in-with-x": {
            "info": {
                "domain": host, "uri": base, "version": "1", "nonce": secrets.token_hex(8),
                "issuedAt": iso_ms(now), "expirationTime": iso_ms(now + timedelta(minutes=5)),
                "statement": "Sign in to Venice AI",
            },
            "supportedChains": [{"chainId": "eip155:8453", "type": "eip191"}],
        }},
        "authOptions": [  # [I] the shape is undocumented; names the two ways in
            {"type": "bearer", "header": "Authorization", "format": "Bearer <API key>"},
            {"type": "siwx", "header": "SIGN-IN-WITH-X", "format": "base64(JSON)"},
        ],
    }


def authenticate(state: EmulatorState, request: Request, *, admin: bool) -> StoredKey:
    header = request.headers.get("authorization")
    if header is None:
        if any(h in request.headers for h in _SIWX_HEADERS):
            raise EmulatorHTTPError(401, {"error": AUTH_FAILED})  # SIWX is not for key routes
        raise EmulatorHTTPError(402, discovery_body(state, request))
    scheme, _, secret = header.partition(" ")
    key = state.authenticate(secret.strip()) if scheme.lower() == "bearer" else None
    if key is None:
        raise EmulatorHTTPError(401, {"error": AUTH_FAILED})
    if admin and key.api_key_type != "ADMIN":
        raise EmulatorHTTPError(401, {"error": ADMIN_REQUIRED})
    return key


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


async def read_json(request: Request, *, required: bool = True) -> Any:
    raw = await request.body()
    if not raw.strip():
        if not required:
            return None
        raise RequestValidationError([{"code": "invalid_type", "path": [],
                                       "message": "Expected object, received undefined"}])
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except ValueError as exc:
        raise RequestValidationError(
            [{"code": "invalid_json", "path": [], "message": "Invalid JSON body"}]
        ) from exc


def _created(key: StoredKey, secret_reveal: str, limits: dict[str, Any]) -> JSONResponse:
    return JSONResponse({"success": True, "data": {
        "id": key.id,
        "apiKey": secret_reveal,
        "apiKeyType": key.api_key_type,
        "description": key.description,
        "expiresAt": iso_ms(key.expires_at) if key.expires_at else None,
        "consumptionLimit": limits,
        "limitPeriod": key.limit_period,
        "modelPrivacy": key.model_privacy,
    }})


def api_routes(state: EmulatorState) -> list[Route]:
    async def list_keys(request: Request) -> Response:
        caller = authenticate(state, request, admin=True)
        data = [k.view() for k in state.live_keys(caller.account)]
        return JSONResponse({"object": "list", "data": data})

    async def create_key(request: Request) -> Response:
        caller = authenticate(state, request, admin=True)
        body = validate_create(await read_json(request))
        key, secret = state.create_key(state.account(caller.account), body)
        sent = body.get("consumptionLimit") or {}
        return _created(key, secret.reveal(), {k: sent.get(k) for k in ("usd", "diem", "vcu")})

    async def update_key(request: Request) -> Response:
        caller = authenticate(state, request, admin=True)
        body = validate_update(await read_json(request))
        key = state.update_key(caller.account, body)
        return JSONResponse({"success": True, "data": key.view()})

    async def delete_key(request: Request) -> Response:
        caller = authenticate(state, request, admin=True)
        key_id = request.query_params.get("id")
        if key_id is None:
            key_id = validate_delete(await read_json(request))["id"]
        state.delete_key(caller.account, key_id)
        return JSONResponse({"success": True})

    async def get_key(request: Request) -> Response:
        caller = authenticate(state, request, admin=True)
        key = state.find_key(caller.account, request.path_params["id"])
        if key is None:
            raise EmulatorHTTPError(400, {"error": KEY_NOT_FOUND})
        return JSONResponse({"data": key.view(usage=True)})

    async def rate_limits(request: Request) -> Response:
        caller = authenticate(state, request, admin=False)
        await web3_mint.refresh_diem(state, caller.account)
        return JSONResponse({"data": state.rate_limits_view(caller)})

    async def rate_limit_log(request: Request) -> Response:
        caller = authenticate(state, request, admin=True)
        with state.lock:
            entries = list(state.account(caller.account).rate_limit_log)
        return JSONResponse({"object": "list", "data": entries})

    async def billing_balance(request: Request) -> Response:
        caller = authenticate(state, request, admin=True)
        await web3_mint.refresh_diem(state, caller.account)
        return JSONResponse(state.billing_view(caller.account))

    async def web3_challenge(request: Request) -> Response:
        address = request.query_params.get("address")
        if state.mint_variant == "siwe":
            validate_address_query(address)
        return JSONResponse(web3_mint.challenge_body(state, address))

    async def web3_mint_key(request: Request) -> Response:
        body = validate_mint(await read_json(request), variant=state.mint_variant)
        key, secret = await web3_mint.mint(state, body)
        return _created(key, secret.reveal(), web3_mint.mint_echo(key, body))

    p = PREFIX
    return [
        Route(f"{p}/api_keys", list_keys, methods=["GET"]),
        Route(f"{p}/api_keys", create_key, methods=["POST"]),
        Route(f"{p}/api_keys", update_key, methods=["PATCH"]),
        Route(f"{p}/api_keys", delete_key, methods=["DELETE"]),
        Route(f"{p}/api_keys/rate_limits", rate_limits, methods=["GET"]),
        Route(f"{p}/api_keys/rate_limits/log", rate_limit_log, methods=["GET"]),
        Route(f"{p}/api_keys/generate_web3_key", web3_challenge, methods=["GET"]),
        Route(f"{p}/api_keys/generate_web3_key", web3_mint_key, methods=["POST"]),
        Route(f"{p}/api_keys/{{id}}", get_key, methods=["GET"]),
        Route(f"{p}/billing/balance", billing_balance, methods=["GET"]),
    ]


def control_routes(state: EmulatorState) -> list[Route]:
    """Sandbox-only controls; Venice has nothing under `/_sandbox/`."""

    async def body_of(request: Request) -> dict[str, Any]:
        data = await read_json(request, required=False)
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        return data

    async def info(request: Request) -> Response:
        return JSONResponse({"mintVariant": state.mint_variant, "latency": state.faults.latency,
                             "faults": state.faults.pending(), "now": iso_ms(state.now()),
                             "startingUsd": float(state.starting_usd)})

    async def add_fault(request: Request) -> Response:
        data = await body_of(request)
        state.faults.add(str(data.get("route")), Fault.from_dict(dict(data.get("fault") or {})),
                         times=int(data.get("times", 1)))
        return JSONResponse({"ok": True, "faults": state.faults.pending()})

    async def clear_faults(request: Request) -> Response:
        state.faults.clear()
        return JSONResponse({"ok": True})

    async def latency(request: Request) -> Response:
        state.faults.set_latency(float((await body_of(request)).get("seconds", 0)))
        return JSONResponse({"ok": True})

    async def variant(request: Request) -> Response:
        state.mint_variant = str((await body_of(request)).get("variant"))
        return JSONResponse({"ok": True, "mintVariant": state.mint_variant})

    async def advance(request: Request) -> Response:
        state.clock.advance(float((await body_of(request)).get("seconds", 0)))
        return JSONResponse({"ok": True, "now": iso_ms(state.now())})

    async def requests(request: Request) -> Response:
        return JSONResponse({"data": [r.to_dict() for r in state.requests()]})

    async def reset(request: Request) -> Response:
        state.reset()
        return JSONResponse({"ok": True})

    async def account(request: Request) -> Response:
        data = await body_of(request)
        key_id, secret = state.create_account_with_admin_key(data.get("address"))
        # Sandbox-only test credentials: handing them back is the point of this route.
        return JSONResponse({"address": state.keys[key_id].account, "keyId": key_id,
                             "apiKey": secret.reveal()})

    async def balances(request: Request) -> Response:
        data = await body_of(request)
        state.set_balances(str(data["address"]), usd=data.get("usd"), diem=data.get("diem"),
                           diem_epoch_allocation=data.get("diemEpochAllocation"),
                           bundled_credits=data.get("bundledCredits"))
        return JSONResponse({"ok": True})

    async def rate_limit_event(request: Request) -> Response:
        data = await body_of(request)
        state.record_rate_limit_event(str(data["apiKeyId"]),
                                      model_id=str(data.get("modelId", "zai-org-glm-5-1")),
                                      tier=str(data.get("rateLimitTier", "paid")),
                                      limit_type=str(data.get("rateLimitType", "RPM")))
        return JSONResponse({"ok": True})

    c = "/_sandbox"
    return [
        Route(f"{c}/state", info, methods=["GET"]),
        Route(f"{c}/faults", add_fault, methods=["POST"]),
        Route(f"{c}/faults", clear_faults, methods=["DELETE"]),
        Route(f"{c}/latency", latency, methods=["POST"]),
        Route(f"{c}/variant", variant, methods=["POST"]),
        Route(f"{c}/clock/advance", advance, methods=["POST"]),
        Route(f"{c}/requests", requests, methods=["GET"]),
        Route(f"{c}/reset", reset, methods=["POST"]),
        Route(f"{c}/accounts", account, methods=["POST"]),
        Route(f"{c}/balances", balances, methods=["POST"]),
        Route(f"{c}/rate_limit_log", rate_limit_event, methods=["POST"]),
    ]


_DEFAULT_FAULT_TEXT = {429: "Rate limit exceeded", 500: "An unknown error occurred"}
MALFORMED_BODY = b'{"success": true, "data": {"id": "'


async def _send_json(send: Send, status: int, body: Any,
                     headers: dict[str, str] | None = None) -> None:
    payload = json.dumps(body).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


class FaultMiddleware:
    """Global latency, per-route faults and the request log, around every `/api/` request."""

    def __init__(self, app: ASGIApp, state: EmulatorState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        route = route_name(method, path)
        names = {name.lower() for name, _ in scope["headers"]}
        has_auth = b"authorization" in names or any(h.encode() in names for h in _SIWX_HEADERS)
        logged = False

        def record(status: int | None) -> None:
            nonlocal logged
            if not logged:
                logged = True
                query = _redact_query(scope.get("query_string", b"").decode("latin-1"))
                self.state.record_request(RecordedRequest(method=method, path=path, query=query,
                                                          has_auth=has_auth, status=status,
                                                          route=route))

        async def send_logged(message: Message) -> None:
            if message["type"] == "http.response.start":
                record(message["status"])  # before the client can see the answer
            await send(message)

        try:
            if self.state.faults.latency:
                await anyio.sleep(self.state.faults.latency)
            fault = self.state.faults.pop(route) if route else None
            if fault is None:
                await self.app(scope, receive, send_logged)
            else:
                await self._apply(fault, scope, receive, send_logged)
        finally:
            record(None)  # no answer went out (a hang, or the handler crashed)

    async def _apply(self, fault: Fault, scope: Scope, receive: Receive, send: Send) -> None:
        if fault.latency:
            await anyio.sleep(fault.latency)
        if fault.forged_secret is not None:
            await self._forge_secret(fault.forged_secret, scope, receive, send)
            return
        failing = (fault.status is not None or fault.drop or fault.malformed
                   or fault.hang is not None)
        if not failing:
            await self.app(scope, receive, send)
            return
        if fault.commit:
            async def discard(message: Message) -> None:
                return None

            await self.app(scope, receive, discard)  # the action happens; its answer is lost
        if fault.status is not None:
            body = fault.body if fault.body is not None else {
                "error": _DEFAULT_FAULT_TEXT.get(fault.status, f"Injected fault {fault.status}")}
            headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after else None
            await _send_json(send, fault.status, body, headers)
        elif fault.malformed:
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": MALFORMED_BODY})
        elif fault.drop:
            # Headers promise more than we send; returning now makes the server close the
            # connection mid-body, which the client sees as a protocol/connection error.
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", b"4096")]})
            await send({"type": "http.response.body", "body": b'{"success": true',
                        "more_body": True})
        elif fault.hang is not None:
            await self._hang(fault.hang, receive)

    async def _forge_secret(self, forged: str, scope: Scope, receive: Receive,
                            send: Send) -> None:
        """Let the handler make the key, then swap `data.apiKey` in its answer for `forged`."""
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        body = json.loads(b"".join(chunks) or b"null")
        if isinstance(body, dict) and isinstance(body.get("data"), dict) \
                and "apiKey" in body["data"]:
            body["data"]["apiKey"] = forged
        await _send_json(send, int(start.get("status", 500)), body)

    async def _hang(self, seconds: float, receive: Receive) -> None:
        """Hold the request open until `seconds` pass, the client leaves, or hangs are released."""
        release = self.state.hang_release

        async def until_disconnect() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        async def until_released() -> None:
            # A threading.Event (set from any thread, e.g. a runner stopping): poll it.
            while not release.is_set():  # noqa: ASYNC110
                await anyio.sleep(0.05)

        with anyio.move_on_after(seconds):
            async with anyio.create_task_group() as tg:
                for waiter in (until_disconnect, until_released):
                    async def run(w: Callable[[], Awaitable[None]] = waiter) -> None:
                        await w()
                        tg.cancel_scope.cancel()

                    tg.start_soon(run)


def create_app(state: EmulatorState) -> Starlette:
    """The emulator as an ASGI app: `/api/v1` (Venice) and `/_sandbox` (test controls)."""

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, EmulatorHTTPError)
        return JSONResponse(exc.body, status_code=exc.status, headers=exc.headers)

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return JSONResponse(exc.body(), status_code=400)

    async def not_found(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        text = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, exc.detail)
        return JSONResponse({"error": text}, status_code=exc.status_code)

    async def client_gone(request: Request, exc: Exception) -> Response:
        # The client hung up mid-request (Ctrl-C, a timeout): nobody reads this answer, and it
        # is no server error worth a traceback.
        return Response(status_code=400)

    async def control_error(request: Request, exc: Exception) -> Response:
        if not request.url.path.startswith("/_sandbox"):
            raise exc
        return JSONResponse({"error": str(exc)}, status_code=400)

    app = Starlette(
        routes=[*api_routes(state), *control_routes(state)],
        exception_handlers={
            EmulatorHTTPError: http_error,
            RequestValidationError: validation_error,
            HTTPException: not_found,
            ClientDisconnect: client_gone,
            ValueError: control_error,
            KeyError: control_error,
            TypeError: control_error,
        },
    )
    app.add_middleware(FaultMiddleware, state=state)
    app.state.emulator = state
    return app
