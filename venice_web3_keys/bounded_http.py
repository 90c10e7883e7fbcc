"""One HTTP exchange whose answer is read whole, but never more than a cap.

httpx's timeouts bound each read, not the exchange: a server sending one byte a second never
trips them. The callers (the Venice client, the chain reader) put the whole call, retries
included, under one deadline (`asyncio.timeout`), and read bodies here, so a hostile or broken
server can cost at most VENICE_TIMEOUT seconds and MAX_BODY_BYTES of memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

#: No Venice or JSON-RPC answer this package reads comes near this (a list of 500 keys is <1 MiB).
MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_BODY_TEXT = "8 MiB"


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
