"""VeniceClient: the synchronous face of AsyncVeniceClient.

Every method is a one-line hand-off to the async core through a SyncRunner, so behaviour
(validation, error mapping, retry rules, secret handling) exists in exactly one place.
"""

from __future__ import annotations

from types import TracebackType

import httpx

from venice_web3_keys._sync import SyncRunner
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
from venice_web3_keys.secret import SecretValue

from .async_client import AsyncVeniceClient
from .retry import Sleep

__all__ = ["VeniceClient"]


class VeniceClient:
    """Same methods as AsyncVeniceClient, blocking. Pass `runner` to share one event loop."""

    def __init__(
        self,
        base_url: str,
        *,
        admin_key: SecretValue | None = None,
        api_key: SecretValue | None = None,
        timeout: float = 30.0,
        max_retries: int = 2,
        max_retry_wait: float = 30.0,
        http_client: httpx.AsyncClient | None = None,
        sleep: Sleep | None = None,
        runner: SyncRunner | None = None,
    ) -> None:
        self._owns_runner = runner is None
        self._runner = runner or SyncRunner()
        self.aio = AsyncVeniceClient(
            base_url, admin_key=admin_key, api_key=api_key, timeout=timeout,
            max_retries=max_retries, max_retry_wait=max_retry_wait, http_client=http_client,
            sleep=sleep)

    def __repr__(self) -> str:
        return f"VeniceClient({self.aio.base_url!r})"

    def list_keys(self) -> list[ApiKey]:
        return self._runner.run(self.aio.list_keys())

    def get_key(self, key_id: str) -> ApiKey:
        return self._runner.run(self.aio.get_key(key_id))

    def create_key(self, spec: KeySpec) -> CreatedKey:
        return self._runner.run(self.aio.create_key(spec))

    def update_key(self, update: KeyUpdate) -> ApiKey:
        return self._runner.run(self.aio.update_key(update))

    def delete_key(self, key_id: str) -> None:
        return self._runner.run(self.aio.delete_key(key_id))

    def rate_limits(self, key: SecretValue | None = None) -> RateLimits:
        return self._runner.run(self.aio.rate_limits(key))

    def rate_limit_log(self) -> list[RateLimitLogEntry]:
        return self._runner.run(self.aio.rate_limit_log())

    def billing_balance(self) -> BillingBalance:
        return self._runner.run(self.aio.billing_balance())

    def get_web3_challenge(self, address: str) -> Web3Challenge:
        return self._runner.run(self.aio.get_web3_challenge(address))

    def mint_web3_key(self, *, address: str, signature: str, challenge: Web3Challenge,
                      spec: KeySpec) -> CreatedKey:
        return self._runner.run(self.aio.mint_web3_key(
            address=address, signature=signature, challenge=challenge, spec=spec))

    def close(self) -> None:
        """Close the async client, then the runner if this object created it."""
        if self._runner.closed:
            return
        try:
            self._runner.run(self.aio.aclose())
        finally:
            if self._owns_runner:
                self._runner.close()

    def __enter__(self) -> VeniceClient:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
