"""What the tools return: structured results (their output schema is published) in snake_case,
and the conversions from the library's objects. A secret appears only in `NewKeyResult.secret`,
and only when the operator opted in."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_snake

from venice_web3_keys.amounts import decimal_str
from venice_web3_keys.mcp.catalog import RATE_LIMITS
from venice_web3_keys.serialize import to_jsonable

if TYPE_CHECKING:
    from venice_web3_keys.api import NewKey, StakeResult
    from venice_web3_keys.models import ApiKey, WalletStatus


class Limits(BaseModel):
    usd: float | None = None
    diem: float | None = None


class WalletStatusResult(BaseModel):
    address: str
    chain_id: int
    balances: dict[str, str] = Field(
        description="Whole-token decimal strings: ETH, VVV, sVVV, DIEM."
    )
    eligible: bool = Field(description="True when the wallet holds sVVV and can mint a key.")
    can_stake: bool = Field(
        description="True when the wallet holds unstaked VVV and some ETH for gas, so staking "
        "is possible (whether that ETH is enough is known once the stake is simulated)."
    )


class KeyInfo(BaseModel):
    id: str
    api_key_type: str | None = None
    description: str | None = None
    created_at: str | None = None
    expires_at: str | None = None
    last_used_at: str | None = None
    last6: str | None = Field(
        default=None, description="Last 6 characters of the secret (not usable)."
    )
    consumption_limits: Limits | None = None
    limit_period: str | None = None
    model_privacy: str | None = None
    usage: dict[str, Any] | None = None
    current_period_usage: dict[str, Any] | None = None
    made_by_this_server: bool


class KeyList(BaseModel):
    keys: list[KeyInfo]
    count: int


class NewKeyResult(BaseModel):
    id: str
    api_key_type: str
    description: str
    last6: str
    fingerprint: str = Field(description="sha256 hex of the secret: identifies it, cannot be used.")
    secret_file: str | None = Field(
        description="File on the server host holding the secret (0600)."
    )
    expires_at: str | None = None
    consumption_limits: Limits | None = None
    limit_period: str | None = None
    model_privacy: str | None = None
    secret: str | None = Field(
        default=None, description="Only present when the operator enabled inline secrets."
    )


class RevokeResult(BaseModel):
    revoked_key_id: str
    revoked: bool = Field(
        description="true: revoked now; false: no such key (already revoked), nothing changed."
    )


class RotateResult(BaseModel):
    new_key: NewKeyResult
    revoked_key_id: str
    verified: bool = Field(
        description="True when the new key was checked to work before the revoke."
    )
    removed_secret_file: str | None = Field(
        default=None,
        description="The revoked key's secret file, deleted now that the secret is useless "
        "(null when there was none in the secrets directory).",
    )


class StakeOutcome(BaseModel):
    """A finished stake; token amounts are whole-token decimal strings."""

    address: str
    chain_id: int
    amount: str = Field(description="VVV staked.")
    approve_tx: str | None = Field(description="Hash of the approve; null when none was needed.")
    stake_tx: str | None = Field(description="Hash of the stake transaction.")
    gas_used: dict[str, int] = Field(description="Gas used per transaction (approve, stake).")
    fees_paid_eth: str | None = Field(description="ETH the transactions cost in all.")
    svvv_before: str
    svvv_after: str
    vvv_after: str
    verified: bool = Field(description="sVVV rose and VVV fell by exactly `amount`.")


class _VeniceView(BaseModel):
    """A Venice answer in snake_case; fields Venice adds later pass through (their names in
    snake_case too) rather than being dropped or refused."""

    model_config = ConfigDict(extra="allow")


class ApiTierView(_VeniceView):
    id: str | None = Field(default=None, description='Tier name, e.g. "paid" or "free".')
    is_charged: bool | None = Field(
        default=None, description="True when calls are paid per use (USD or DIEM)."
    )


class RateLimitView(_VeniceView):
    amount: float | None = Field(default=None, description="How many per `type` window.")
    type: str | None = Field(
        default=None, description="RPM (requests/minute), RPD (requests/day), TPM (tokens/minute)."
    )


class ModelRateLimitsView(_VeniceView):
    api_model_id: str | None = Field(default=None, description="Model id, e.g. zai-org-glm-5-1.")
    rate_limits: list[RateLimitView] = Field(default_factory=list)


class RateLimitsResult(_VeniceView):
    """GET /api_keys/rate_limits: about the operator's configured key, not the account."""

    access_permitted: bool | None = Field(
        default=None,
        description="Whether this key may call models right now (balance, its own caps and the "
        "account status together). false explains 402s.",
    )
    api_tier: ApiTierView | None = Field(
        default=None, description="The key's tier: id (paid/free) and is_charged."
    )
    balances: dict[str, float | None] = Field(
        default_factory=dict,
        description="What this key can still spend, by currency (USD, DIEM, sometimes "
        "BUNDLED_CREDITS), already clamped to the key's own caps; a currency may be absent.",
    )
    key_expiration: str | None = Field(
        default=None, description="ISO time the key expires; null = never."
    )
    next_epoch_begins: str | None = Field(
        default=None, description="ISO time the daily (EPOCH) caps and limits reset."
    )
    rate_limits: list[ModelRateLimitsView] = Field(
        default_factory=list, description="Per model: its RPM / RPD / TPM limits."
    )


