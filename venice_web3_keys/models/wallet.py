"""A wallet's balances on Base, as the chain reader reports them."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from venice_web3_keys.models._response import ResponseModel

__all__ = ["WalletStatus"]


class WalletStatus(ResponseModel):
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
