"""Amounts shown to people: no exponent, no trailing zeros, no lost digits."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from venice_web3_keys.amounts import decimal_str


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


@given(st.integers(min_value=0, max_value=10**30))
def test_wei_amounts_round_trip_exactly(wei: int) -> None:
    text = decimal_str(Decimal(wei) / Decimal(10**18))
    assert "E" not in text and "e" not in text
    assert Decimal(text) * 10**18 == wei
