from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from venice_web3_keys.challenge import (
    SIWE_RESOURCE,
    SIWE_STATEMENT,
    parse_siwe_message,
    validate_jwt_token,
    validate_siwe_message,
)
from venice_web3_keys.errors import UnsafeSigningRequestError

NOW = datetime(2026, 10, 2, 12, 0, 0, tzinfo=UTC)
T = int(NOW.timestamp())
ADDR = "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23"
OTHER = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
URI = "https://api.venice.ai/api/v1/api_keys/generate_web3_key"


def b64(obj: Any) -> str:
    raw = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jwt(claims: dict[str, Any] | bytes, header: dict[str, Any] | None = None) -> str:
    return f"{b64(header or {'alg': 'HS256', 'typ': 'JWT'})}.{b64(claims)}.c2lnbmF0dXJl"


def test_good_jwt() -> None:
    validate_jwt_token(jwt({"iss": "venice", "aud": "x", "iat": T, "exp": T + 900}), now=NOW)
    validate_jwt_token(jwt({"exp": T + 900}), now=NOW)  # no iat: lifetime from now
    validate_jwt_token(jwt({"iat": T - 30, "exp": T - 10}), now=NOW)  # within clock skew


@pytest.mark.parametrize(("token", "reason"), [
    ("", "no token"),
    ("abc", "not a JWT"),
    ("a.b", "not a JWT"),
    ("a.b.c.d", "not a JWT"),
    ("a b.c.d", "not a JWT"),
    (jwt({"exp": T + 900}) + "=", "not a JWT"),
    (f"{b64(b'not json')}.{b64({'exp': T + 900})}.sig", "header"),
    (f"{b64({'alg': 'HS256'})}.{b64([1, 2])}.sig", "payload"),
    (jwt({"exp": T + 900}, {"typ": "JWT"}), "no algorithm"),
    (jwt({"exp": T + 900}, {"alg": "none"}), "unsigned"),
    (jwt({"iat": T}), "no expiry"),
    (jwt({"exp": "soon"}), "not a number"),
    (jwt({"exp": True}), "not a number"),
    (jwt({"iat": T - 1000, "exp": T - 100}), "expired"),
    (jwt({"iat": T, "exp": T + 86400 * 365}), "365 days"),
    (jwt({"exp": T + 7200}), "2 hours"),
    (jwt({"iat": T + 600, "exp": T + 900}), "future"),
    (jwt({"exp": T + 900, "nbf": T + 600}), "not valid yet"),
    ("x" * 9000, "long"),
])
def test_bad_jwt(token: str, reason: str) -> None:
    with pytest.raises(UnsafeSigningRequestError, match=reason):
        validate_jwt_token(token, now=NOW)


@given(st.integers(min_value=61, max_value=10**7))
def test_jwt_lifetime_boundary(extra: int) -> None:
    validate_jwt_token(jwt({"iat": T, "exp": T + 3600}), now=NOW)
    with pytest.raises(UnsafeSigningRequestError):
        validate_jwt_token(jwt({"iat": T, "exp": T + 3600 + extra}), now=NOW)


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def siwe(**kw: Any) -> str:
    f: dict[str, Any] = {
        "domain": "api.venice.ai", "address": ADDR, "statement": SIWE_STATEMENT, "uri": URI,
        "version": "1", "chain": "8453", "nonce": "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6",
        "issued": iso(NOW - timedelta(seconds=5)),
        "expires": iso(NOW + timedelta(minutes=15)),
        "resources": [SIWE_RESOURCE], "extra": [],
    }
    f.update(kw)
    lines = [f"{f['domain']} wants you to sign in with your Ethereum account:", f["address"], ""]
    if f["statement"] is not None:
        lines += [f["statement"], ""]
    lines += [f"URI: {f['uri']}", f"Version: {f['version']}", f"Chain ID: {f['chain']}",
              f"Nonce: {f['nonce']}", f"Issued At: {f['issued']}"]
    if f["expires"] is not None:
        lines.append(f"Expiration Time: {f['expires']}")
    lines += f["extra"]
    if f["resources"] is not None:
        lines += ["Resources:", *[f"- {r}" for r in f["resources"]]]
    return "\n".join(lines)


def check(message: str, **kw: Any) -> None:
    args: dict[str, Any] = {"expected_address": ADDR, "chain_id": 8453, "now": NOW}
    args.update(kw)
    validate_siwe_message(message, **args)


