"""One HTTP exchange whose answer is read whole, but never more than a cap.

httpx's timeouts bound each read, not the exchange: a server sending one byte a second never
trips them. The callers (the Venice client, the chain reader) put the whole call, retries
included, under one deadline (`asyncio.timeout`), and read bodies here, so a hostile or broken
server can cost at most VENICE_TIMEOUT seconds and MAX_BODY_BYTES of memory.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import httpx

#: No Venice or JSON-RPC answer this package reads comes near this (a list of 500 keys is <1 MiB).
MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_BODY_TEXT = "8 MiB"


def tls_context(urls: Iterable[str]) -> ssl.SSLContext:
    """The TLS context for a client that only ever talks to `urls` (none follows redirects).

    httpx loads the CA bundle for every client it builds (40-80 ms of CPU each, more than a
    whole `keys list` request). A client with an https URL shares one verifying context per
    process, built as httpx builds it (certifi, or SSL_CERT_FILE/SSL_CERT_DIR). A client whose
    URLs are all plain http never handshakes, so it gets a context with no CA at all: one that
    fails every certificate check, closed rather than open, should TLS ever be attempted.
    """
    if any(not url.lower().startswith("http://") for url in urls):
        return _verifying_context()
    return _no_ca_context()


@cache
def _verifying_context() -> ssl.SSLContext:
    return httpx.create_ssl_context()


@cache
def _no_ca_context() -> ssl.SSLContext:
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED, check_hostname, no CA


@dataclass(frozen=True)
class BoundedResponse:
    """Status, headers and body of an answer; `too_large`: the body passed the cap, unread."""

    status_code: int
    headers: httpx.Headers
    reason_phrase: str
    content: bytes
    too_large: bool


async def request_bounded(http: httpx.AsyncClient, method: str, url: str, *,
                          max_bytes: int = MAX_BODY_BYTES, **kwargs: Any) -> BoundedResponse:
    """Send one request and read its (decoded) body up to `max_bytes`; stop reading beyond."""
    async with http.stream(method, url, **kwargs) as response:
        declared = response.headers.get("content-length", "")
        too_large = declared.isdigit() and int(declared) > max_bytes
        chunks: list[bytes] = []
        size = 0
        if not too_large:
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    too_large = True
                    break
                chunks.append(chunk)
        return BoundedResponse(
            status_code=response.status_code,
            headers=response.headers,
            reason_phrase=response.reason_phrase,
            content=b"" if too_large else b"".join(chunks),
            too_large=too_large,
        )
