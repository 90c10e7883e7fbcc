"""A minimal HS256 JWT, hand-written with hmac, as the token of the current web3 mint flow.

Venice documents only that the token is short-lived (15 min) and carries an issuer and audience
(the error "JWT claims are invalid" means they do not match); HS256 is our assumption. Writing it
by hand keeps the emulator's verification real (a forged or edited token really fails) without a
new dependency.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import datetime
from typing import Any

ISSUER = "https://api.venice.ai"
AUDIENCE = "venice:generate_web3_key"
LIFETIME_SECONDS = 15 * 60

EXPIRED = "JWT has expired"
BAD_SIGNATURE = "JWT signature is invalid"
BAD_CLAIMS = "JWT claims are invalid"
MALFORMED = "JWT is malformed"


class JwtError(Exception):
    """Carries one of Venice's four documented JWT error texts."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    if not text or any(c not in _B64URL_CHARS for c in text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_B64URL_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _mac(secret: bytes, signing_input: str) -> bytes:
    return hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest()


def issue(secret: bytes, now: datetime, *, issuer: str = ISSUER, audience: str = AUDIENCE) -> str:
    """A fresh token valid for 15 minutes from `now`."""
    iat = int(now.timestamp())
    header = {"alg": "HS256", "typ": "JWT"}
    claims = {
        "iss": issuer,
        "aud": audience,
        "iat": iat,
        "exp": iat + LIFETIME_SECONDS,
        "jti": secrets.token_hex(16),
    }
    signing_input = (
        _b64url(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + _b64url(json.dumps(claims, separators=(",", ":")).encode())
    )
    return signing_input + "." + _b64url(_mac(secret, signing_input))


def verify(token: str, secret: bytes, now: datetime) -> dict[str, Any]:
    """Return the claims of a token this emulator issued, or raise JwtError with Venice's text.

    Checks run in the order a JWT library runs them: structure, signature, expiry, claims.
    """
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 3:
        raise JwtError(MALFORMED)
    try:
        header = json.loads(_b64url_decode(parts[0]))
        claims = json.loads(_b64url_decode(parts[1]))
        signature = _b64url_decode(parts[2])
    except ValueError as exc:
        raise JwtError(MALFORMED) from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise JwtError(MALFORMED)
    if header.get("alg") != "HS256":
        raise JwtError(BAD_SIGNATURE)
    if not hmac.compare_digest(_mac(secret, parts[0] + "." + parts[1]), signature):
        raise JwtError(BAD_SIGNATURE)
    exp = claims.get("exp")
    if not isinstance(exp, int) or isinstance(exp, bool):
        raise JwtError(BAD_CLAIMS)
    if now.timestamp() >= exp:
        raise JwtError(EXPIRED)
    if claims.get("iss") != ISSUER or claims.get("aud") != AUDIENCE:
        raise JwtError(BAD_CLAIMS)
    return claims
