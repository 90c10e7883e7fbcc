"""The calling key's rate limits and balances, and the account's rate-limit log."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from venice_web3_keys.models._response import ResponseModel, Timestamp

__all__ = ["ApiTier", "ModelRateLimits", "RateLimitAmount", "RateLimitLogEntry", "RateLimits"]


class ApiTier(ResponseModel):
    id: str | None = None
    is_charged: bool | None = None


class RateLimitAmount(ResponseModel):
    amount: Decimal | None = None
    type: str | None = None


class ModelRateLimits(ResponseModel):
    api_model_id: str | None = None
    rate_limits: list[RateLimitAmount] = Field(default_factory=list)


class RateLimits(ResponseModel):
    """GET /api_keys/rate_limits: about the *calling* key; `access_permitted` is the real check."""

    access_permitted: bool | None = None
    api_tier: ApiTier | None = None
    balances: dict[str, Decimal | None] = Field(default_factory=dict)
    key_expiration: Timestamp = None
    next_epoch_begins: Timestamp = None
    rate_limits: list[ModelRateLimits] = Field(default_factory=list)


class RateLimitLogEntry(ResponseModel):
    api_key_id: str | None = None
    model_id: str | None = None
    rate_limit_tier: str | None = None
    rate_limit_type: str | None = None
    timestamp: Timestamp = None
