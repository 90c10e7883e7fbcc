"""SecretValue's contract beyond printing: type, immutability, equality, hashing, masking."""

from __future__ import annotations

import pytest

from venice_web3_keys.secret import ApiKeySecret, SecretValue, mask


def test_secret_value_contract() -> None:
    with pytest.raises(TypeError, match="wraps a str"):
        SecretValue(b"bytes")  # type: ignore[arg-type]
    secret = SecretValue("hunter22")
    with pytest.raises(AttributeError, match="immutable"):
        secret._value = "other"  # type: ignore[misc]
    assert secret == SecretValue("hunter22") and secret != SecretValue("hunter23")
    assert secret != "hunter22"  # never equal to the bare string (NotImplemented, then False)
    assert {secret, SecretValue("hunter22")} == {secret}  # hashable, equal values collapse
    assert len(secret) == 8 and bool(secret) and not SecretValue("")
    assert f"{secret:>10}" == "  ********"


def test_api_key_secret_and_mask() -> None:
    key = ApiKeySecret("VENICE_INFERENCE_KEY_abcdef123456")
    assert str(key) == "…123456" and key.last6 == "123456"
    assert len(key.fingerprint) == 64 and "123456" not in key.fingerprint
    assert mask("VENICE_ADMIN_KEY_zyxwvu987654") == "…987654"
    assert mask("short") == "*****" and mask("abc", keep=2) == "…bc"
