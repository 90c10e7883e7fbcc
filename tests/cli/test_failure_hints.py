"""`failures.hint()` and `exit_code()` decide from an error's class and attributes, never from its
message: a server's error text (or a misleading message) cannot change what the user is told."""

from __future__ import annotations

import pytest

from venice_web3_keys import errors
from venice_web3_keys.cli.failures import error_fields, exit_code, hint

STAKING = "0x321b7ff75154472B18EDb199033fF4D116F340Ff"
API = "http://127.0.0.1:1/api/v1"


def _hint(exc: BaseException, api_base: str = API) -> str:
    text = hint(exc, staking_contract=STAKING, api_base=api_base)
    assert text is not None
    return text


def test_missing_credential_hint_follows_the_kind_not_the_text() -> None:
    misleading = "set VENICE_ADMIN_KEY"  # the text of another kind
    wallet = _hint(errors.MissingCredentialsError(misleading, credential="wallet"))
    assert "wallet new --keystore" in wallet and "VENICE_ADMIN_KEY" not in wallet
    assert "mint --type ADMIN" in _hint(
        errors.MissingCredentialsError("no key", credential="admin_key"))
    fields = error_fields(errors.MissingCredentialsError("x", credential="api_key"))
    assert fields["credential"] == "api_key"


def test_not_eligible_hint_follows_where_the_balance_was_read() -> None:
    venice_said = errors.NotEligibleError(f"no sVVV; stake at {STAKING}")  # Venice's answer
    assert "stake VVV at" in _hint(venice_said)
    we_read = errors.NotEligibleError("no sVVV", address="0xabc", staked=0)
    assert "wallet status" in _hint(we_read) and "stake VVV at" not in _hint(we_read)


def test_untrusted_host_hint_names_the_host_and_the_opt_in() -> None:
    text = _hint(errors.UntrustedSigningHostError("x", api_host="proxy.example:8443"))
    assert "proxy.example:8443" in text and "VENICE_ALLOW_CUSTOM_API_HOST=1" in text
    assert exit_code(errors.UntrustedSigningHostError("x", api_host="h")) == 2


@pytest.mark.parametrize("revoked", [True, False])
def test_delivery_failure_hint_says_what_became_of_the_key(revoked: bool) -> None:
    exc = errors.DeliveryFailedError("x", key_id="k-1", revoked=revoked)
    text = _hint(exc)
    assert ("revoked" in text) if revoked else ("keys revoke k-1" in text)
    assert error_fields(exc) == {"keyId": "k-1", "revoked": revoked}


def test_rotation_failure_is_judged_by_what_stopped_it() -> None:
    cause = errors.AuthenticationError("401", status_code=401)
    exc = errors.RotationFailedError("x", old_key_id="o", new_key_id=None,
                                     successor_revoked=False, cause=cause)
    assert exit_code(exc) == 4 and "refused" in _hint(exc)
    assert error_fields(exc)["oldKeyId"] == "o" and error_fields(exc)["newKeyId"] is None


def test_hints_never_show_a_url_password() -> None:
    text = _hint(errors.APIConnectionError("x"), api_base="http://u:s3cret-pw@h.example/api/v1")
    assert "s3cret-pw" not in text and "h.example" in text
