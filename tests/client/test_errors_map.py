"""Status + Venice text -> the specific errors.py class, with secrets redacted."""

from __future__ import annotations

import pytest

from tests.fakes import fake_key
from venice_web3_keys import errors
from venice_web3_keys.client.errors_map import (
    TEXT_RULES,
    error_from_response,
    field_errors_from_body,
)
from venice_web3_keys.secret import redact

# Every text Venice is documented to send, as it would arrive.
MAPPED_TEXTS = [
    (400, "Invalid wallet address", errors.InvalidWalletAddressError),
    (400, "JWT has expired", errors.TokenExpiredError),
    (400, "JWT signature is invalid", errors.TokenInvalidError),
    (400, "JWT claims are invalid", errors.TokenInvalidError),
    (400, "JWT is malformed", errors.TokenInvalidError),
    (400, "Wallet signature does not match the address", errors.SignatureMismatchError),
    (400, "Could not verify wallet signature", errors.SignatureVerificationUnavailableError),
    (400, "Wallet 0xabc has no staked VVV on Base", errors.NoStakedVVVError),
    (400, "The challenge has expired", errors.ChallengeExpiredError),
    (400, "This challenge has already been used", errors.ChallengeUsedError),
    (400, "This challenge was issued for a different wallet address", errors.ChallengeInvalidError),
    (400, "This is not a valid Venice API key authorization challenge",
     errors.ChallengeInvalidError),
    (400, "The challenge statement was modified", errors.ChallengeInvalidError),
    (400, 'The challenge domain must be "api.venice.ai"', errors.ChallengeInvalidError),
    (400, "API key not found or expired", errors.KeyNotFoundError),
    (400, "API key not found", errors.KeyNotFoundError),
    (400, "API key could not be found", errors.KeyNotFoundError),
    (400, "Key not found", errors.KeyNotFoundError),
    (400, "You have reached the maximum number of active API keys (500)",
     errors.ActiveKeyLimitError),
    (400, "Maximum of 500 active keys reached", errors.ActiveKeyLimitError),
    (400, "Something else went wrong", errors.BadRequestError),
    (401, "Admin API key required", errors.AdminKeyRequiredError),
    (401, "Authentication failed", errors.AuthenticationError),
    (402, "API key USD spend limit exceeded for this period", errors.PaymentRequiredError),
    (402, "Insufficient USD or Diem balance", errors.PaymentRequiredError),
    (403, "Model not allowed by this key's privacy setting", errors.PermissionDeniedError),
    (404, "Not found", errors.NotFoundError),
    (409, "PAYMENT_IN_PROGRESS", errors.ConflictError),
    (418, "teapot", errors.APIStatusError),
    (429, "Too many requests", errors.RateLimitError),
    (500, "An unknown error occurred", errors.InternalServerError),
    (502, "Bad gateway", errors.InternalServerError),
    (503, "Service unavailable", errors.InternalServerError),
]


@pytest.mark.parametrize(("status", "text", "cls"), MAPPED_TEXTS)
def test_text_mapping(status: int, text: str, cls: type[errors.APIStatusError]) -> None:
    err = error_from_response(status, {"error": text}, method="POST", path="/api_keys")
    assert type(err) is cls
    assert err.status_code == status
    assert text in err.message and err.message.startswith("POST /api_keys: ")
    assert err.method == "POST" and err.path == "/api_keys"


def test_every_rule_is_exercised() -> None:
    covered = {needle for needle, _ in TEXT_RULES
               if any(needle in text.lower() for _, text, _ in MAPPED_TEXTS)}
    assert covered == {needle for needle, _ in TEXT_RULES}


def test_case_insensitive_and_mint_errors_are_not_eligible() -> None:
    err = error_from_response(400, {"error": "WALLET HAS NO STAKED VVV ON BASE"})
    assert isinstance(err, errors.NoStakedVVVError) and isinstance(err, errors.NotEligibleError)
    assert isinstance(error_from_response(400, {"error": "The challenge has expired"}),
                      errors.TokenExpiredError)


