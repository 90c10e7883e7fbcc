"""A key as Venice lists it (with its caps and usage), and a new key with its one-time secret."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import AliasChoices, ConfigDict, Field, field_serializer, model_validator
from pydantic.alias_generators import to_camel

from venice_web3_keys.models._response import ResponseModel, Timestamp, cap_as_json
from venice_web3_keys.secret import ApiKeySecret

__all__ = ["ApiKey", "ConsumptionLimits", "CreatedKey", "CurrentPeriodUsage", "KeyUsage",
           "UsageAmounts"]


class ConsumptionLimits(ResponseModel):
    """Per-key spend caps as exact Decimals; None means no cap. `vcu` is deprecated and only
    ever read. Dumped (and so in every face's JSON) as the numbers Venice sends, not strings."""

    usd: Decimal | None = None
    diem: Decimal | None = None
    vcu: Decimal | None = None

    @field_serializer("usd", "diem", "vcu")
    def _as_numbers(self, value: Decimal | None) -> int | float | None:
        return cap_as_json(value)


class UsageAmounts(ResponseModel):
    """Venice sends usage as 4-decimal strings ("10.2424"); Decimal keeps them exact."""

    usd: Decimal | None = None
    diem: Decimal | None = None
    vcu: Decimal | None = None


class KeyUsage(ResponseModel):
    trailing_seven_days: UsageAmounts | None = None


class CurrentPeriodUsage(ResponseModel):
    usd: Decimal | None = None
    diem: Decimal | None = None


_LIMITS_ALIASES = AliasChoices("consumptionLimits", "consumptionLimit", "consumption_limits")


class ApiKey(ResponseModel):
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


class CreatedKey(ResponseModel):
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
