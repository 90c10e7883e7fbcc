"""The account's balance (GET /billing/balance)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from venice_web3_keys.models._response import ResponseModel

__all__ = ["BillingBalance", "BillingBalances"]


class BillingBalances(ResponseModel):
    diem: Decimal | None = None
    usd: Decimal | None = None
    bundled_credits: Decimal | None = None
    earned_credits: Decimal | None = None


class BillingBalance(ResponseModel):
    """GET /billing/balance (no envelope). `can_consume` ignores per-key limits."""

    can_consume: bool | None = None
    consumption_currency: str | None = None
    balances: BillingBalances = Field(default_factory=BillingBalances)
    diem_epoch_allocation: Decimal | None = None
