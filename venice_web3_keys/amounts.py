"""Token amounts as people read them, shared by every face (CLI tables/JSON, MCP results).

A balance divided by 10**18 is a Decimal like `0E-18` or `1.000000000000000000`; faces show
`0` and `1`, never an exponent, without losing any digit that matters.
"""

from __future__ import annotations

from decimal import Context, Decimal, InvalidOperation


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