class BillingBalancesView(_VeniceView):
    usd: float | None = Field(default=None, description="USD credit; null when none.")
    diem: float | None = Field(
        default=None, description="DIEM left this epoch; null when the account stakes no DIEM."
    )
    bundled_credits: float | None = Field(default=None, description="Bundled credits, if any.")
    earned_credits: float | None = Field(default=None, description="Earned credits, if any.")


class BillingBalanceResult(_VeniceView):
    """GET /billing/balance: the whole account (per-key caps are not applied here)."""

    can_consume: bool | None = Field(
        default=None,
        description="Whether the account has anything to spend. Ignores per-key caps: use "
        f"{RATE_LIMITS.name}.access_permitted for one key.",
    )
    consumption_currency: str | None = Field(
        default=None,
        description="What is spent first: DIEM, USD, BUNDLED_CREDITS or EARNED_CREDITS; null "
        "when nothing is left.",
    )
    balances: BillingBalancesView = Field(
        default_factory=BillingBalancesView,
        description="Account funds: usd, diem, bundled_credits, earned_credits (null = none).",
    )
    diem_epoch_allocation: float | None = Field(
        default=None, description="DIEM granted per epoch (daily, UTC) by the account's stake."
    )


class RateLimitLogEntryView(_VeniceView):
    api_key_id: str | None = Field(default=None, description="The key that hit the limit.")
    model_id: str | None = None
    rate_limit_tier: str | None = None
    rate_limit_type: str | None = Field(default=None, description="RPM, RPD or TPM.")
    timestamp: str | None = None


class LogResult(BaseModel):
    entries: list[RateLimitLogEntryView] = Field(description="Newest first.")
    count: int


# --- conversions --------------------------------------------------------------------------------
def snake_case_view(value: Any) -> Any:
    """A library response model with every field name in snake_case, the names of fields Venice
    added later included; values (and the keys of dict-valued fields, e.g. currencies) as sent,
    timestamps as Venice writes them."""
    if isinstance(value, datetime):
        return optional_text(value)
    if isinstance(value, BaseModel):
        out = {name: snake_case_view(getattr(value, name)) for name in type(value).model_fields}
        for name, extra in (value.model_extra or {}).items():
            out.setdefault(to_snake(name), extra)
        return out
    if isinstance(value, list | tuple):
        return [snake_case_view(v) for v in value]
    if isinstance(value, dict):
        return {k: snake_case_view(v) for k, v in value.items()}
    return value


def limits_of(obj: Any) -> Limits | None:
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return Limits(usd=obj.get("usd"), diem=obj.get("diem"))
    return Limits(usd=getattr(obj, "usd", None), diem=getattr(obj, "diem", None))


def optional_text(value: Any) -> str | None:
    """A value as text; a timestamp in Venice's form, as every face writes it (to_jsonable)."""
    if value is None:
        return None
    return str(to_jsonable(value)) if isinstance(value, datetime) else str(value)


def wallet_status_result(status: WalletStatus) -> WalletStatusResult:
    return WalletStatusResult(
        address=status.address,
        chain_id=status.chain_id,
        balances={k: decimal_str(v) for k, v in status.balances.items()},
        eligible=status.eligible,
        can_stake=status.can_stake,
    )


def stake_outcome(result: StakeResult) -> StakeOutcome:
    return StakeOutcome(
        address=result.address,
        chain_id=result.chain_id,
        amount=decimal_str(result.amount),
        approve_tx=result.approve_tx,
        stake_tx=result.stake_tx,
        gas_used=dict(result.gas_used),
        fees_paid_eth=None if result.fees_paid is None else decimal_str(result.fees_paid),
        svvv_before=decimal_str(result.svvv_before),
        svvv_after=decimal_str(result.svvv_after),
        vvv_after=decimal_str(result.balances_after["VVV"]),
        verified=result.verified,
    )


def key_info(key: ApiKey, *, made_by_this_server: bool) -> KeyInfo:
    return KeyInfo(
        id=str(key.id),
        api_key_type=optional_text(key.api_key_type),
        description=key.description,
        created_at=optional_text(key.created_at),
        expires_at=optional_text(key.expires_at),
        last_used_at=optional_text(key.last_used_at),
        last6=key.last6_chars,
        consumption_limits=limits_of(key.consumption_limits),
        limit_period=optional_text(key.limit_period),
        model_privacy=optional_text(key.model_privacy),
        usage=to_jsonable(key.usage, by_alias=False) if key.usage is not None else None,
        current_period_usage=(
            to_jsonable(key.current_period_usage, by_alias=False)
            if key.current_period_usage is not None
            else None
        ),
        made_by_this_server=made_by_this_server,
    )


def new_key_result(new: NewKey, *, reveal: bool) -> NewKeyResult:
    location = new.sink.location if new.sink is not None else None
    return NewKeyResult(
        id=new.id,
        api_key_type=str(new.api_key_type),
        description=new.description,
        last6=new.secret.last6,
        fingerprint=new.secret.fingerprint,
        secret_file=str(Path(location).resolve()) if location else None,
        expires_at=optional_text(new.expires_at),
        consumption_limits=limits_of(new.consumption_limits),
        limit_period=optional_text(new.limit_period),
        model_privacy=optional_text(new.model_privacy),
        secret=new.secret.reveal() if reveal else None,
    )
