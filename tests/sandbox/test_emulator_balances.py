"""Account balances: starting USD credit, DIEM that follows the wallet's DIEM on chain, pinning."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.sandbox.emulator_support import Emu, bearer, mint
from venice_web3_keys.sandbox.emulator import EmulatorState

pytest_plugins = ["tests.sandbox.emulator_fixtures"]


def views(emu: Emu, secret: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(rate_limits data, billing balance) as the given ADMIN key sees them."""
    limits = emu.http.get("/api_keys/rate_limits", headers=bearer(secret))
    billing = emu.http.get("/billing/balance", headers=bearer(secret))
    assert (limits.status_code, billing.status_code) == (200, 200)
    return limits.json()["data"], billing.json()


def mint_admin(emu: Emu, **funding: Any) -> tuple[str, str]:
    address, wallet = emu.chain.new_wallet(**funding)
    response = mint(emu, address, wallet.reveal(), apiKeyType="ADMIN")
    assert response.status_code == 200, response.status_code
    return address, str(response.json()["data"]["apiKey"])


def test_a_new_account_is_empty_by_default_like_venice(emu: Emu) -> None:
    _, admin = mint_admin(emu)
    limits, billing = views(emu, admin)
    assert (limits["accessPermitted"], limits["balances"]) == (False, {"USD": 0.0})
    assert limits["apiTier"] == {"id": "free", "isCharged": False}
    assert (billing["canConsume"], billing["consumptionCurrency"]) == (False, None)


def test_starting_usd_credit_makes_a_fresh_wallet_usable(emu: Emu) -> None:
    emu.state.starting_usd = Decimal("12.5")
    _, admin = mint_admin(emu)
    limits, billing = views(emu, admin)
    assert (limits["accessPermitted"], limits["balances"]) == (True, {"USD": 12.5})
    assert limits["apiTier"] == {"id": "paid", "isCharged": True}
    assert billing["balances"]["usd"] == 12.5
    assert (billing["canConsume"], billing["consumptionCurrency"]) == (True, "USD")


def test_starting_usd_must_be_a_non_negative_number() -> None:
    for bad in (-1, "NaN", "Infinity"):
        with pytest.raises(ValueError, match="starting_usd"):
            EmulatorState(rpc_url="http://127.0.0.1:9", starting_usd=bad)


def test_diem_follows_the_wallets_diem_on_chain(emu: Emu) -> None:
    address, admin = mint_admin(emu, diem=5)
    limits, billing = views(emu, admin)
    assert limits["accessPermitted"] is True
    assert limits["balances"] == {"USD": 0.0, "DIEM": 5.0}
    assert billing["consumptionCurrency"] == "DIEM"  # DIEM is spent first
    assert (billing["balances"]["diem"], billing["diemEpochAllocation"]) == (5.0, 5.0)
    # Staking more (or less) on chain shows up at the next read, without a new mint.
    emu.chain.fund(address, diem="7.25")
    limits, billing = views(emu, admin)
    assert limits["balances"]["DIEM"] == 7.25
    assert billing["diemEpochAllocation"] == 7.25
    emu.chain.fund(address, diem=0)
    limits, billing = views(emu, admin)
    assert "DIEM" not in limits["balances"] and limits["accessPermitted"] is False
    assert billing["balances"]["diem"] is None  # a non-staker's DIEM is null


def test_a_key_limit_clamps_the_chain_diem(emu: Emu) -> None:
    _, admin = mint_admin(emu, diem=5)
    capped = emu.http.post("/api_keys", headers=bearer(admin), json={
        "apiKeyType": "INFERENCE", "description": "capped", "consumptionLimit": {"diem": 2}})
    limits = emu.http.get("/api_keys/rate_limits",
                          headers=bearer(capped.json()["data"]["apiKey"])).json()["data"]
    assert limits["balances"]["DIEM"] == 2.0


def test_set_balances_pins_the_account_against_the_chain(emu: Emu) -> None:
    address, admin = mint_admin(emu, diem=5)
    emu.state.set_balances(address, usd=1, diem=40)
    emu.chain.fund(address, diem=9)
    limits, billing = views(emu, admin)
    assert limits["balances"] == {"USD": 1.0, "DIEM": 40.0}
    assert billing["diemEpochAllocation"] == 40.0


def test_an_unreachable_chain_keeps_the_last_balance(emu: Emu) -> None:
    _, admin = mint_admin(emu, diem=3)
    emu.state.rpc_url = "http://127.0.0.1:9"  # nothing listens on the discard port
    limits, billing = views(emu, admin)
    assert limits["balances"]["DIEM"] == 3.0 and billing["balances"]["diem"] == 3.0

