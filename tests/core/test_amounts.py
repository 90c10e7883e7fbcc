"""Amounts shown to people: no exponent, no trailing zeros, no lost digits."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from venice_web3_keys.amounts import decimal_str, from_base_units


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
