"""Turn friendly caller input into a validated KeySpec, before any request is sent."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from venice_web3_keys.models import KeySpec

Limit = float | int | str | None
When = str | datetime | date | timedelta | None


def build_spec(
    *,
    api_key_type: str,
    description: str,
    expires_at: When = None,
    usd_limit: Limit = None,
    diem_limit: Limit = None,
    limit_period: str | None = None,
    model_privacy: str | None = None,
) -> KeySpec:
    """KeySpec validates every field on construction (InvalidInputError naming the field)."""
    from venice_web3_keys.models import KeySpec

    fields: dict[str, Any] = {
        "api_key_type": api_key_type,
        "description": description,
        "expires_at": expires_at,
        "usd_limit": usd_limit,
        "diem_limit": diem_limit,
        "limit_period": limit_period,
        "model_privacy": model_privacy,
    }
    return KeySpec(**fields)
