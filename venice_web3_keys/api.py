"""The library facade: AsyncVeniceKeys (the core) and VeniceKeys (its synchronous twin).

The CLI and the MCP server call only this. Every argument is validated before any request, the
wallet signer and the chain reader are built on first use (listing keys never imports
eth_account or web3), and admin-only calls fail locally with MissingCredentialsError when no
admin key is configured instead of spending a request on a 402.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, Unpack

from venice_web3_keys import models
from venice_web3_keys._sync import SyncFacade, blocking, collecting
from venice_web3_keys.errors import (
    AmbiguousKeyIdError,
    KeyNotFoundError,
    MissingCredentialsError,
)
from venice_web3_keys.flows._spec import KeyOptions, Limit, When, build_spec
from venice_web3_keys.models import UNSET, Unset
from venice_web3_keys.validation import (
    ApiKeyType,
    LimitPeriod,
    ModelPrivacy,
    validate_description,
    validate_key_id,
    validate_key_id_prefix,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    import httpx

    from venice_web3_keys._sync import SyncRunner
    from venice_web3_keys.amounts import StakeAmount
    from venice_web3_keys.budget import BudgetStorage
    from venice_web3_keys.chain import ChainReader
    from venice_web3_keys.challenge import SigningNotice
    from venice_web3_keys.client.async_client import AsyncVeniceClient
    from venice_web3_keys.flows._result import (
        NewKey,
        Revocation,
        RotationProgress,
        RotationResult,
        StakeProgress,
        StakeResult,
    )
    from venice_web3_keys.flows.provision import ProvisionRun, SinkFactory
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

__all__ = ["AsyncVeniceKeys", "KeyOptions", "NewKey", "Revocation", "RotationProgress",
           "RotationResult", "StakeResult", "VeniceKeys"]

#: the flows' result types, re-exported here and loaded with the first that is asked for (or made)
_RESULTS = frozenset({"NewKey", "Revocation", "RotationProgress", "RotationResult", "StakeResult"})

if not TYPE_CHECKING:  # type checkers see the imports above; a __getattr__ would hide typos

    def __getattr__(name: str) -> Any:
        if name not in _RESULTS:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        from venice_web3_keys.flows import _result

        return getattr(_result, name)


class _FromEnv:
    """`from_env` once for both facades: they differ only in how they run, not in set-up."""

    def __init__(self, settings: Settings | None = None) -> None:
        raise NotImplementedError

    @classmethod
    def from_env(cls, env_file: str | Path | None = None, **overrides: Any) -> Self:
        """Settings from the environment over a .env file (`env_file`, else ./.env if present).

        `overrides` take Settings field names (api_base_url=, rpc_urls=, ...) and win over both.
        """
        from venice_web3_keys.settings import load_settings

        return cls(load_settings(env_file, **overrides))


class AsyncVeniceKeys(_FromEnv):
    """Mint, create, inspect, update, rotate and revoke Venice API keys; stake VVV (async).

    `http_client`, when given, carries every HTTP call (Venice API and Base JSON-RPC) and is
    never closed by us. `on_sign` receives a SigningNotice before every wallet signature made
    for a host allowed only by VENICE_ALLOW_CUSTOM_API_HOST=1 (show it to the user; without a
    callback it is logged as a warning).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        signer: Signer | None = None,
        password_prompt: Callable[[str], str] | None = None,
        http_client: httpx.AsyncClient | None = None,
        on_sign: Callable[[SigningNotice], object] | None = None,
    ) -> None:
        if settings is None:
            from venice_web3_keys.settings import load_settings

            settings = load_settings()
        self.settings: Settings = settings
        self._signer = signer
        self._password_prompt = password_prompt
        self._http_client = http_client
        self._on_sign = on_sign
        self._client: AsyncVeniceClient | None = None
        self._chain: ChainReader | None = None
        self._budget_storage: BudgetStorage | None = None

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
                timeout=s.timeout,
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

    @property
    def budget_storage(self) -> BudgetStorage:
        """Where this facade counts rate budgets (VENICE_BUDGET_URL); faces may share it, e.g.
        for the MCP server's hourly cap on new keys."""
        if self._budget_storage is None:
            from venice_web3_keys.budget import BudgetStorage

            self._budget_storage = BudgetStorage(self.settings.budget_url,
                                                 timeout=min(self.settings.timeout, 10.0))
        return self._budget_storage

    async def account_scope(self) -> str:
        """The name this account's shared budgets go by: a one-way hash of the admin key, or
        (no admin key) of the wallet's address. Never the credential itself."""
        from venice_web3_keys.budget import budget_scope
        from venice_web3_keys.secret import SecretValue

        if self.settings.admin_key is not None:
            return budget_scope(self.settings.admin_key)
        address = (await self._wallet()).address
        return budget_scope(SecretValue(address.lower()))

    def _need_admin(self, action: str) -> AsyncVeniceClient:
        if self.settings.admin_key is None:
            raise MissingCredentialsError(f"{action} needs an ADMIN key: set VENICE_ADMIN_KEY",
                                          credential="admin_key")
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
        api_key_type: ApiKeyType = "INFERENCE",
        description: str = "Web3 API Key",
        sink: SecretSink | None = None,
        **options: Unpack[KeyOptions],
    ) -> NewKey:
        """Mint a key by signing Venice's challenge with the configured wallet (needs sVVV).

        `options`: expires_at, usd_limit, diem_limit, limit_period, model_privacy (KeyOptions).
        """
        from venice_web3_keys.challenge import check_signing_host
        from venice_web3_keys.flows.mint import mint_key

        spec = build_spec(api_key_type=api_key_type, description=description, **options)
        check_signing_host(self.settings)  # before the keystore is opened or a prompt shown
        signer = await self._wallet()
        return await mint_key(
            self.client,
            chain=self._chain_reader(),
            signer=signer,
            settings=self.settings,
            spec=spec,
            sink=sink,
            admin=self.settings.admin_key is not None,
            on_sign=self._on_sign,
        )

    async def stake_vvv(
        self,
        amount: StakeAmount,
        *,
        dry_run: bool = False,
        progress: StakeProgress | None = None,
        receipt_timeout: float | None = None,
    ) -> StakeResult:
        """Stake `amount` whole VVV (a decimal string, Decimal or int; or "all") for sVVV.

        Simulated first for the exact amount; approves exactly `amount` only when the staking
        contract's allowance is short, then stakes, and checks the balances moved. `dry_run`
        returns the plan (approve needed?, gas, fee estimate, balances after) and signs nothing.
        `progress` (a StakeProgress) says at any moment what is on chain, e.g. after Ctrl-C.
        `receipt_timeout`: seconds to wait for each transaction to be mined (default 120).
        """
        from venice_web3_keys.amounts import parse_stake_amount

        parse_stake_amount(amount)  # bad input fails before a keystore prompt or any request
        from venice_web3_keys.flows.stake import DEFAULT_RECEIPT_TIMEOUT
        from venice_web3_keys.flows.stake import stake_vvv as stake

        signer = await self._wallet()
        return await stake(
            settings=self.settings,
            signer=signer,
            amount=amount,
            dry_run=dry_run,
            progress=progress,
            receipt_timeout=DEFAULT_RECEIPT_TIMEOUT if receipt_timeout is None else receipt_timeout,
        )

    # ------------------------------------------------------------------ admin key management

    async def list_keys(self) -> list[ApiKey]:
        """Every active key of the account (needs the admin key); expired and revoked are gone."""
        return await self._need_admin("listing keys").list_keys()

    async def get_key(self, key_id: str) -> ApiKey:
        key_id = validate_key_id(key_id)
        return await self._need_admin("reading a key").get_key(key_id)

    async def create_key(
        self,
        *,
        api_key_type: ApiKeyType,
        description: str,
        sink: SecretSink | None = None,
        **options: Unpack[KeyOptions],
    ) -> NewKey:
        """Create a key with the admin key; an ambiguous outcome is reconciled, never re-sent.

        `options`: expires_at, usd_limit, diem_limit, limit_period, model_privacy (KeyOptions).
        """
        from venice_web3_keys.flows.create import create_key

        spec = build_spec(api_key_type=api_key_type, description=description, **options)
        return await create_key(self._need_admin("creating a key"), spec, sink=sink)

    async def update_key(
        self,
        key_id: str,
        *,
        description: str | Unset = UNSET,
        expires_at: When | Unset = UNSET,
        usd_limit: Limit | Unset = UNSET,
        diem_limit: Limit | Unset = UNSET,
        limit_period: LimitPeriod | Unset = UNSET,
        model_privacy: ModelPrivacy | Unset = UNSET,
    ) -> ApiKey:
        """Change only what is passed; `expires_at=None` / a limit of None removes it."""
        fields: dict[str, Any] = {
            "id": key_id, "description": description, "expires_at": expires_at,
            "usd_limit": usd_limit, "diem_limit": diem_limit, "limit_period": limit_period,
            "model_privacy": model_privacy,
        }
        update = models.KeyUpdate(**fields)
        return await self._need_admin("updating a key").update_key(update)

    async def revoke_key(self, key_id: str) -> Revocation:
        """Revoke a key at once. Idempotent: a key already gone is `already_revoked`, not an
        error (Venice answers "not found" alike for a revoked, an expired and an unknown id)."""
        from venice_web3_keys.flows._result import Revocation

        key_id = validate_key_id(key_id)
        try:
            await self._need_admin("revoking a key").delete_key(key_id)
        except KeyNotFoundError:
            return Revocation(key_id, already_revoked=True)
        return Revocation(key_id)

    async def rotate_key(
        self,
        key_id: str,
        *,
        sink: SecretSink | None = None,
        description: str | None = None,
        progress: RotationProgress | None = None,
    ) -> RotationResult:
        """Successor with the same settings, delivered and verified, then the old key revoked.

        `progress` (optional) is filled in step by step, so that a caller interrupted mid-way
        (Ctrl-C, a cancelled task) knows what exists: see RotationProgress.
        """
        from venice_web3_keys.flows.rotate import rotate_key

        key_id = validate_key_id(key_id)
        if description is not None:
            description = validate_description(description)
        client = self._need_admin("rotating a key")
        return await rotate_key(client, key_id, sink=sink, description=description,
                                progress=progress)

    async def find_key(self, key_id_or_prefix: str) -> ApiKey:
        """The active key whose id is `key_id_or_prefix`, or starts with it (at least 8
        characters), found with one list call. KeyNotFoundError when none matches;
        AmbiguousKeyIdError (listing them) when several do."""
        wanted = validate_key_id_prefix(key_id_or_prefix)
        keys = await self._need_admin("finding a key").list_keys()
        matches = [k for k in keys if k.id.lower().startswith(wanted)]
        if not matches:
            raise KeyNotFoundError(
                f"no active key has the id {wanted}" if len(wanted) == 36 else
                f"no active key id starts with {wanted}")
        if len(matches) > 1:
            ids = [k.id for k in matches]
            raise AmbiguousKeyIdError(
                f"{wanted} matches {len(ids)} keys: {', '.join(ids)}; give more characters",
                matches=ids)
        return matches[0]

    async def resolve_key_id(self, key_id_or_prefix: str) -> str:
        """The full id for a full id (no request) or a unique prefix (one list call: find_key)."""
        wanted = validate_key_id_prefix(key_id_or_prefix)
        if len(wanted) == 36:
            return wanted
        return (await self.find_key(wanted)).id

    def is_calling_key(self, key: ApiKey) -> bool:
        """Whether `key` is (by its last 6 characters) the admin key this client authenticates
        with: revoking or rotating that one locks the caller out until it switches keys."""
        admin = self.settings.admin_key
        return admin is not None and bool(key.last6_chars) and \
            admin.reveal().endswith(str(key.last6_chars))

    # ------------------------------------------------------------------ limits and billing

    async def rate_limits(self) -> RateLimits:
        """Rate limits and balances of VENICE_API_KEY, else of the admin key."""
        if self.settings.api_key is None and self.settings.admin_key is None:
            raise MissingCredentialsError(
                "rate limits need a key: set VENICE_API_KEY or VENICE_ADMIN_KEY",
                credential="api_key")
        return await self.client.rate_limits()

    async def rate_limit_log(self) -> list[RateLimitLogEntry]:
        return await self._need_admin("the rate-limit log").rate_limit_log()

    async def billing_balance(self) -> BillingBalance:
        return await self._need_admin("the billing balance").billing_balance()

    # ------------------------------------------------------------------ dApp customers

    async def provision_customer_key(
        self, customer_id: str, *, sink: SecretSink | None = None, **options: Unpack[KeyOptions]
    ) -> NewKey:
        """A capped INFERENCE key described `cust:<customer_id>` (a USD or DIEM cap is required).

        `options` as for create_key; limit_period defaults to MONTH here.
        """
        from venice_web3_keys.flows.customers import provision_customer_key

        client = self._need_admin("provisioning a customer key")
        return await provision_customer_key(client, customer_id, sink=sink, **options)

    def provision_customer_keys(
        self,
        customer_ids: Iterable[str],
        *,
        sink_factory: SinkFactory,
        **options: Unpack[KeyOptions],
    ) -> ProvisionRun:
        """One capped `cust:<id>` key per customer, paced by the create budget; idempotent.

        Returns an async iterator of ProvisionResult (`created` / `exists` / `failed`), one per
        customer. `sink_factory(customer_id)` gives where each new secret goes (or None to keep
        it only in the result). Ids and options are checked here, before anything is sent;
        a re-run skips customers that already hold an active key. `options` as for
        provision_customer_key (a USD or DIEM cap is required; limit_period defaults to MONTH).
        """
        from venice_web3_keys.budget import Claims, RateBudget, budget_scope
        from venice_web3_keys.errors import InvalidInputError
        from venice_web3_keys.flows.create import SETTLE_DELAYS
        from venice_web3_keys.flows.customers import customer_spec, validate_customer_ids
        from venice_web3_keys.flows.provision import ProvisionRun

        customers = validate_customer_ids(customer_ids)
        if not callable(sink_factory):
            raise InvalidInputError("sink_factory must be a callable taking a customer id",
                                    field="sink_factory")
        customer_spec("x", **options)  # the options are checked even for an empty list
        specs = {c: customer_spec(c, **options) for c in customers}
        client = self._need_admin("provisioning customer keys")
        admin_key = self.settings.admin_key
        assert admin_key is not None  # _need_admin checked it
        scope = budget_scope(admin_key)  # == account_scope(), without an await
        storage = self.budget_storage
        # A claim outlives the longest create: snapshot, POST, reconciliation, revocation.
        lease = 8 * self.settings.timeout + sum(SETTLE_DELAYS) + 10
        budget = RateBudget(storage, self.settings.create_budget, "creates", scope)
        return ProvisionRun(
            client, customers, specs, sink_factory=sink_factory, budget=budget,
            claims=Claims(storage, lease, "customer-claims", scope),
            made=Claims(storage, budget.window, "customer-made", scope))

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
        client, chain, budget = self._client, self._chain, self._budget_storage
        self._client = self._chain = self._budget_storage = None
        if client is not None:
            await client.aclose()
        if chain is not None:
            await chain.aclose()
        if budget is not None:
            await budget.aclose()

    async def __aenter__(self) -> AsyncVeniceKeys:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class VeniceKeys(_FromEnv, SyncFacade):
    """Synchronous twin of AsyncVeniceKeys: each method runs the async one on a private loop.

    The methods are generated from AsyncVeniceKeys (same names, signatures and docstrings), so
    there is no logic here to drift. A given `http_client` must be an httpx.AsyncClient (it is
    used on that private loop).
    """

    _core: AsyncVeniceKeys

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        signer: Signer | None = None,
        password_prompt: Callable[[str], str] | None = None,
        http_client: httpx.AsyncClient | None = None,
        on_sign: Callable[[SigningNotice], object] | None = None,
    ) -> None:
        from venice_web3_keys._sync import SyncRunner

        self._core = AsyncVeniceKeys(
            settings, signer=signer, password_prompt=password_prompt, http_client=http_client,
            on_sign=on_sign,
        )
        self._runner: SyncRunner = SyncRunner()

    @property
    def settings(self) -> Settings:
        return self._core.settings

    @property
    def async_keys(self) -> AsyncVeniceKeys:
        """The async core this wrapper drives."""
        return self._core

    def is_calling_key(self, key: ApiKey) -> bool:
        """See AsyncVeniceKeys.is_calling_key (no I/O, so not wrapped)."""
        return self._core.is_calling_key(key)

    wallet_status = blocking(AsyncVeniceKeys.wallet_status)
    mint_key = blocking(AsyncVeniceKeys.mint_key)
    stake_vvv = blocking(AsyncVeniceKeys.stake_vvv)
    list_keys = blocking(AsyncVeniceKeys.list_keys)
    get_key = blocking(AsyncVeniceKeys.get_key)
    create_key = blocking(AsyncVeniceKeys.create_key)
    update_key = blocking(AsyncVeniceKeys.update_key)
    revoke_key = blocking(AsyncVeniceKeys.revoke_key)
    rotate_key = blocking(AsyncVeniceKeys.rotate_key)
    find_key = blocking(AsyncVeniceKeys.find_key)
    resolve_key_id = blocking(AsyncVeniceKeys.resolve_key_id)
    rate_limits = blocking(AsyncVeniceKeys.rate_limits)
    rate_limit_log = blocking(AsyncVeniceKeys.rate_limit_log)
    billing_balance = blocking(AsyncVeniceKeys.billing_balance)
    provision_customer_key = blocking(AsyncVeniceKeys.provision_customer_key)
    customer_keys = blocking(AsyncVeniceKeys.customer_keys)
    revoke_customer_keys = blocking(AsyncVeniceKeys.revoke_customer_keys)
    account_scope = blocking(AsyncVeniceKeys.account_scope)
    #: A list instead of an async iterator; Ctrl-C waits for the create in flight to finish.
    provision_customer_keys = collecting(AsyncVeniceKeys.provision_customer_keys, grace=120.0,
                                         item_type="ProvisionResult")
