from __future__ import annotations

import pytest
from eth_utils.address import to_checksum_address
from hypothesis import given
from hypothesis import strategies as st

from venice_web3_keys.addresses import checksum_address, is_address, same_address
from venice_web3_keys.errors import InvalidInputError

EIP55_VECTORS = [
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
]


@pytest.mark.parametrize("addr", EIP55_VECTORS)
def test_eip55_vectors(addr: str) -> None:
    assert checksum_address(addr.lower()) == addr
    assert checksum_address(addr.upper().replace("0X", "0x")) == addr
    assert checksum_address(addr) == addr


@given(st.binary(min_size=20, max_size=20))
def test_matches_eth_utils(raw: bytes) -> None:
    lower = "0x" + raw.hex()
    assert checksum_address(lower) == to_checksum_address(lower)


def test_wrong_mixed_case_checksum_rejected() -> None:
    good = EIP55_VECTORS[0]
    i = next(i for i, c in enumerate(good) if i >= 2 and c.isalpha())
    bad = good[:i] + good[i].swapcase() + good[i + 1:]
    with pytest.raises(InvalidInputError, match="checksum") as info:
        checksum_address(bad)
    assert info.value.field == "address"
    assert not is_address(bad)


@pytest.mark.parametrize("value", ["", "0x", "0x123", "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
                                   "0x" + "g" * 40, "0x" + "a" * 41, 42, None])
def test_malformed(value: object) -> None:
    with pytest.raises(InvalidInputError):
        checksum_address(value, field="thing")  # type: ignore[arg-type]
    assert not is_address(value)


def test_same_address_case_insensitive() -> None:
    a = EIP55_VECTORS[1]
    assert same_address(a.lower(), a)
    assert not same_address(a, EIP55_VECTORS[2])
