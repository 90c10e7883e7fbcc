"""Token amounts as people read them, shared by every face (CLI tables/JSON, MCP results).

A balance divided by 10**18 is a Decimal like `0E-18` or `1.000000000000000000`; faces show
`0` and `1`, never an exponent, without losing any digit that matters.
"""

from __future__ import annotations

from decimal import Context, Decimal, InvalidOperation

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


def from_base_units(raw: int, decimals: int) -> Decimal:
    """`raw` base units (wei) as whole tokens, exactly (the default context keeps 28 digits)."""
    return Decimal(raw).scaleb(-decimals, context=_EXACT)


def to_base_units(amount: Decimal | int | str, decimals: int, *, field: str) -> int:
    """Whole tokens to base units (wei), exactly; InvalidInputError (naming `field`) for
    anything but a finite number >= 0 with at most `decimals` decimal places. Never a float."""
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int | str):
        raise InvalidInputError(f"{field} must be a decimal string, an int or a Decimal",
                                field=field)
    try:
        value = Decimal(str(amount).strip()).scaleb(decimals, context=_EXACT)
    except InvalidOperation:
        raise InvalidInputError(f"{field} must be a number", field=field) from None
    if not value.is_finite() or value < 0 or value != value.to_integral_value():
        raise InvalidInputError(
            f"{field} must be >= 0 with at most {decimals} decimals", field=field)
    return int(value)
