"""Amounts shown to people (no exponent, no lost digits) and amounts taken from them (exact wei,
never a float)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from venice_web3_keys.amounts import (
    decimal_str,
    from_base_units,
    parse_stake_amount,
    to_base_units,
)
from venice_web3_keys.errors import InvalidInputError


@pytest.mark.parametrize(("value", "text"), [
    (Decimal(0) / Decimal(10**18), "0"),        # what a zero balance looks like: 0E-18
    (Decimal(10**18) / Decimal(10**18), "1"),
    (Decimal(100), "100"),
    (Decimal("1E+2"), "100"),
    (Decimal("0.500"), "0.5"),
    (Decimal("-0"), "0"),
    (Decimal(1) / Decimal(10**18), "0.000000000000000001"),
    (2.5, "2.5"),
    (7, "7"),
])
def test_plain_decimal_strings(value: Decimal | float | int, text: str) -> None:
    assert decimal_str(value) == text


@given(st.integers(min_value=0, max_value=2**256 - 1))
def test_wei_amounts_round_trip_exactly(wei: int) -> None:
    text = decimal_str(from_base_units(wei, 18))
    assert "E" not in text and "e" not in text
    whole, _, fraction = text.partition(".")
    assert int(whole + fraction.ljust(18, "0")) == wei  # every digit kept, none invented


def test_huge_balances_keep_every_digit() -> None:
    """The default decimal context keeps 28 digits; a uint256 balance can have 78."""
    max_uint = 2**256 - 1
    assert decimal_str(from_base_units(max_uint, 18)).replace(".", "") == str(max_uint)


# --------------------------------------------------------------------------- amounts to stake

@pytest.mark.parametrize(("amount", "wei"), [
    ("10", 10 * 10**18),
    (" 2.5 ", 25 * 10**17),
    ("0.000000000000000001", 1),
    ("007", 7 * 10**18),
    (Decimal("1.1"), 11 * 10**17),
    (Decimal("1E+1"), 10 * 10**18),
    (3, 3 * 10**18),
    ("ALL", "all"),
    ("all", "all"),
])
def test_stake_amounts_are_exact_wei(amount: str | Decimal | int, wei: int | str) -> None:
    assert parse_stake_amount(amount) == wei


@pytest.mark.parametrize("amount", [
    "0", "0.0", Decimal(0), 0, "-1", -1, Decimal("-0.5"), "+1", "1e3", "1E3", "1_000", "0x10",
    "1.", ".5", "1,5", "", " ", "NaN", "Infinity", Decimal("NaN"), Decimal("Infinity"),
    "0.0000000000000000001",  # 19 decimals: below one wei
    "١٠",  # Arabic-Indic digits: \\d would take them
    str(2**256),  # whole tokens whose wei overflow uint256
    1.5, True, None, b"10", ["10"],
])
def test_stake_amounts_refused_before_any_request(amount: object) -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_stake_amount(amount)  # type: ignore[arg-type]
    assert info.value.field == "amount"


@given(st.integers(min_value=1, max_value=2**256 - 1))
def test_stake_amount_text_round_trips_any_uint256(wei: int) -> None:
    assert parse_stake_amount(decimal_str(from_base_units(wei, 18))) == wei


def test_to_base_units_refuses_floats_and_fractions_of_a_unit() -> None:
    assert to_base_units("1.5", 6, field="x") == 1_500_000
    for bad in (1.5, "1.0000001", "-1", "nan"):
        with pytest.raises(InvalidInputError, match="x"):
            to_base_units(bad, 6, field="x")  # type: ignore[arg-type]
