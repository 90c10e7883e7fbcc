"""Scripted httpx.MockTransport for client unit tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from tests.fakes import fake_key
from venice_web3_keys.client import AsyncVeniceClient
from venice_web3_keys.secret import SecretValue

BASE = "https://api.test/api/v1"
ADMIN = SecretValue(fake_key("ADMIN", "adminsecret"))
INFER = SecretValue(fake_key("INFERENCE", "infersecret"))
KEY_ID = "e28e82dc-9df2-4b47-b726-d0a222ef2ab5"
NEW_SECRET = fake_key("INFERENCE", "brandnewsecret")

Step = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def resp(status: int, body: Any = None, *, headers: dict[str, str] | None = None,
         text: str | None = None) -> httpx.Response:
    if text is not None:
        return httpx.Response(status, text=text, headers=headers)
    return httpx.Response(status, json=body, headers=headers)


class Script:
    """Answers requests from a list of steps (the last one repeats); records every request."""

    def __init__(self, *steps: Step) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        if isinstance(step, Exception):
            raise step
        if isinstance(step, httpx.Response):
            return httpx.Response(step.status_code, headers=step.headers, content=step.content)
        return step(request)

    def body(self, i: int = -1) -> Any:
        return json.loads(self.requests[i].content)


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def make_client(script: Script, *, admin_key: SecretValue | None = ADMIN,
                api_key: SecretValue | None = None, max_retries: int = 2,
                max_retry_wait: float = 30.0, sleeps: Sleeps | None = None) -> AsyncVeniceClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(script))
    return AsyncVeniceClient(BASE, admin_key=admin_key, api_key=api_key,
                             max_retries=max_retries, max_retry_wait=max_retry_wait,
                             http_client=http, sleep=sleeps or Sleeps())


def api_key_json(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": KEY_ID, "apiKeyType": "INFERENCE", "description": "backend",
        "createdAt": "2026-01-01T00:00:00.000Z", "expiresAt": None, "lastUsedAt": None,
        "last6Chars": "abc123", "consumptionLimits": {"usd": 50, "diem": None, "vcu": None},
        "limitPeriod": "MONTH", "modelPrivacy": "ALL",
    }
    data.update(over)
    return data


def created_json(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": KEY_ID, "apiKey": NEW_SECRET, "apiKeyType": "INFERENCE", "description": "backend",
        "expiresAt": None, "consumptionLimit": {"usd": 50, "diem": None, "vcu": None},
        "limitPeriod": "MONTH", "modelPrivacy": "ALL",
    }
    data.update(over)
    return data