def test_402_discovery_body_is_credentials_required() -> None:
    body = {"x402Version": 2, "error": "Authentication required", "resource": "/api_keys",
            "accepts": [], "extensions": {"sign-in-with-x": {}}}
    err = error_from_response(402, body)
    assert type(err) is errors.CredentialsRequiredError
    assert type(error_from_response(402, {"error": "Authentication required"})) is \
        errors.CredentialsRequiredError


def test_zod_details_become_field_errors() -> None:
    body = {"error": "Invalid request", "details": {
        "_errors": ["Unrecognized key(s) in object: 'foo'"],
        "description": {"_errors": ["String must contain at most 64 character(s)"]},
        "consumptionLimit": {"_errors": [], "usd": {"_errors": ["Number too big"]}},
    }}
    err = error_from_response(400, body)
    assert type(err) is errors.ValidationError
    assert err.field_errors == {
        "_root": ["Unrecognized key(s) in object: 'foo'"],
        "description": ["String must contain at most 64 character(s)"],
        "consumptionLimit.usd": ["Number too big"],
    }
    assert "description: String must contain" in err.message


def test_string_details_and_issues() -> None:
    err = error_from_response(400, {"error": "Bad", "details": "expiresAt is invalid"})
    assert type(err) is errors.ValidationError
    assert err.field_errors == {"_root": ["expiresAt is invalid"]}
    issues = {"error": "Bad", "issues": [{"path": ["expiresAt"], "message": "Invalid"}]}
    assert field_errors_from_body(issues) == {"expiresAt": ["Invalid"]}


def test_429_retry_after() -> None:
    err = error_from_response(429, {"error": "slow down"}, headers={"retry-after": "12"})
    assert isinstance(err, errors.RateLimitError) and err.retry_after == 12.0
    assert error_from_response(429, None).retry_after is None  # type: ignore[attr-defined]


def test_non_json_body_uses_reason_only() -> None:
    err = error_from_response(502, None, reason="Bad Gateway")
    assert type(err) is errors.InternalServerError and err.message == "502 Bad Gateway"
    assert err.body is None


def test_request_id_kept() -> None:
    err = error_from_response(500, {"error": "x"}, headers={"x-request-id": "req_1"})
    assert err.request_id == "req_1"


def test_secrets_redacted_from_message_and_body() -> None:
    secret = fake_key("ADMIN", "topsecretvalue123")
    body = {"error": f"bad key {secret}", "apiKey": fake_key("INFERENCE", "zzz999"),
            "nested": [{"authorization": "Bearer abc"}], "hint": "Bearer qwerty"}
    err = error_from_response(400, body)
    text = f"{err} {err.message} {err.body!r} {err!r}"
    for leaked in ("topsecretvalue123", "zzz999", "abc", "qwerty"):
        assert leaked not in text
    assert redact({"Private_Key": "x", "ok": 1}) == {"Private_Key": "[redacted]", "ok": 1}


def test_error_text_from_nested_or_message_bodies() -> None:
    nested = error_from_response(400, {"error": {"message": "Invalid model", "code": "X"}})
    assert str(nested) == "400 Invalid model"
    plain = error_from_response(413, {"message": "Payload too large", "code": "PAYLOAD_TOO_LARGE"})
    assert str(plain) == "413 Payload too large"
    odd = error_from_response(400, {"error": 42}, reason="Bad Request")
    assert type(odd) is errors.BadRequestError and str(odd) == "400 Bad Request"


def test_string_details_message_has_no_internal_label() -> None:
    err = error_from_response(400, {"error": "Invalid request parameters",
                                    "details": "expiresAt must be later"},
                              method="POST", path="/api_keys")
    assert str(err) == "POST /api_keys: 400 Invalid request parameters (expiresAt must be later)"
    same = error_from_response(400, {"error": "Bad expiry", "details": "Bad expiry"})
    assert str(same) == "400 Bad expiry"  # a details that repeats the error adds nothing
    assert field_errors_from_body("not a mapping") == {}
    assert field_errors_from_body(None) == {}
