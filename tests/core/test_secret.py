"""SecretValue's contract beyond printing: type, immutability, equality, hashing, masking."""

from __future__ import annotations

import pytest

from tests.fakes import fake_key
from venice_web3_keys.secret import ApiKeySecret, SecretValue, mask


def test_secret_value_contract() -> None:
    with pytest.raises(TypeError, match="wraps a str"):
        SecretValue(b"bytes")  # type: ignore[arg-type]
    secret = SecretValue("hunter22")
    with pytest.raises(AttributeError, match="immutable"):
        secret._value = "other"
    assert secret == SecretValue("hunter22") and secret != SecretValue("hunter23")
    assert secret != "hunter22"  # never equal to the bare string (NotImplemented, then False)
    assert {secret, SecretValue("hunter22")} == {secret}  # hashable, equal values collapse
    assert len(secret) == 8 and bool(secret) and not SecretValue("")
    assert f"{secret:>10}" == "  ********"


def test_api_key_secret_and_mask() -> None:
    raw = fake_key("INFERENCE")
    key = ApiKeySecret(raw)
    assert str(key) == f"…{raw[-6:]}" and key.last6 == raw[-6:]
    assert len(key.fingerprint) == 64 and raw[-6:] not in key.fingerprint
    other = fake_key("ADMIN")
    assert mask(other) == f"…{other[-6:]}"
    assert mask("short") == "*****" and mask("abc", keep=2) == "…bc"
