from __future__ import annotations

import math
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fakes import fake_key
from venice_web3_keys.errors import InvalidInputError
from venice_web3_keys.validation import (
    MAX_LIMIT,
    validate_api_key_type,
    validate_description,
    validate_key_id,
    validate_limit,
    validate_limit_period,
    validate_model_privacy,
)


@given(st.text(min_size=1, max_size=64).filter(
    lambda s: s.strip() == s and s and all(ord(c) >= 32 and not 127 <= ord(c) < 160 for c in s)))
def test_description_accepts_1_to_64(text: str) -> None:
    assert validate_description(text) == text


def test_description_strips_and_bounds() -> None:
    assert validate_description("  hello  ") == "hello"
    assert validate_description("x" * 64) == "x" * 64
    for bad in ["", "   ", "x" * 65, "two\nlines", "tab\there"]:
        with pytest.raises(InvalidInputError) as info:
            validate_description(bad)
        assert info.value.field == "description"


@given(st.floats(min_value=0, max_value=MAX_LIMIT, allow_nan=False))
def test_limit_in_range(value: float) -> None:
    assert validate_limit(value, "usd_limit") == value
    assert validate_limit(repr(value), "usd_limit") == value


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
    assert validate_limit(0, "usd_limit") == 0.0
    assert validate_limit(MAX_LIMIT, "usd_limit") == float(MAX_LIMIT)
    assert validate_limit("12.5", "usd_limit") == 12.5


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
