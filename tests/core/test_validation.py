from __future__ import annotations

import math
import uuid
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fakes import fake_key
from venice_web3_keys.errors import InvalidInputError
from venice_web3_keys.validation import (
    MAX_DESCRIPTION,
    MAX_LIMIT,
    json_number,
    utf16_length,
    validate_api_key_type,
    validate_description,
    validate_key_id,
    validate_limit,
    validate_limit_period,
    validate_model_privacy,
)


@given(st.one_of(  # 64 BMP characters, or 32 of any kind (astral ones count twice)
    st.text(alphabet=st.characters(max_codepoint=0xFFFF), min_size=1, max_size=64),
    st.text(min_size=1, max_size=32),
).filter(
    lambda s: s.strip() == s and s and all(ord(c) >= 32 and not 127 <= ord(c) < 160 for c in s)))
def test_description_accepts_1_to_64(text: str) -> None:
    assert utf16_length(text) <= 64
    assert validate_description(text) == text


@given(st.text(min_size=1, max_size=80))
def test_description_length_agrees_with_javascript(text: str) -> None:
    """utf16_length is JavaScript's String.length (lone surrogates included)."""
    assert utf16_length(text) == len(text.encode("utf-16-le", "surrogatepass")) // 2


def test_description_strips_and_bounds() -> None:
    assert validate_description("  hello  ") == "hello"
    assert validate_description("x" * 64) == "x" * 64
    for bad in ["", "   ", "x" * 65, "two\nlines", "tab\there"]:
        with pytest.raises(InvalidInputError) as info:
            validate_description(bad)
        assert info.value.field == "description"


GRIN = "\N{GRINNING FACE}"  # U+1F600: outside the BMP, two UTF-16 code units


def test_description_counts_utf16_code_units_as_venice_does() -> None:
    assert utf16_length(GRIN) == 2 and utf16_length("\N{EURO SIGN}") == 1
    assert MAX_DESCRIPTION == 64
    assert validate_description(GRIN * 32) == GRIN * 32  # 64 units: the most Venice takes
    assert validate_description("\N{EURO SIGN}" * 64) == "\N{EURO SIGN}" * 64  # 64 BMP chars
    for bad, units, chars in ((GRIN * 64, 128, 64), (GRIN * 33, 66, 33),
                              ("x" * 63 + GRIN, 65, 64)):
        with pytest.raises(InvalidInputError) as info:
            validate_description(bad)
        assert info.value.field == "description"
        message = str(info.value)
        assert f"{units} UTF-16 code units" in message and "at most 64" in message
        assert f"{chars} characters" in message


@given(st.floats(min_value=0, max_value=MAX_LIMIT, allow_nan=False))
def test_limit_in_range(value: float) -> None:
    """A float is read exactly as written (its shortest repr), never as its binary expansion."""
    assert validate_limit(value, "usd_limit") == Decimal(repr(value))
    assert validate_limit(repr(value), "usd_limit") == Decimal(repr(value))
    exact = validate_limit(value, "usd_limit")
    assert exact is not None and json_number(exact) == value


def test_limit_is_an_exact_decimal() -> None:
    assert validate_limit(0.1, "usd_limit") == Decimal("0.1")  # not 0.1000000000000000055...
    assert validate_limit(Decimal("12.34"), "usd_limit") == Decimal("12.34")
    assert validate_limit(" 7.25 ", "usd_limit") == Decimal("7.25")
    assert isinstance(validate_limit(3, "usd_limit"), Decimal)
    assert json_number(Decimal("50")) == 50 and isinstance(json_number(Decimal("50")), int)
    assert json_number(Decimal("0.10")) == 0.1


@pytest.mark.parametrize("bad", [Decimal("NaN"), Decimal("Infinity"), Decimal("-0.01"),
                                 Decimal("1E+11"), "0.12345678901234567890",
                                 Decimal("9999999999.123456789")])
def test_limit_refuses_what_venice_cannot_store(bad: object) -> None:
    with pytest.raises(InvalidInputError) as info:
        validate_limit(bad, "usd_limit")  # type: ignore[arg-type]
    assert info.value.field == "usd_limit"


@given(st.one_of(st.floats(max_value=-1e-9), st.floats(min_value=MAX_LIMIT + 1),
                 st.just(math.nan), st.just(math.inf), st.just(-math.inf),
                 st.integers(max_value=-1), st.integers(min_value=MAX_LIMIT + 1)))
def test_limit_out_of_range(value: float) -> None:
    with pytest.raises(InvalidInputError) as info:
        validate_limit(value, "diem_limit")
    assert info.value.field == "diem_limit"


@pytest.mark.parametrize("bad", [True, False, "nan", "inf", "-1", "1e11", "abc", "", "1,5", [1]])
def test_limit_rejects(bad: object) -> None:
    with pytest.raises(InvalidInputError):
        validate_limit(bad, "usd_limit")  # type: ignore[arg-type]


def test_limit_none_forms() -> None:
    assert validate_limit(None, "usd_limit") is None
    assert validate_limit("none", "usd_limit") is None
    assert validate_limit(" NULL ", "usd_limit") is None
    assert validate_limit(0, "usd_limit") == 0
    assert validate_limit(MAX_LIMIT, "usd_limit") == MAX_LIMIT
    assert validate_limit("12.5", "usd_limit") == Decimal("12.5")


@given(st.uuids())
def test_key_id_uuid(value: uuid.UUID) -> None:
    assert validate_key_id(str(value).upper()) == str(value)
    assert validate_key_id(f"  {value} ") == str(value)


def test_key_id_refuses_secret_without_echo() -> None:
    secret = fake_key("INFERENCE", "abcdefSECRET")
    with pytest.raises(InvalidInputError, match="looks like an API key secret") as info:
        validate_key_id(secret)
    assert "abcdefSECRET" not in str(info.value)
    assert info.value.field == "key_id"


@pytest.mark.parametrize("bad", ["", "123", "e28e82dc9df24b47b726d0a222ef2ab5x", "not-a-uuid",
                                 "{11111111-2222-4333-8444-555555555555}"])
def test_key_id_rejects(bad: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        validate_key_id(bad)
    assert info.value.field == "key_id"
    assert not bad or bad.strip("{}") not in str(info.value)


def test_enums_upper_case() -> None:
    assert validate_api_key_type("inference") == "INFERENCE"
    assert validate_api_key_type(" Admin ") == "ADMIN"
    assert validate_limit_period("month") == "MONTH"
    assert validate_model_privacy("private_only") == "PRIVATE_ONLY"
    for fn, bad in [(validate_api_key_type, "ROOT"), (validate_limit_period, "DAY"),
                    (validate_model_privacy, "NONE")]:
        with pytest.raises(InvalidInputError, match="must be one of"):
            fn(bad)
