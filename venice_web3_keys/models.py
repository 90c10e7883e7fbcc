"""Pydantic models at the Venice API boundary.

Responses are tolerant (unknown fields kept, optional fields may be missing, enum-like values kept
as plain strings) because the live API drifts ahead of its spec. Requests are strict: they are
validated locally before anything is sent, and `to_body()` emits only what the caller set, since
Venice rejects unknown or unexpected fields with a 400.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    field_serializer,
    field_validator,
    model_validator,
)
from pydantic import ValidationError as PydanticValidationError
from pydantic.alias_generators import to_camel

from venice_web3_keys import validation
from venice_web3_keys.errors import InvalidInputError
from venice_web3_keys.secret import ApiKeySecret, get_logger
from venice_web3_keys.timeparse import format_datetime, parse_expires
from venice_web3_keys.validation import ApiKeyType, LimitPeriod, ModelPrivacy

__all__ = [
    "UNSET",
    "ApiKey",
    "ApiKeyType",
    "ApiTier",
    "BillingBalance",
    "BillingBalances",
    "ConsumptionLimits",
    "CreatedKey",
    "CurrentPeriodUsage",
    "KeySpec",
    "KeyUpdate",
    "KeyUsage",
    "LimitPeriod",
    "ModelPrivacy",
    "ModelRateLimits",
    "RateLimitAmount",
    "RateLimitLogEntry",
    "RateLimits",
    "Unset",
    "UsageAmounts",
    "WalletStatus",
    "Web3Challenge",
]

log = get_logger("venice_web3_keys.models")


class _UnsetEnum(enum.Enum):
    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET = _UnsetEnum.UNSET
"""Marks an update field the caller did not pass (distinct from None, which means "remove")."""
Unset = Literal[_UnsetEnum.UNSET]


# --------------------------------------------------------------------------- responses


class _Response(BaseModel):
    """Tolerant base: camelCase on the wire, snake_case in Python, unknown fields kept."""

    model_config = ConfigDict(
        extra="allow", populate_by_name=True, alias_generator=to_camel, frozen=True,
        defer_build=True,
    )


def _timestamp(value: Any) -> datetime | None:
    """A Venice timestamp ("2026-12-31T23:59:59.000Z", an offset, or a bare date) as an aware
    UTC datetime.

    Anything unreadable becomes None (with a debug log) rather than an error: one odd value (the
    spec's generator once emitted `createdAt: {}`) must not make a whole key list unreadable, and
    a field typed `datetime | None` cannot honestly carry a string it could not parse.
    """
    if value is None or value == "":
        return None
    try:
        if isinstance(value, str) and len(value) <= 64:
            text = value.strip()
            if len(text) == 10:
                return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
            value = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
        if isinstance(value, datetime):  # Venice's times are UTC: no offset is read as UTC
            return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        pass
    log.debug("unreadable timestamp from Venice (%s) read as unknown", type(value).__name__)
    return None


Timestamp = Annotated[
    datetime | None,
    BeforeValidator(_timestamp),
    PlainSerializer(format_datetime, when_used="json-unless-none"),
]
"""A response timestamp: an aware UTC datetime, or None (absent, null or unreadable); in JSON,
Venice's own form (`2026-12-31T23:59:59.000Z`)."""


def _cap_as_json(value: Decimal | None) -> int | float | None:
    return None if value is None else validation.json_number(value)


class ConsumptionLimits(_Response):
    """Per-key spend caps as exact Decimals; None means no cap. `vcu` is deprecated and only
    ever read. Dumped (and so in every face's JSON) as the numbers Venice sends, not strings."""

    usd: Decimal | None = None
    diem: Decimal | None = None
    vcu: Decimal | None = None

    @field_serializer("usd", "diem", "vcu")
    def _as_numbers(self, value: Decimal | None) -> int | float | None:
        return _cap_as_json(value)


class UsageAmounts(_Response):
    """Venice sends usage as 4-decimal strings ("10.2424"); Decimal keeps them exact."""

    usd: Decimal | None = None
    diem: Decimal | None = None
    vcu: Decimal | None = None


class KeyUsage(_Response):
    trailing_seven_days: UsageAmounts | None = None


class CurrentPeriodUsage(_Response):
    usd: Decimal | None = None
    diem: Decimal | None = None


_LIMITS_ALIASES = AliasChoices("consumptionLimits", "consumptionLimit", "consumption_limits")


class ApiKey(_Response):
    """A key as listed/read/updated. Never carries the secret (Venice shows it only once).

    `api_key_type`, `limit_period` and `model_privacy` stay plain strings (what a caller passes
    is typed ApiKeyType / LimitPeriod / ModelPrivacy): a value Venice adds later must not make
    listing fail.
    """

    id: str
    api_key_type: str
    description: str = ""
    created_at: Timestamp = None
    expires_at: Timestamp = None
    last_used_at: Timestamp = None
    last6_chars: str | None = None
    # Venice names this `consumptionLimits` here but `consumptionLimit` on create: accept both.
    consumption_limits: ConsumptionLimits | None = Field(
        default=None, validation_alias=_LIMITS_ALIASES
    )
    limit_period: str | None = None
    model_privacy: str | None = None
    usage: KeyUsage | None = None
    current_period_usage: CurrentPeriodUsage | None = None


_SECRET_KEYS = ("apiKey", "api_key", "secret")


class CreatedKey(_Response):
    """A newly created/minted key. The one-time `apiKey` is held only as an ApiKeySecret.

    Enum-like fields stay plain strings, as in ApiKey (forward compatible)."""

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
        alias_generator=to_camel,
        frozen=True,
        arbitrary_types_allowed=True,
        defer_build=True,
    )

    id: str
    api_key_type: str
    description: str = ""
    expires_at: Timestamp = None
    # The create echo is unreliable on the web3 path: read limits back with GET /api_keys/{id}.
    consumption_limit: ConsumptionLimits | None = Field(
        default=None, validation_alias=_LIMITS_ALIASES
    )
    limit_period: str | None = None
    model_privacy: str | None = None
    secret: ApiKeySecret

    @model_validator(mode="before")
    @classmethod
    def _wrap_secret(cls, data: Any) -> Any:
        # Runs before field validation so the raw string never reaches a field, an extra or an
        # error message: it is popped and wrapped at once.
        if not isinstance(data, dict):
            return data
        data = dict(data)
        raw = data.pop("apiKey", None)
        for name in _SECRET_KEYS[1:]:
            if raw is None and isinstance(data.get(name), str | ApiKeySecret):
                raw = data.pop(name)
            else:
                data.pop(name, None)
        if isinstance(raw, str):
            raw = ApiKeySecret(raw)
        if isinstance(raw, ApiKeySecret):
            data["secret"] = raw
        return data

    @field_serializer("secret")
    def _mask_secret(self, value: ApiKeySecret) -> str:
        return str(value)