def test_good_siwe() -> None:
    check(siwe())
    check(siwe(address=ADDR.lower()))  # case-insensitive comparison
    check(siwe(), expected_address=ADDR.lower())
    check(siwe(extra=["Not Before: " + iso(NOW - timedelta(seconds=5)), "Request ID: r-1"]))
    check(siwe(domain="https://api.venice.ai"))
    check(siwe(issued="2026-10-02T13:59:59+02:00"))
    check(siwe(domain="venice.ai"))


def test_parse_siwe_fields() -> None:
    msg = parse_siwe_message(siwe())
    assert msg.domain == "api.venice.ai" and msg.address == ADDR and msg.chain_id == "8453"
    assert msg.resources == (SIWE_RESOURCE,) and msg.statement == SIWE_STATEMENT


@pytest.mark.parametrize(("message", "reason"), [
    (siwe(domain="evil.example"), "domain"),
    (siwe(domain="api.venice.ai.evil.example"), "domain"),
    (siwe(domain="ftp://api.venice.ai"), "scheme"),
    (siwe(address=OTHER), "wallet"),
    (siwe(address="0xnothex"), "address"),
    (siwe(statement="Sign in to Example DEX"), "statement"),
    (siwe(statement=None), "statement"),
    (siwe(statement=SIWE_STATEMENT + " "), "statement"),
    (siwe(uri="https://api.venice.ai/api/v1/transfer"), "URI"),
    (siwe(uri="https://evil.example/api/v1/api_keys/generate_web3_key"), "URI"),
    (siwe(version="2"), "Version"),
    (siwe(chain="1"), "chain"),
    (siwe(nonce="short"), "nonce"),
    (siwe(nonce="abc-def-ghij"), "nonce"),
    (siwe(issued=iso(NOW + timedelta(minutes=10))), "future"),
    (siwe(issued="yesterday"), "Issued At"),
    (siwe(expires=None), "Expiration Time"),
    (siwe(expires=iso(NOW - timedelta(seconds=1))), "expired"),
    (siwe(issued=iso(NOW - timedelta(days=1)), expires=iso(NOW + timedelta(minutes=5))),
     "more than"),
    (siwe(expires=iso(NOW + timedelta(days=30))), "more than"),
    (siwe(extra=["Not Before: " + iso(NOW + timedelta(minutes=10))]), "not valid yet"),
    (siwe(resources=None), "Resources"),
    (siwe(resources=[SIWE_RESOURCE, "urn:venice:account:delete"]), "Resources"),
    (siwe(resources=["urn:venice:api-key:delete"]), "Resources"),
    (siwe() + "\n", "trailing"),
    (siwe() + "\nMalicious: line", "trailing"),
    (siwe().replace("\n", "\r\n"), "control"),
    (siwe().replace("Version: 1\nChain ID: 8453", "Chain ID: 8453\nVersion: 1"), "Version"),
    (siwe(extra=["Request ID: r", "Not Before: " + iso(NOW)]), "out-of-order"),
    (siwe(statement=SIWE_STATEMENT.replace("venice.ai", "venice.ai\u202e")), "invisible"),
    ("Please sign this: 0xdeadbeef", "EIP-4361"),
    ("", "no challenge"),
    (siwe().split("\nURI:")[0], "ends early"),
])
def test_bad_siwe(message: str, reason: str) -> None:
    with pytest.raises(UnsafeSigningRequestError, match=reason):
        check(message)


def test_siwe_wrong_chain_configured() -> None:
    with pytest.raises(UnsafeSigningRequestError, match="chain"):
        check(siwe(), chain_id=84532)


def test_siwe_names_venice_even_when_served_elsewhere() -> None:
    """A challenge naming the host it was fetched from is not Venice's (Venice names itself)."""
    sandbox_uri = "http://127.0.0.1:8123/api/v1/api_keys/generate_web3_key"
    with pytest.raises(UnsafeSigningRequestError, match="domain"):
        check(siwe(domain="127.0.0.1:8123", uri=sandbox_uri))
    with pytest.raises(UnsafeSigningRequestError, match="URI"):
        check(siwe(uri=sandbox_uri))
    with pytest.raises(UnsafeSigningRequestError, match="scheme"):
        check(siwe(domain="http://api.venice.ai"))


@given(st.text(max_size=300))
def test_arbitrary_text_never_passes(text: str) -> None:
    with pytest.raises(UnsafeSigningRequestError):
        check(text)
