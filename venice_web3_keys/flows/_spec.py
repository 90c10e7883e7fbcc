"""The key options shared by mint, create and provision, and their one conversion to a KeySpec.

They are declared once, as a TypedDict, so that every public method taking them (async core and
sync twin alike) is typed by the same list and validated by the same code before any request.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from venice_web3_keys.validation import ApiKeyType, LimitPeriod, ModelPrivacy

if TYPE_CHECKING:
    from venice_web3_keys.models import KeySpec

#: a spend cap: a Decimal, an int or a decimal string ("12.5", "none"); a float is still
#: accepted and read exactly as written (0.1 is 0.1), but Decimal or str say what is meant
Limit = Decimal | int | str | float | None
When = str | datetime | date | timedelta | None


class KeyOptions(TypedDict, total=False):
    """Optional settings of a new key; each one omitted is left to Venice's default.

    expires_at: "YYYY-MM-DD", an ISO datetime with an offset, a duration ("30d"), a date,
    datetime or timedelta. usd_limit / diem_limit: 0..9999999999 or None (no cap).
    limit_period: EPOCH | MONTH | LIFETIME. model_privacy: ALL | PRIVATE_TEXT | PRIVATE_ONLY
    (Literal types: a type checker catches a misspelt value before it runs).
    """

    expires_at: When
    usd_limit: Limit
    diem_limit: Limit
    limit_period: LimitPeriod | None
    model_privacy: ModelPrivacy | None


def build_spec(
    *, api_key_type: ApiKeyType, description: str, **options: Unpack[KeyOptions]
) -> KeySpec:
    """KeySpec validates every field on construction (InvalidInputError naming the field).

    An unknown option (possible when called with a plain dict) is refused the same way.
    """
    from venice_web3_keys.models import KeySpec

    fields: dict[str, Any] = {
        "api_key_type": api_key_type, "description": description, **options}
    return KeySpec(**fields)