class Web3Challenge(_Response):
    """What GET generate_web3_key returned; `variant` decides what is signed and POSTed back."""

    variant: Literal["jwt", "siwe"]
    token: str | None = None
    message: str | None = None
    nonce: str | None = None
    expires_at: Timestamp = None

    @property
    def signing_text(self) -> str:
        """The exact text to sign with EIP-191 personal_sign."""
        text = self.token if self.variant == "jwt" else self.message
        if text is None:  # pragma: no cover - construction guarantees it
            raise InvalidInputError("challenge has nothing to sign")
        return text

    @model_validator(mode="before")
    @classmethod
    def _detect_variant(cls, data: Any) -> Any:
        if isinstance(data, dict) and "variant" not in data:
            data = dict(data)
            if isinstance(data.get("token"), str):
                data["variant"] = "jwt"
            elif isinstance(data.get("message"), str):
                data["variant"] = "siwe"
        return data

    @model_validator(mode="after")
    def _check_payload(self) -> Web3Challenge:
        if self.variant == "jwt" and not self.token:
            raise ValueError("a jwt challenge needs a token")
        if self.variant == "siwe" and not self.message:
            raise ValueError("a siwe challenge needs a message")
        return self


class ApiTier(_Response):
    id: str | None = None
    is_charged: bool | None = None


class RateLimitAmount(_Response):
    amount: Decimal | None = None
    type: str | None = None


class ModelRateLimits(_Response):
    api_model_id: str | None = None
    rate_limits: list[RateLimitAmount] = Field(default_factory=list)


class RateLimits(_Response):
    """GET /api_keys/rate_limits: about the *calling* key; `access_permitted` is the real check."""

    access_permitted: bool | None = None
    api_tier: ApiTier | None = None
    balances: dict[str, Decimal | None] = Field(default_factory=dict)
    key_expiration: Timestamp = None
    next_epoch_begins: Timestamp = None
    rate_limits: list[ModelRateLimits] = Field(default_factory=list)


class RateLimitLogEntry(_Response):
    api_key_id: str | None = None
    model_id: str | None = None
    rate_limit_tier: str | None = None
    rate_limit_type: str | None = None
    timestamp: Timestamp = None


class BillingBalances(_Response):
    diem: Decimal | None = None
    usd: Decimal | None = None
    bundled_credits: Decimal | None = None
    earned_credits: Decimal | None = None


class BillingBalance(_Response):
    """GET /billing/balance (no envelope). `can_consume` ignores per-key limits."""

    can_consume: bool | None = None
    consumption_currency: str | None = None
    balances: BillingBalances = Field(default_factory=BillingBalances)
    diem_epoch_allocation: Decimal | None = None


class WalletStatus(_Response):
    """A wallet's balances on Base in whole tokens (keys ETH, VVV, sVVV, DIEM)."""

    address: str
    chain_id: int
    balances: dict[str, Decimal] = Field(default_factory=dict)
    eligible: bool

    @property
    def can_stake(self) -> bool:
        """Whether staking is possible at all: some VVV to stake and some ETH for gas (whether
        that ETH is enough is known only once the transactions are priced)."""
        vvv, eth = self.balances.get("VVV", Decimal(0)), self.balances.get("ETH", Decimal(0))
        return vvv > 0 and eth > 0


