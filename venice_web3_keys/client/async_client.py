"""AsyncVeniceClient: every Venice route this package needs, over one httpx.AsyncClient.

The secret of a key only enters a request inside an httpx.Auth flow, so no local variable,
exception or log line of this module holds it in clear. The two web3 routes are sent with any
Authorization header explicitly stripped: they are unauthenticated, and a key has no business
travelling with a wallet signature.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
from collections.abc import Generator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

import httpx
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from venice_web3_keys import models
from venice_web3_keys._version import __version__
from venice_web3_keys.bounded_http import (
    MAX_BODY_TEXT,
    BoundedResponse,
    request_bounded,
    tls_context,
)
from venice_web3_keys.errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APITimeoutError,
    ConfigError,
    MalformedSecretError,
    MissingCredentialsError,
)
from venice_web3_keys.secret import SecretValue, get_logger, looks_like_venice_key, redact_text
from venice_web3_keys.settings import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT
from venice_web3_keys.validation import validate_key_id

from .errors_map import error_from_response
from .retry import RETRYABLE_STATUS, RetryPolicy, Sleep, parse_retry_after

if TYPE_CHECKING:  # at run time each route names its model through `models`, loaded on first use
    from venice_web3_keys.models import (
        ApiKey,
        BillingBalance,
        CreatedKey,
        KeySpec,
        KeyUpdate,
        RateLimitLogEntry,
        RateLimits,
        Web3Challenge,
    )

__all__ = ["USER_AGENT", "AsyncVeniceClient", "ClientOptions"]

log = get_logger("venice_web3_keys.client")

# The package's own __version__, not importlib.metadata: reading the installed metadata costs
# every CLI command more than building the request does.
USER_AGENT = f"venice-web3-keys/{__version__}"

_M = TypeVar("_M", bound=BaseModel)


class _BearerAuth(httpx.Auth):
    """Reveal the key only while the request is being built."""

    def __init__(self, key: SecretValue) -> None:
        self._key = key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._key.reveal()}"
        yield request


class _NoAuth(httpx.Auth):
    """Guarantee no Authorization header, even if a caller-supplied client sets one by default."""

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers.pop("Authorization", None)
        yield request


class ClientOptions(TypedDict, total=False):
    """AsyncVeniceClient's keyword arguments, so the sync face forwards them typed, not copied."""

    admin_key: SecretValue | None
    api_key: SecretValue | None
    timeout: float
    max_retries: int
    max_retry_wait: float
    http_client: httpx.AsyncClient | None
    sleep: Sleep | None


