"""Pydantic models at the Venice API boundary, one module per resource, each built on first use.

Responses are tolerant (unknown fields kept, optional fields may be missing, enum-like values kept
as plain strings) because the live API drifts ahead of its spec. Requests are strict: they are
validated locally before anything is sent, and `to_body()` emits only what the caller set, since
Venice rejects unknown or unexpected fields with a 400.

`from venice_web3_keys.models import ApiKey` loads the key models and no others: a class costs
about a millisecond to create, and `keys list` needs 6 of the 21 (`benchmarks/cli_startup.py`).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from venice_web3_keys.models._unset import UNSET, Unset, _UnsetEnum  # noqa: F401 (for pickles)
from venice_web3_keys.validation import ApiKeyType, LimitPeriod, ModelPrivacy

if TYPE_CHECKING:
    from venice_web3_keys.models.billing import BillingBalance, BillingBalances
    from venice_web3_keys.models.challenge import Web3Challenge
    from venice_web3_keys.models.keys import (
        ApiKey,
        ConsumptionLimits,
        CreatedKey,
        CurrentPeriodUsage,
        KeyUsage,
        UsageAmounts,
    )
    from venice_web3_keys.models.limits import (
        ApiTier,
        ModelRateLimits,
        RateLimitAmount,
        RateLimitLogEntry,
        RateLimits,
    )
    from venice_web3_keys.models.requests import KeySpec, KeyUpdate
    from venice_web3_keys.models.wallet import WalletStatus

#: where each model lives (its module is imported when the name is first asked for)
_HOMES = {
    "ApiKey": "keys", "ConsumptionLimits": "keys", "CreatedKey": "keys",
    "CurrentPeriodUsage": "keys", "KeyUsage": "keys", "UsageAmounts": "keys",
    "Web3Challenge": "challenge",
    "ApiTier": "limits", "ModelRateLimits": "limits", "RateLimitAmount": "limits",
    "RateLimitLogEntry": "limits", "RateLimits": "limits",
    "BillingBalance": "billing", "BillingBalances": "billing",
    "WalletStatus": "wallet",
    "KeySpec": "requests", "KeyUpdate": "requests",
}

__all__ = [
    "UNSET", "ApiKey", "ApiKeyType", "ApiTier", "BillingBalance", "BillingBalances",
    "ConsumptionLimits", "CreatedKey", "CurrentPeriodUsage", "KeySpec", "KeyUpdate", "KeyUsage",
    "LimitPeriod", "ModelPrivacy", "ModelRateLimits", "RateLimitAmount", "RateLimitLogEntry",
    "RateLimits", "Unset", "UsageAmounts", "WalletStatus", "Web3Challenge",
]


# Hidden from type checkers: they see the names imported above, and a module-level
# `__getattr__` would make every other name `Any` (a misspelt model imported by a user's
# script, or by this package, would pass `mypy --strict` silently).
if not TYPE_CHECKING:
    def __getattr__(name: str) -> Any:
        home = _HOMES.get(name)
        if home is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        module = f"{__name__}.{home}"
        __import__(module)  # not importlib.import_module: `python -X importtime` shows this one
        value = getattr(sys.modules[module], name)
        globals()[name] = value  # the next lookup is a plain module attribute
        return value


def __dir__() -> list[str]:
    return list(__all__)
