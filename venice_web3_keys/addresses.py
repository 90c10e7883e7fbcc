"""Hex address validation and EIP-55 checksums without importing web3 or eth_utils.

`eth_hash` (keccak via pycryptodome) costs ~25 ms to import; eth_utils costs ~270 ms and web3 over
a second, which a CLI command that only prints a table must not pay.
"""

from __future__ import annotations

import re

from .errors import InvalidInputError

#: `0x` + 40 hex digits, any case (match with fullmatch; nothing around it)
HEX_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def _keccak_hex(data: bytes) -> str:
    from eth_hash.auto import keccak  # imported on first use: keeps `import` of this module free

    return keccak(data).hex()


def _checksum(lower_hex: str) -> str:
    digest = _keccak_hex(lower_hex.encode("ascii"))
    return "0x" + "".join(
        ch.upper() if ch.isalpha() and int(digest[i], 16) >= 8 else ch
        for i, ch in enumerate(lower_hex)
    )


def is_address(value: object) -> bool:
    """True for `0x` + 40 hex digits whose mixed case, if any, is a valid EIP-55 checksum."""
    try:
        checksum_address(value)  # type: ignore[arg-type]
    except InvalidInputError:
        return False
    return True


def checksum_address(value: str, *, field: str = "address") -> str:
    """Return the EIP-55 form of `value`, or raise InvalidInputError(field=field).

    All-lower and all-upper hex are accepted as unchecksummed input. Mixed case must be a correct
    checksum: a wrong one means a typo, and a typo in an address is exactly what EIP-55 catches.
    """
    if not isinstance(value, str):
        raise InvalidInputError(f"{field} must be a string", field=field)
    text = value.strip()
    if not HEX_ADDRESS.fullmatch(text):
        raise InvalidInputError(
            f"{field} is not an Ethereum address (expected 0x followed by 40 hex digits)",
            field=field,
        )
    body = text[2:]
    result = _checksum(body.lower())
    if body != body.lower() and body != body.upper() and result[2:] != body:
        raise InvalidInputError(
            f"{field} {text} has an invalid EIP-55 checksum: its mixed case does not match, "
            "which usually means a mistyped character",
            field=field,
        )
    return result


def same_address(a: str, b: str) -> bool:
    """Case-insensitive comparison of two hex addresses (both must be well-formed)."""
    return checksum_address(a) == checksum_address(b)