# --------------------------------------------------------------------------- requests


class _Request(BaseModel):
    """Strict base: unknown fields are an error, and any failure surfaces as InvalidInputError."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    if not TYPE_CHECKING:  # mypy keeps the plugin's typed __init__; runtime converts errors

        def __init__(self, **data: Any) -> None:
            try:
                super().__init__(**data)
            except PydanticValidationError as exc:
                raise _as_invalid_input(exc) from None


def _as_invalid_input(exc: PydanticValidationError) -> InvalidInputError:
    """Re-raise our own validator's InvalidInputError, or describe pydantic's without inputs."""
    errors = exc.errors(include_url=False, include_input=False)
    for err in errors:
        original = (err.get("ctx") or {}).get("error")
        if isinstance(original, InvalidInputError):
            return original
    first = errors[0]
    field = ".".join(str(p) for p in first["loc"]) or None
    if first["type"] == "extra_forbidden":
        return InvalidInputError(f"unknown field {field!r}", field=field)
    return InvalidInputError(f"{field or 'request'}: {first['msg']}", field=field)


def _limit_validator(field: str) -> Any:
    def check(value: Any) -> Any:
        return value if value is UNSET else validation.validate_limit(value, field)

    return check


def _expires(value: Any) -> Any:
    if value is UNSET or value is None:
        return value
    if isinstance(value, str | datetime | date | timedelta):
        return parse_expires(value)
    raise InvalidInputError("expires_at must be a date, a datetime, a duration or a string",
                            field="expires_at")


def _description(value: Any) -> Any:
    return value if value is UNSET else validation.validate_description(value)


def _enum(kind: str) -> Any:
    def check(value: Any) -> Any:
        if value is UNSET or value is None:
            return value
        if not isinstance(value, str):
            raise InvalidInputError(f"{kind} must be a string", field=kind)
        return getattr(validation, f"validate_{kind}")(value)

    return check


class _KeyFields(_Request):
    """The field rules KeySpec and KeyUpdate share, and their one camelCase body builder."""

    _v_desc = field_validator("description", mode="before", check_fields=False)(_description)
    _v_exp = field_validator("expires_at", mode="before", check_fields=False)(_expires)
    _v_usd = field_validator("usd_limit", mode="before", check_fields=False)(
        _limit_validator("usd_limit"))
    _v_diem = field_validator("diem_limit", mode="before", check_fields=False)(
        _limit_validator("diem_limit"))
    _v_period = field_validator("limit_period", mode="before", check_fields=False)(
        _enum("limit_period"))
    _v_privacy = field_validator("model_privacy", mode="before", check_fields=False)(
        _enum("model_privacy"))

    def _body(self, *, omit: Unset | None) -> dict[str, Any]:
        """Every field under its wire name, except those that are `omit` (None on create) or UNSET.

        Limits nest under `consumptionLimit` with only `usd` / `diem` (`vcu` is deprecated and
        never sent).
        """
        body: dict[str, Any] = {}
        limits: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if value is omit or value is UNSET:
                continue
            if name in ("usd_limit", "diem_limit"):
                limits[name.removesuffix("_limit")] = _cap_as_json(value)
            else:
                body[to_camel(name)] = value
        if limits:
            body["consumptionLimit"] = limits
        return body


class KeySpec(_KeyFields):
    """What a new key should look like (create or mint). Validated on construction."""

    api_key_type: ApiKeyType
    description: str
    expires_at: str | None = None
    usd_limit: Decimal | None = None
    diem_limit: Decimal | None = None
    limit_period: LimitPeriod | None = None
    model_privacy: ModelPrivacy | None = None

    _v_type = field_validator("api_key_type", mode="before")(_enum("api_key_type"))

    def to_body(self) -> dict[str, Any]:
        """The JSON body for POST /api_keys (and the key part of a web3 mint); None is omitted."""
        return self._body(omit=None)


class KeyUpdate(_KeyFields):
    """A PATCH: UNSET fields are left alone; None on a limit or expiry removes it."""

    id: str
    description: str | Unset = UNSET
    expires_at: str | Unset | None = UNSET
    usd_limit: Decimal | Unset | None = UNSET
    diem_limit: Decimal | Unset | None = UNSET
    limit_period: LimitPeriod | Unset = UNSET
    model_privacy: ModelPrivacy | Unset = UNSET

    _v_id = field_validator("id", mode="before")(validation.validate_key_id)

    @model_validator(mode="after")
    def _something_to_change(self) -> KeyUpdate:
        validation.update_changes({name: getattr(self, name) for name in type(self).model_fields
                                   if name != "id" and getattr(self, name) is not UNSET})
        return self

    def to_body(self) -> dict[str, Any]:
        """The JSON body for PATCH /api_keys; None becomes JSON null (= remove)."""
        return self._body(omit=UNSET)
