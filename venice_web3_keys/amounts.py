"""Token amounts as people read them, shared by every face (CLI tables/JSON, MCP results).

A balance divided by 10**18 is a Decimal like `0E-18` or `1.000000000000000000`; faces show
`0` and `1`, never an exponent, without losing any digit that matters.
"""

from __future__ import annotations

import re
from decimal import (
    Context,
    Decimal,
    DecimalException,
    Inexact,
    InvalidOperation,
    Overflow,
    Rounded,
)
from typing import Literal

from venice_web3_keys.errors import InvalidInputError


def decimal_str(value: Decimal | float | int | str) -> str:
    """A number as a plain decimal string, no exponent, no trailing zeros ("100", "0.5")."""
    try:
        dec = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    text = format(dec, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("", "-0"):
        return "0"
    return text


# uint256 has at most 78 digits: this precision makes base-unit conversions exact.
_EXACT = Context(prec=80)
#: the same, for input: a result that would be rounded (digits past the 80th) or overflow the
#: exponent raises instead, so no amount is ever silently changed or crashes the parse
_EXACT_INPUT = Context(prec=80, traps=[InvalidOperation, Inexact, Rounded, Overflow])


def from_base_units(raw: int, decimals: int) -> Decimal:
    """`raw` base units (wei) as whole tokens, exactly (the default context keeps 28 digits)."""
    return Decimal(raw).scaleb(-decimals, context=_EXACT)


def tokens_str(raw: int, decimals: int = 18) -> str:
    """`raw` base units as a plain decimal string of whole tokens ("2.5")."""
    return decimal_str(from_base_units(raw, decimals))


def to_base_units(amount: Decimal | int | str, decimals: int, *, field: str) -> int:
    """Whole tokens to base units (wei), exactly; InvalidInputError (naming `field`) for
    anything but a finite number >= 0 with at most `decimals` decimal places. Never a float."""
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int | str):
        raise InvalidInputError(f"{field} must be a decimal string, an int or a Decimal",
                                field=field)
    try:
        value = Decimal(str(amount).strip())
    except InvalidOperation:
        raise InvalidInputError(f"{field} must be a number", field=field) from None
    try:
        value = value.scaleb(decimals, context=_EXACT_INPUT)
    except DecimalException:  # more digits than any token amount has, or a huge exponent
        raise InvalidInputError(
            f"{field} must be >= 0 with at most {decimals} decimals, and no larger than a "
            "token balance can be", field=field) from None
    if not value.is_finite() or value < 0 or value != value.to_integral_value():
        raise InvalidInputError(
            f"{field} must be >= 0 with at most {decimals} decimals", field=field)
    return int(value)


VVV_DECIMALS = 18  # VVV and sVVV; the stake flow checks both on chain before sending
MAX_UINT256 = 2**256 - 1
StakeAmount = str | Decimal | int
_PLAIN_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?")  # ASCII only: \d also takes other scripts


def parse_stake_amount(amount: StakeAmount) -> int | Literal["all"]:
    """Whole VVV (a plain decimal string, a Decimal or an int) as wei, or "all".

    Floats are refused (0.1 VVV is not 0.1000000000000000055511151231257827 VVV), and so are
    strings with a sign, an exponent, underscores or non-ASCII digits, zero, more than 18
    decimals, and anything above uint256.
    """
    if isinstance(amount, str):
        text = amount.strip()
        if text.lower() == "all":
            return "all"
        if not _PLAIN_DECIMAL.fullmatch(text):
            raise InvalidInputError(
                f"amount must be whole VVV as a plain decimal number such as 10 or 2.5, or "
                f"'all' (got {text[:40]!r})", field="amount")
    elif isinstance(amount, bool) or not isinstance(amount, Decimal | int):
        raise InvalidInputError(
            f"amount must be a decimal string, an int or a Decimal, not {type(amount).__name__} "
            "(a float cannot hold most decimal amounts exactly)", field="amount")
    wei = to_base_units(amount, VVV_DECIMALS, field="amount")
    if wei == 0:
        raise InvalidInputError("amount must be more than 0 VVV", field="amount")
    if wei > MAX_UINT256:
        raise InvalidInputError("amount is larger than any token balance can be", field="amount")
    return wei