class AsyncVeniceClient:
    """Typed access to Venice's /api_keys and /billing routes. Only GETs are ever retried.

    `timeout` bounds each call as a whole (every read, every retry and retry wait); answers
    larger than 8 MiB are refused unread.
    """

    def __init__(
        self,
        base_url: str,
        *,
        admin_key: SecretValue | None = None,
        api_key: SecretValue | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_retry_wait: float = 30.0,
        http_client: httpx.AsyncClient | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError("VENICE_API_BASE_URL must start with http:// or https://")
        self.base_url = base_url.rstrip("/")
        self._admin_key = admin_key
        self._api_key = api_key
        self._total_timeout = timeout
        self._timeout = httpx.Timeout(timeout)
        policy: dict[str, Any] = {"sleep": sleep} if sleep is not None else {}
        self._retry = RetryPolicy(max_retries=max_retries, max_retry_wait=max_retry_wait,
                                  **policy)
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(
            timeout=self._timeout, follow_redirects=False, verify=tls_context([self.base_url]))

    def __repr__(self) -> str:
        admin = "set" if self._admin_key else None
        api = "set" if self._api_key else None
        shown = redact_text(self.base_url)
        return f"AsyncVeniceClient({shown!r}, admin_key={admin}, api_key={api})"

    async def __aenter__(self) -> AsyncVeniceClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client if this object created it (a caller's client stays open)."""
        if self._owns_http:
            await self._http.aclose()

    # ------------------------------------------------------------------ routes

    async def list_keys(self) -> list[ApiKey]:
        payload = await self._send("GET", "/api_keys", auth=self._admin())
        return self._parse_list(models.ApiKey, payload, "GET", "/api_keys")

    async def get_key(self, key_id: str) -> ApiKey:
        key_id = validate_key_id(key_id)
        path = f"/api_keys/{key_id}"
        payload = await self._send("GET", path, auth=self._admin())
        return self._parse(models.ApiKey, _data(payload, "GET", path), "GET", path)

    async def create_key(self, spec: KeySpec) -> CreatedKey:
        """POST /api_keys, sent once: a timeout or 5xx leaves the outcome to the caller."""
        payload = await self._send("POST", "/api_keys", auth=self._admin(), json=spec.to_body())
        return self._parse_created(payload, "POST", "/api_keys")

    async def update_key(self, update: KeyUpdate) -> ApiKey:
        payload = await self._send("PATCH", "/api_keys", auth=self._admin(),
                                   json=update.to_body())
        path = "/api_keys"
        return self._parse(models.ApiKey, _data(payload, "PATCH", path), "PATCH", path)

    async def delete_key(self, key_id: str) -> None:
        key_id = validate_key_id(key_id)
        payload = await self._send("DELETE", "/api_keys", auth=self._admin(),
                                   params={"id": key_id})
        if isinstance(payload, Mapping) and payload.get("success") is False:
            raise APIError("DELETE /api_keys: Venice answered success=false", status_code=200,
                           method="DELETE", path="/api_keys")

    async def rate_limits(self, key: SecretValue | None = None) -> RateLimits:
        """Limits and balances of the calling key: `key`, else the api key, else the admin key."""
        chosen = key or self._api_key or self._admin_key
        if not chosen:
            raise MissingCredentialsError(
                "rate_limits needs a key: set VENICE_API_KEY or VENICE_ADMIN_KEY",
                credential="api_key")
        path = "/api_keys/rate_limits"
        payload = await self._send("GET", path, auth=chosen)
        return self._parse(models.RateLimits, _data(payload, "GET", path), "GET", path)

    async def rate_limit_log(self) -> list[RateLimitLogEntry]:
        path = "/api_keys/rate_limits/log"
        payload = await self._send("GET", path, auth=self._admin())
        return self._parse_list(models.RateLimitLogEntry, payload, "GET", path)

    async def billing_balance(self) -> BillingBalance:
        payload = await self._send("GET", "/billing/balance", auth=self._admin())
        return self._parse(models.BillingBalance, payload, "GET", "/billing/balance")

    async def get_web3_challenge(self, address: str) -> Web3Challenge:
        """GET generate_web3_key?address=; the body decides: token → jwt, message → siwe."""
        path = "/api_keys/generate_web3_key"
        payload = await self._send("GET", path, auth=None, params={"address": address})
        return self._parse(models.Web3Challenge, _data(payload, "GET", path), "GET", path)

    async def mint_web3_key(self, *, address: str, signature: str, challenge: Web3Challenge,
                            spec: KeySpec) -> CreatedKey:
        """POST generate_web3_key with the signed token or message; sent once, no Authorization."""
        body: dict[str, Any] = {"address": address, "signature": signature}
        if challenge.variant == "jwt":
            body["token"] = challenge.token
        else:
            body["message"] = challenge.message
        body.update(spec.to_body())
        path = "/api_keys/generate_web3_key"
        payload = await self._send("POST", path, auth=None, json=body)
        return self._parse_created(payload, "POST", path)

    # ------------------------------------------------------------------ plumbing

    def _admin(self) -> SecretValue:
        if not self._admin_key:
            raise MissingCredentialsError("this call needs an ADMIN key: set VENICE_ADMIN_KEY",
                                          credential="admin_key")
        return self._admin_key

    async def _send(self, method: str, path: str, *, auth: SecretValue | None,
                    params: Mapping[str, str] | None = None,
                    json: Mapping[str, Any] | None = None) -> Any:
        """One logical call under one deadline (VENICE_TIMEOUT): send, map errors, and retry
        only if the method is safe. Each attempt gets a share of the time left, so a retry
        after a stuck attempt still has a budget, and a wait that would outlive the deadline is
        not started."""
        try:
            async with asyncio.timeout(self._total_timeout):
                return await self._attempts(method, path, auth=auth, params=params, json=json)
        except TimeoutError:
            raise self._out_of_time(method, path) from None

    def _out_of_time(self, method: str, path: str) -> APITimeoutError:
        return APITimeoutError(
            f"{method} {path}: no complete answer within {self._total_timeout:g} s "
            "(VENICE_TIMEOUT bounds the whole call: every read and every retry)",
            method=method, path=path)

    async def _attempts(self, method: str, path: str, *, auth: SecretValue | None,
                        params: Mapping[str, str] | None,
                        json: Mapping[str, Any] | None) -> Any:
        url = f"{self.base_url}{path}"
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        request_auth: httpx.Auth = _BearerAuth(auth) if auth is not None else _NoAuth()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._total_timeout
        attempts = self._retry.attempts(method)
        attempt = 0
        while True:
            retry_after: float | None = None
            # at least a third of what is left, however many retries are allowed
            share = (deadline - loop.time()) / min(attempts - attempt, 3)
            try:
                async with asyncio.timeout(share):
                    response = await request_bounded(
                        self._http, method, url, params=params, json=json, headers=headers,
                        auth=request_auth, timeout=self._timeout)
            except (TimeoutError, httpx.TimeoutException):  # this attempt's share, or a read
                error: APIError = self._out_of_time(method, path)
                retryable = True
            except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                error = APIConnectionError(
                    f"{method} {path}: could not reach Venice ({type(exc).__name__}: {exc})",
                    method=method, path=path)
                retryable = True
            except httpx.HTTPError as exc:
                # h11 quotes the offending header value ("Bearer <key>") in LocalProtocolError.
                detail = ("a request header is not valid HTTP; does a key contain a control "
                          "character?" if isinstance(exc, httpx.LocalProtocolError) else str(exc))
                raise APIConnectionError(
                    f"{method} {path}: request failed ({type(exc).__name__}: {detail})",
                    method=method, path=path) from None
            else:
                log.debug("%s %s -> %d (attempt %d)", method, path, response.status_code,
                          attempt + 1)
                if 200 <= response.status_code < 300:
                    return _json(response, method, path)
                error = error_from_response(
                    response.status_code, _json_or_none(response), headers=response.headers,
                    method=method, path=path, reason=response.reason_phrase)
                if response.too_large:
                    error.add_note(f"(its body was larger than {MAX_BODY_TEXT} and was not read)")
                retryable = response.status_code in RETRYABLE_STATUS
                retry_after = parse_retry_after(response.headers.get("retry-after"))
            if not (retryable and self._retry.should_retry(method, attempt)):
                raise error from None
            delay = self._retry.delay(attempt, retry_after)
            left = deadline - loop.time()
            if delay is None or (retry_after is not None and delay >= left):
                raise error from None  # the server's wait would outlive the deadline: give up
            if retry_after is None:
                delay = min(delay, left / 2)  # our own backoff leaves the next attempt a budget
            attempt += 1
            log.info("retrying %s %s in %.2fs (retry %d of %d): %s", method, path, delay,
                     attempt, self._retry.max_retries, type(error).__name__)
            await self._retry.sleep(delay)

    def _parse(self, model: type[_M], data: Any, method: str, path: str) -> _M:
        try:
            return model.model_validate(data)
        except PydanticValidationError as exc:
            raise _malformed(method, path, _describe(exc)) from None

    def _parse_list(self, model: type[_M], payload: Any, method: str, path: str) -> list[_M]:
        items = _data(payload, method, path)
        if not isinstance(items, list):
            raise _malformed(method, path, "'data' is not a list")
        return [self._parse(model, item, method, path) for item in items]

    def _parse_created(self, payload: Any, method: str, path: str) -> CreatedKey:
        """The new key; its secret must be shaped like a Venice key before anything sees it.

        A server's "secret" is written into .env files, keyrings and terminals: anything but
        `VENICE_<TYPE>_KEY_` and URL-safe characters (e.g. `${VENICE_WALLET_PRIVATE_KEY}`, a
        line break, an escape sequence) could be interpreted there. MalformedSecretError names
        the key that was made, so the flow can revoke it.
        """
        data = _data(payload, method, path)
        if not isinstance(data, Mapping) or not isinstance(data.get("apiKey"), str):
            raise _malformed(method, path, "no apiKey in the response; a key may exist")
        created = self._parse(models.CreatedKey, data, method, path)
        try:
            key_id = validate_key_id(created.id)
        except ValueError:
            raise _malformed(method, path, "the new key's id is not a key id") from None
        if not looks_like_venice_key(created.secret.reveal()):
            raise MalformedSecretError(
                f"{method} {path}: Venice's answer made key {key_id}, but its secret is not "
                "shaped like a Venice API key (VENICE_<TYPE>_KEY_ and URL-safe characters); "
                "it was not delivered anywhere",
                key_id=key_id, status_code=200, method=method, path=path)
        return created


def _malformed(method: str, path: str, why: str,
               status_code: int = 200) -> APIResponseValidationError:
    # A 2xx whose body cannot be read: for a create/mint the key may exist, and the flows
    # reconcile (flows/create.py is_ambiguous). No body is attached (it may hold the secret).
    return APIResponseValidationError(
        f"{method} {path}: unreadable response from Venice: {why}",
        status_code=status_code, method=method, path=path)


def _describe(exc: PydanticValidationError) -> str:
    parts = []
    for err in exc.errors(include_url=False, include_input=False, include_context=False)[:5]:
        loc = ".".join(str(p) for p in err["loc"]) or "body"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


def _data(payload: Any, method: str, path: str) -> Any:
    if not isinstance(payload, Mapping) or "data" not in payload:
        raise _malformed(method, path, "no 'data' field")
    return payload["data"]


def _json(response: BoundedResponse, method: str, path: str) -> Any:
    if response.too_large:
        raise _malformed(method, path, f"the body is larger than {MAX_BODY_TEXT} (not read)",
                         response.status_code)
    try:
        return jsonlib.loads(response.content)
    except ValueError:
        raise _malformed(method, path, "the body is not JSON", response.status_code) from None


def _json_or_none(response: BoundedResponse) -> Any:
    try:
        return jsonlib.loads(response.content)
    except ValueError:
        return None
