"""VeniceClient: the synchronous face of AsyncVeniceClient.

Every method is a one-line hand-off to the async core through a SyncRunner, so behaviour
(validation, error mapping, retry rules, secret handling) exists in exactly one place.
"""

from __future__ import annotations

from typing import Unpack

from venice_web3_keys._sync import SyncFacade, SyncRunner, blocking

from .async_client import AsyncVeniceClient, ClientOptions

__all__ = ["VeniceClient"]


class VeniceClient(SyncFacade):
    """Same methods as AsyncVeniceClient, blocking. Pass `runner` to share one event loop.

    The other arguments are AsyncVeniceClient's (admin_key, api_key, timeout, ...).
    """

    _core: AsyncVeniceClient

    def __init__(
        self, base_url: str, *, runner: SyncRunner | None = None, **options: Unpack[ClientOptions]
    ) -> None:
        self._owns_runner = runner is None
        self._runner = runner or SyncRunner()
        try:
            self.aio = self._core = AsyncVeniceClient(base_url, **options)
        except BaseException:
            if self._owns_runner:
                self._runner.close()
            raise

    def __repr__(self) -> str:
        return f"VeniceClient({self.aio.base_url!r})"

    list_keys = blocking(AsyncVeniceClient.list_keys)
    get_key = blocking(AsyncVeniceClient.get_key)
    create_key = blocking(AsyncVeniceClient.create_key)
    update_key = blocking(AsyncVeniceClient.update_key)
    delete_key = blocking(AsyncVeniceClient.delete_key)
    rate_limits = blocking(AsyncVeniceClient.rate_limits)
    rate_limit_log = blocking(AsyncVeniceClient.rate_limit_log)
    billing_balance = blocking(AsyncVeniceClient.billing_balance)
    get_web3_challenge = blocking(AsyncVeniceClient.get_web3_challenge)
    mint_web3_key = blocking(AsyncVeniceClient.mint_web3_key)
