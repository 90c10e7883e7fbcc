"""The Venice HTTP client: async core, sync facade, retry policy and error mapping."""

from __future__ import annotations

from .async_client import USER_AGENT, AsyncVeniceClient
from .retry import RetryPolicy, parse_retry_after
from .sync_client import VeniceClient

__all__ = ["USER_AGENT", "AsyncVeniceClient", "RetryPolicy", "VeniceClient", "parse_retry_after"]
