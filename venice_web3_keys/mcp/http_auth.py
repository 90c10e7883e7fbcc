"""Bearer-token gate for the Streamable HTTP transport (pure ASGI, constant-time comparison)."""

from __future__ import annotations

import hmac
import json
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from venice_web3_keys.secret import SecretValue


class BearerTokenMiddleware:
    """Answer 401 to every HTTP request without `Authorization: Bearer <token>`."""

    def __init__(self, app: ASGIApp, token: SecretValue) -> None:
        self.app = app
        self._expected = ("Bearer " + token.reveal()).encode()

    def _authorized(self, scope: Scope) -> bool:
        presented = b""
        headers: list[tuple[bytes, bytes]] = scope.get("headers") or []
        for name, value in headers:
            if name.lower() == b"authorization":
                presented = value
                break
        # compare_digest on equal-type bytes runs in time independent of where they differ.
        return hmac.compare_digest(presented, self._expected)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._authorized(scope):
            await self.app(scope, receive, send)
            return
        body = json.dumps(
            {"error": "unauthorized", "message": "a valid bearer token is required"}
        ).encode()
        start: dict[str, Any] = {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"www-authenticate", b'Bearer realm="venice-keys-mcp"'),
            ],
        }
        await send(start)
        await send({"type": "http.response.body", "body": body})
