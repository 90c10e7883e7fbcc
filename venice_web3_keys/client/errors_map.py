"""Turn a Venice error response into the most specific class of errors.py.

Venice signals most failures with a status plus an English `error` text and (for 400s) sometimes
zod-style `details`; only a few carry a `code`. So the texts are matched case-insensitively on
substrings, most specific first. Bodies are redacted before they are attached to an exception.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from venice_web3_keys.errors import (
    ActiveKeyLimitError,
    AdminKeyRequiredError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ChallengeExpiredError,
    ChallengeInvalidError,
    ChallengeUsedError,
    ConflictError,
    CredentialsRequiredError,
    InternalServerError,
    InvalidWalletAddressError,
    KeyNotFoundError,
    NoStakedVVVError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    SignatureMismatchError,
    SignatureVerificationUnavailableError,
    TokenExpiredError,
    TokenInvalidError,
    ValidationError,
)
from venice_web3_keys.secret import redact

from .retry import parse_retry_after

__all__ = ["TEXT_RULES", "error_from_response", "field_errors_from_body"]

# (substring, class) — checked in order on 4xx bodies; first match wins.
TEXT_RULES: tuple[tuple[str, type[APIStatusError]], ...] = (
    ("invalid wallet address", InvalidWalletAddressError),
    ("jwt has expired", TokenExpiredError),
    ("jwt signature is invalid", TokenInvalidError),
    ("jwt claims are invalid", TokenInvalidError),
    ("jwt is malformed", TokenInvalidError),
    ("wallet signature does not match", SignatureMismatchError),
    ("could not verify wallet signature", SignatureVerificationUnavailableError),
    ("no staked vvv", NoStakedVVVError),
    ("challenge has expired", ChallengeExpiredError),
    ("challenge has already been used", ChallengeUsedError),
    ("issued for a different wallet address", ChallengeInvalidError),
    ("not a valid venice api key authorization challenge", ChallengeInvalidError),
    ("challenge statement was modified", ChallengeInvalidError),
    ("challenge domain must be", ChallengeInvalidError),
    ("admin api key required", AdminKeyRequiredError),
    ("api key not found", KeyNotFoundError),
    ("could not be found", KeyNotFoundError),
    ("not found or expired", KeyNotFoundError),
)

_ACTIVE_LIMIT = re.compile(r"maximum[^.]*\bkeys?\b|\b500 active\b|active (api )?keys? limit", re.I)

_MAX_TEXT = 500


def _error_text(body: Any) -> str | None:
    if isinstance(body, Mapping):
        err = body.get("error")
        if isinstance(err, str):
            return err
        if isinstance(err, Mapping) and isinstance(err.get("message"), str):
            return str(err["message"])
        if isinstance(body.get("message"), str):
            return str(body["message"])
    return None


def _walk_zod(node: Any, path: str, out: dict[str, list[str]]) -> None:
    if not isinstance(node, Mapping):
        return
    msgs = node.get("_errors")
    if isinstance(msgs, list):
        texts = [str(m) for m in msgs if m]
        if texts:
            out.setdefault(path or "_root", []).extend(texts)
    for key, child in node.items():
        if key != "_errors":
            _walk_zod(child, f"{path}.{key}" if path else str(key), out)


def field_errors_from_body(body: Any) -> dict[str, list[str]]:
    """Flatten zod `details` (object or plain string) and `issues` into field -> messages."""
    out: dict[str, list[str]] = {}
    if not isinstance(body, Mapping):
        return out
    details = body.get("details")
    if isinstance(details, str) and details:
        out.setdefault("_root", []).append(details)
    else:
        _walk_zod(details, "", out)
    issues = body.get("issues")
    if isinstance(issues, list) and not out:
        for issue in issues:
            if isinstance(issue, Mapping) and isinstance(issue.get("message"), str):
                raw_path = issue.get("path")
                path = (".".join(str(p) for p in raw_path) if isinstance(raw_path, list)
                        else "") or "_root"
                out.setdefault(path, []).append(str(issue["message"]))
    return out


def _is_x402_discovery(body: Any) -> bool:
    return isinstance(body, Mapping) and (
        "x402Version" in body
        or "accepts" in body
        or _error_text(body) == "Authentication required"
    )


def _classify(status: int, text: str, body: Any) -> type[APIStatusError]:
    low = text.lower()
    if 400 <= status < 500 and status != 429:
        for needle, cls in TEXT_RULES:
            if needle in low:
                return cls
        if status == 400 and _ACTIVE_LIMIT.search(text):
            return ActiveKeyLimitError
        if status == 400 and "not found" in low:
            return KeyNotFoundError
    if status == 400:
        if isinstance(body, Mapping) and ("details" in body or "issues" in body):
            return ValidationError
        return BadRequestError
    if status == 401:
        return AuthenticationError
    if status == 402:
        return CredentialsRequiredError if _is_x402_discovery(body) else PaymentRequiredError
    if status == 403:
        return PermissionDeniedError
    if status == 404:
        return NotFoundError
    if status == 409:
        return ConflictError
    if status == 429:
        return RateLimitError
    if status >= 500:
        return InternalServerError
    return APIStatusError


def error_from_response(
    status: int,
    body: Any,
    *,
    headers: Mapping[str, str] | None = None,
    method: str | None = None,
    path: str | None = None,
    reason: str = "",
) -> APIStatusError:
    """Build the exception for a non-2xx response. `body` is parsed JSON, or None if it wasn't.

    The message is "<METHOD> <path>: <status> <Venice's text>" and never includes a secret.
    """
    headers = headers or {}
    safe_body = redact(body, max_text=_MAX_TEXT)
    text = _error_text(safe_body) or reason or "error"
    cls = _classify(status, text, body)
    field_errors = field_errors_from_body(safe_body) if cls is ValidationError else {}
    where = f"{method or ''} {path or ''}".strip()
    message = f"{where}: {status} {text}" if where else f"{status} {text}"
    # "_root" (a plain-string `details`, or zod's top-level errors) needs no field label, and a
    # `details` that only repeats the error text adds nothing.
    parts = [", ".join(v) if k == "_root" else f"{k}: {', '.join(v)}"
             for k, v in field_errors.items()]
    detail = "; ".join(p for p in parts if p.strip() and p.strip() != text.strip())
    if detail:
        message = f"{message} ({detail})"
    kwargs: dict[str, Any] = {
        "status_code": status,
        "body": safe_body,
        "method": method,
        "path": path,
        "request_id": headers.get("x-request-id") or headers.get("cf-ray"),
    }
    if cls is ValidationError:
        return ValidationError(message, field_errors=field_errors, **kwargs)
    if cls is RateLimitError:
        retry_after = parse_retry_after(headers.get("retry-after"))
        return RateLimitError(message, retry_after=retry_after, **kwargs)
    return cls(message, **kwargs)
