"""The library facade: AsyncVeniceKeys (the core) and VeniceKeys (its synchronous twin).

The CLI and the MCP server call only this. Every argument is validated before any request, the
wallet signer and the chain reader are built on first use (listing keys never imports
eth_account or web3), and admin-only calls fail locally with a ConfigError when no admin key is
configured instead of spending a request on a 402.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import date, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from venice_web3_keys.errors import ConfigError
from venice_web3_keys.flows._result import NewKey, RotationResult
from venice_web3_keys.models import UNSET, Unset

if TYPE_CHECKING:
    import httpx

    from venice_web3_keys._sync import SyncRunner
    from venice_web3_keys.chain import ChainReader
    from venice_web3_keys.client.async_client import AsyncVeniceClient
    from venice_web3_keys.models import (
        ApiKey,
        BillingBalance,
        RateLimitLogEntry,
        RateLimits,
        WalletStatus,
    )
    from venice_web3_keys.settings import Settings
    from venice_web3_keys.signer import Signer
    from venice_web3_keys.sinks import SecretSink

__all__ = ["AsyncVeniceKeys", "NewKey", "RotationResult", "VeniceKeys"]

T = TypeVar("T")
Limit = float | int | str | None
When = str | datetime | date | timedelta | None


class AsyncVeniceKeys:
    """Mint, create, inspect, update, rotate and revoke Venice API keys (async).

    `http_client`, when given, carries every HTTP call (Venice API and Base JSON-RPC) and is
    never closed by us.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        signer: Signer | None = None,
        password_prompt: Callable[[str], str] | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        if settings is None:
            from venice_web3_keys.settings import load_settings

            settings = load_settings()
        self.settings: Settings = settings
        self._signer = signer
        self._password_prompt = password_prompt
        self._http_client = http_client
        self._client: AsyncVeniceClient | None = None
        self._chain: ChainReader | None = None

    @classmethod
    def from_env(cls, env_file: str | Path | None = None, **overrides: Any) -> AsyncVeniceKeys:
        """Settings from the environment and a .env file (see interface.md for the names)."""
        from venice_web3_keys.settings import load_settings

        return cls(load_settings(env_file, **overrides))

    # ------------------------------------------------------------------ lazy collaborators

    @property
    def client(self) -> AsyncVeniceClient:
        if self._client is None:
            from venice_web3_keys.client.async_client import AsyncVeniceClient

            s = self.settings
            self._client = AsyncVeniceClient(
                s.api_base_url,
                admin_key=s.admin_key,
                api_key=s.api_key,
                timeout=s.timeout,
                max_retries=s.max_retries,
                http_client=self._http_client,
            )
        return self._client

    def _chain_reader(self) -> ChainReader:
        if self._chain is None:
            from venice_web3_keys.chain import ChainReader

            s = self.settings
            self._chain = ChainReader(
                s.rpc_urls,
                chain_id=s.chain_id,
                staking_contract=s.staking_contract,
                vvv_token=s.vvv_token,
                diem_token=s.diem_token,
                timeout=min(s.timeout, 10.0),
                http_client=self._http_client,
            )
        return self._chain

    async def _wallet(self) -> Signer:
        if self._signer is None:
            from venice_web3_keys.signer import load_signer

            # A keystore costs a scrypt derivation (and maybe a prompt): keep it off the loop.
            self._signer = await asyncio.to_thread(
                load_signer, self.settings, prompt=self._password_prompt
            )
        return self._signer

    def _need_admin(self, action: str) -> AsyncVeniceClient:
        if self.settings.admin_key is None:
            raise ConfigError(f"{action} needs an ADMIN key: set VENICE_ADMIN_KEY")
        return self.client

    # ------------------------------------------------------------------ wallet

    async def wallet_status(self, address: str | None = None) -> WalletStatus:
        """Balances on Base (ETH, VVV, sVVV, DIEM) and whether the wallet can mint."""
        if address is not None:
            from venice_web3_keys.addresses import checksum_address

            address = checksum_address(address)
        else:
            address = (await self._wallet()).address
        # One batch: eth_chainId (WrongChainError on a wrong chain) and every balance.
        return await self._chain_reader().wallet_status(address)

    async def mint_key(
        self,
        *,
        api_key_type: str = "INFERENCE",
        description: str = "Web3 API Key",
        expires_at: When = None,
        usd_limit: Limit = None,
        diem_limit: Limit = None,
        limit_period: str | None = None,
        model_privacy: str | None = None,
        sink: SecretSink | None = None,
    ) -> NewKey:
        """Mint a key by signing Venice's challenge with the configured wallet (needs sVVV)."""
        from venice_web3_keys.flows._spec import build_spec
        from venice_web3_keys.flows.mint import mint_key

        spec = build_spec(
            api_key_type=api_key_type, description=description, expires_at=expires_at,
            usd_limit=usd_limit, diem_limit=diem_limit, limit_period=limit_period,
            model_privacy=model_privacy,
        )
        signer = await self._wallet()
        return await mint_key(
            self.client,
            chain=self._chain_reader(),
            signer=signer,
            settings=self.settings,
            spec=spec,
            sink=sink,
            admin=self.settings.admin_key is not None,
        )

    # ------------------------------------------------------------------ admin key management

    async def list_keys(self) -> list[ApiKey]:
        return await self._need_admin("listing keys").list_keys()

    async def get_key(self, key_id: str) -> ApiKey:
        from venice_web3_keys.validation import validate_key_id

        key_id = validate_key_id(key_id)
        return await self._need_admin("reading a key").get_key(key_id)

    async def create_key(
        self,
        *,
        api_key_type: str,
        description: str,
        expires_at: When = None,
        usd_limit: Limit = None,
        diem_limit: Limit = None,
        limit_period: str | None = None,
        model_privacy: str | None = None,
        sink: SecretSink | None = None,
    ) -> NewKey:
        """Create a key with the admin key; an ambiguous outcome is reconciled, never re-sent."""
        from venice_web3_keys.flows._spec import build_spec
        from venice_web3_keys.flows.create import create_key

        spec = build_spec(
            api_key_type=api_key_type, description=description, expires_at=expires_at,
            usd_limit=usd_limit, diem_limit=diem_limit, limit_period=limit_period,
            model_privacy=model_privacy,
        )
        return await create_key(self._need_admin("creating a key"), spec, sink=sink)

    async def update_key(
        self,
        key_id: str,
        *,
        description: str | Unset = UNSET,
        expires_at: When | Unset = UNSET,
        usd_limit: Limit | Unset = UNSET,
        diem_limit: Limit | Unset = UNSET,
        limit_period: str | Unset = UNSET,
        model_privacy: str | Unset = UNSET,
    ) -> ApiKey:
        """Change only what is passed; `expires_at=None` / a limit of None removes it."""
        from venice_web3_keys.models import KeyUpdate

        fields: dict[str, Any] = {
            "id": key_id, "description": description, "expires_at": expires_at,
            "usd_limit": usd_limit, "diem_limit": diem_limit, "limit_period": limit_period,
            "model_privacy": model_privacy,
        }
        update = KeyUpdate(**fields)
        return await self._need_admin("updating a key").update_key(update)

    async def revoke_key(self, key_id: str) -> None:
        from venice_web3_keys.validation import validate_key_id

        key_id = validate_key_id(key_id)
        await self._need_admin("revoking a key").delete_key(key_id)

    async def rotate_key(
        self, key_id: str, *, sink: SecretSink | None = None, description: str | None = None
    ) -> RotationResult:
        """Successor with the same settings, delivered and verified, then the old key revoked."""
        from venice_web3_keys.flows.rotate import rotate_key
        from venice_web3_keys.validation import validate_description, validate_key_id

        key_id = validate_key_id(key_id)
        if description is not None:
            description = validate_description(description)
        client = self._need_admin("rotating a key")
        return await rotate_key(client, key_id, sink=sink, description=description)

    # ------------------------------------------------------------------ limits and billing

    async def rate_limits(self) -> RateLimits:
        """Rate limits and balances of VENICE_API_KEY, else of the admin key."""
        if self.settings.api_key is None and self.settings.admin_key is None:
            raise ConfigError("rate limits need a key: set VENICE_API_KEY or VENICE_ADMIN_KEY")
        return await self.client.rate_limits()

    async def rate_limit_log(self) -> list[RateLimitLogEntry]:
        return await self._need_admin("the rate-limit log").rate_limit_log()

    async def billing_balance(self) -> BillingBalance:
        return await self._need_admin("the billing balance").billing_balance()

    # ------------------------------------------------------------------ dApp customers

    async def provision_customer_key(
        self,
        customer_id: str,
        *,
        usd_limit: Limit = None,
        diem_limit: Limit = None,
        limit_period: str | None = "MONTH",
        expires_at: When = None,
        model_privacy: str | None = None,
        sink: SecretSink | None = None,
    ) -> NewKey:
        """A capped INFERENCE key described `cust:<customer_id>` (a USD or DIEM cap is required)."""
        from venice_web3_keys.flows.customers import provision_customer_key

        client = self._need_admin("provisioning a customer key")
        return await provision_customer_key(
            client, customer_id, usd_limit=usd_limit, diem_limit=diem_limit,
            limit_period=limit_period, expires_at=expires_at, model_privacy=model_privacy,
            sink=sink,
        )

    async def customer_keys(self, customer_id: str) -> list[ApiKey]:
        from venice_web3_keys.flows.customers import customer_keys, validate_customer_id

        validate_customer_id(customer_id)
        return await customer_keys(self._need_admin("listing customer keys"), customer_id)

    async def revoke_customer_keys(self, customer_id: str) -> list[str]:
        """Revoke every key of a churned customer; returns the revoked ids."""
        from venice_web3_keys.flows.customers import revoke_customer_keys, validate_customer_id

        validate_customer_id(customer_id)
        client = self._need_admin("revoking customer keys")
        return await revoke_customer_keys(client, customer_id)

    # ------------------------------------------------------------------ lifecycle

    async def aclose(self) -> None:
        client, chain = self._client, self._chain
        self._client = self._chain = None
        if client is not None:
            await client.aclose()
        if chain is not None:
            await chain.aclose()

    async def __aenter__(self) -> AsyncVeniceKeys:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class VeniceKeys:
    """Synchronous twin of AsyncVeniceKeys: each method runs the async one on a private loop.

    A given `http_client` must be an httpx.AsyncClient (it is used on that private loop).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        signer: Signer | None = None,
        password_prompt: Callable[[str], str] | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        from venice_web3_keys._sync import SyncRunner

        self._async = AsyncVeniceKeys(
            settings, signer=signer, password_prompt=password_prompt, http_client=http_client
        )
        self._runner: SyncRunner = SyncRunner()

    @classmethod
    def from_env(cls, env_file: str | Path | None = None, **overrides: Any) -> VeniceKeys:
        from venice_web3_keys.settings import load_settings

        return cls(load_settings(env_file, **overrides))

    @property
    def settings(self) -> Settings:
        return self._async.settings

    @property
    def async_keys(self) -> AsyncVeniceKeys:
        """The async core this wrapper drives."""
        return self._async

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self._runner.run(coro)

    def wallet_status(self, address: str | None = None) -> WalletStatus:
        return self._run(self._async.wallet_status(address))

    def mint_key(
        self,
        *,
        api_key_type: str = "INFERENCE",
        description: str = "Web3 API Key",
        expires_at: When = None,
        usd_limit: Limit = None,
        diem_limit: Limit = None,
        limit_period: str | None = None,
        model_privacy: str | None = None,
        sink: SecretSink | None = None,
    ) -> NewKey:
        return self._run(self._async.mint_key(
            api_key_type=api_key_type, description=description, expires_at=expires_at,
            usd_limit=usd_limit, diem_limit=diem_limit, limit_period=limit_period,
            model_privacy=model_privacy, sink=sink,
        ))

    def list_keys(self) -> list[ApiKey]:
        return self._run(self._async.list_keys())

    def get_key(self, key_id: str) -> ApiKey:
        return self._run(self._async.get_key(key_id))

    def create_key(
        self,
        *,
        api_key_type: str,
        description: str,
        expires_at: When = None,
        usd_limit: Limit = None,
        diem_limit: Limit = None,
        limit_period: str | None = None,
        model_privacy: str | None = None,
        sink: SecretSink | None = None,
    ) -> NewKey:
        return self._run(self._async.create_key(
            api_key_type=api_key_type, description=description, expires_at=expires_at,
            usd_limit=usd_limit, diem_limit=diem_limit, limit_period=limit_period,
            model_privacy=model_privacy, sink=sink,
        ))

    def update_key(
        self,
        key_id: str,
        *,
        description: str | Unset = UNSET,
        expires_at: When | Unset = UNSET,
        usd_limit: Limit | Unset = UNSET,
        diem_limit: Limit | Unset = UNSET,
        limit_period: str | Unset = UNSET,
        model_privacy: str | Unset = UNSET,
    ) -> ApiKey:
        return self._run(self._async.update_key(
            key_id, description=description, expires_at=expires_at, usd_limit=usd_limit,
            diem_limit=diem_limit, limit_period=limit_period, model_privacy=model_privacy,
        ))

    def revoke_key(self, key_id: str) -> None:
        return self._run(self._async.revoke_key(key_id))

    def rotate_key(
        self, key_id: str, *, sink: SecretSink | None = None, description: str | None = None
    ) -> RotationResult:
        return self._run(self._async.rotate_key(key_id, sink=sink, description=description))

    def rate_limits(self) -> RateLimits:
        return self._run(self._async.rate_limits())

    def rate_limit_log(self) -> list[RateLimitLogEntry]:
        return self._run(self._async.rate_limit_log())

    def billing_balance(self) -> BillingBalance:
        return self._run(self._async.billing_balance())

    def provision_customer_key(
        self,
        customer_id: str,
        *,
        usd_limit: Limit = None,
        diem_limit: Limit = None,
        limit_period: str | None = "MONTH",
        expires_at: When = None,
        model_privacy: str | None = None,
        sink: SecretSink | None = None,
    ) -> NewKey:
        return self._run(self._async.provision_customer_key(
            customer_id, usd_limit=usd_limit, diem_limit=diem_limit, limit_period=limit_period,
            expires_at=expires_at, model_privacy=model_privacy, sink=sink,
        ))

    def customer_keys(self, customer_id: str) -> list[ApiKey]:
        return self._run(self._async.customer_keys(customer_id))

    def revoke_customer_keys(self, customer_id: str) -> list[str]:
        return self._run(self._async.revoke_customer_keys(customer_id))

    def close(self) -> None:
        """Close the HTTP clients, then stop the private event loop."""
        try:
            self._run(self._async.aclose())
        finally:
            self._runner.close()

    def __enter__(self) -> VeniceKeys:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
