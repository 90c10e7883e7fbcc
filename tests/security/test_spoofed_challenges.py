"""A spoofed or compromised Venice endpoint must never obtain a wallet signature.

Each case injects a forged challenge as the sandbox's real (loopback HTTP) answer to
GET /api_keys/generate_web3_key, then runs the real mint flow with a recording signer: the
flow must refuse with UnsafeSigningRequestError, sign nothing, POST nothing, leave no file.
"""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from venice_web3_keys.api import AsyncVeniceKeys
from venice_web3_keys.challenge import SIWE_RESOURCE, SIWE_STATEMENT, validate_jwt_token
from venice_web3_keys.errors import TokenExpiredError, UnsafeSigningRequestError
from venice_web3_keys.sandbox.emulator.faults import Fault
from venice_web3_keys.secret import SecretValue
from venice_web3_keys.settings import load_settings
from venice_web3_keys.signer import PrivateKeySigner
from venice_web3_keys.sinks import FileSink

GEN = "/api_keys/generate_web3_key"
OTHER = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
TX_HASH = "0x" + "ab" * 32


class RecordingSigner:
    """Wraps a real signer and records every text it is asked to sign."""

    def __init__(self, key: SecretValue) -> None:
        self._inner = PrivateKeySigner(key)
        self.signed: list[str] = []

    @property
    def address(self) -> str:
        return self._inner.address

    def sign_message(self, text: str) -> str:
        self.signed.append(text)
        return self._inner.sign_message(text)


def _b64(obj: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def jwt(claims: dict[str, Any], header: dict[str, Any] | None = None) -> str:
    return f"{_b64(header or {'alg': 'HS256', 'typ': 'JWT'})}.{_b64(claims)}.c2lnbmF0dXJl"


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def siwe(domain: str, address: str, uri: str, **kw: Any) -> str:
    now = datetime.now(UTC)
    f: dict[str, Any] = {
        "domain": domain, "address": address, "statement": SIWE_STATEMENT, "uri": uri,
        "chain": "8453", "nonce": "a1b2c3d4e5f6a7b8", "issued": _iso(now),
        "expires": _iso(now + timedelta(minutes=15)), "resources": [SIWE_RESOURCE],
        "extra": [],
    }
    f.update(kw)
    lines = [f"{f['domain']} wants you to sign in with your Ethereum account:", f["address"], "",
             f["statement"], "", f"URI: {f['uri']}", "Version: 1", f"Chain ID: {f['chain']}",
             f"Nonce: {f['nonce']}", f"Issued At: {f['issued']}",
             f"Expiration Time: {f['expires']}", *f["extra"], "Resources:",
             *[f"- {r}" for r in f["resources"]]]
    return "\n".join(lines)


VENICE_HOST = "api.venice.ai"  # real Venice names itself wherever the challenge is fetched


def _spoofs(host: str, address: str) -> dict[str, dict[str, Any]]:
    """Each case differs from a genuine challenge in the one way its name says."""
    uri = f"https://{host}/api/v1{GEN}"
    t = int(time.time())
    lookalike = host.replace("i", "\u0456", 1)  # Cyrillic i
    later = datetime.now(UTC) + timedelta(days=365)
    cases: dict[str, dict[str, Any]] = {
        "siwe-other-domain": {"message": siwe("api.venice.ai.evil.example", address, uri)},
        "siwe-lookalike-unicode-domain": {"message": siwe(lookalike, address, uri)},
        "siwe-sandbox-domain": {"message": siwe("127.0.0.1:8123", address, uri)},
        "siwe-http-uri": {"message": siwe(host, address, uri.replace("https:", "http:"))},
        "siwe-other-uri": {"message": siwe(host, address, f"http://{host}/api/v1/transfer")},
        "siwe-extra-line": {"message": siwe(host, address, uri) + "\nTransfer: all"},
        "siwe-crlf": {"message": siwe(host, address, uri).replace("\n", "\r\n")},
        "siwe-second-resource": {"message": siwe(
            host, address, uri, resources=[SIWE_RESOURCE, "urn:venice:account:transfer"])},
        "siwe-duplicate-resource": {"message": siwe(
            host, address, uri, resources=[SIWE_RESOURCE, SIWE_RESOURCE])},
        "siwe-huge-expiry": {"message": siwe(host, address, uri, expires=_iso(later))},
        "siwe-other-wallet": {"message": siwe(host, OTHER, uri)},
        "siwe-other-chain": {"message": siwe(host, address, uri, chain="1")},
        "siwe-bidi-override": {"message": siwe(
            host, address, uri, statement=SIWE_STATEMENT + "\u202e")},
        "siwe-tx-hash": {"message": TX_HASH},
        "jwt-alg-none": {"token": jwt({"iat": t, "exp": t + 900}, {"alg": "none"})},
        "jwt-alg-none-padded": {"token": jwt({"iat": t, "exp": t + 900}, {"alg": " None "})},
        "jwt-expired": {"token": jwt({"iat": t - 2000, "exp": t - 1000})},
        "jwt-far-future": {"token": jwt({"iat": t, "exp": t + 86400 * 365})},
        "jwt-no-exp": {"token": jwt({"iat": t})},
        "jwt-other-wallet": {"token": jwt({"iat": t, "exp": t + 900, "address": OTHER})},
        "jwt-other-wallet-sub": {"token": jwt({"iat": t, "exp": t + 900, "sub": OTHER})},
        "jwt-eip712-payload": {"token": jwt({
            "iat": t, "exp": t + 900, "primaryType": "Permit",
            "types": {"Permit": [{"name": "spender", "type": "address"}]},
            "domain": {"name": "USDC", "chainId": 8453}, "message": {"spender": OTHER}})},
        "jwt-transaction": {"token": jwt({
            "iat": t, "exp": t + 900, "to": OTHER, "value": "0xde0b6b3a7640000"})},
        "jwt-tx-hash": {"token": TX_HASH},
    }
    return cases


CASES = sorted(_spoofs(VENICE_HOST, OTHER))


@pytest.mark.parametrize("case", CASES)
async def test_spoofed_challenge_is_never_signed(venice_sandbox: Any, tmp_path: Path,
                                                 case: str) -> None:
    address, key = venice_sandbox.new_wallet()
    settings = load_settings(environ=venice_sandbox.env(key))
    data = _spoofs(VENICE_HOST, address)[case]
    venice_sandbox.emulator.faults.add(
        f"GET {GEN}", Fault(status=200, body={"success": True, "data": data}))
    signer = RecordingSigner(key)
    before = len(venice_sandbox.emulator.requests())
    out = tmp_path / "key.txt"
    async with AsyncVeniceKeys(settings, signer=signer) as vk:
        with pytest.raises(UnsafeSigningRequestError) as info:
            await vk.mint_key(description="spoof", sink=FileSink(out))
    assert signer.signed == []
    sent = venice_sandbox.emulator.requests()[before:]
    assert not [r for r in sent if r.method == "POST"], sent
    assert not out.exists()
    assert str(info.value).startswith("refusing to sign")


def test_genuine_jwt_with_our_address_claim_is_accepted() -> None:
    t = int(time.time())
    ours = "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23"
    validate_jwt_token(jwt({"iat": t, "exp": t + 900, "address": ours.lower()}),
                       expected_address=ours)
    validate_jwt_token(jwt({"iat": t, "exp": t + 900, "sub": "user-42"}), expected_address=ours)


async def test_expired_answer_is_re_signed_exactly_once(venice_sandbox: Any) -> None:
    """A server that keeps answering "expired" gets two signatures and two POSTs, no more."""
    address, key = venice_sandbox.new_wallet()
    settings = load_settings(environ=venice_sandbox.env(key))
    venice_sandbox.emulator.faults.add(
        f"POST {GEN}", Fault(status=401, body={"error": "JWT has expired"}), times=5)
    signer = RecordingSigner(key)
    before = len(venice_sandbox.emulator.requests())
    async with AsyncVeniceKeys(settings, signer=signer) as vk:
        with pytest.raises(TokenExpiredError):
            await vk.mint_key(description="expired twice")
    sent = venice_sandbox.emulator.requests()[before:]
    assert len([r for r in sent if r.method == "POST"]) == 2
    assert len(signer.signed) == 2 and signer.signed[0] != signer.signed[1]
    assert address


@pytest.mark.parametrize("address", [
    "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23 ", " 0x2c7536E3605D9C16a7a3D7b1898e529396a65c23",
    "2c7536E3605D9C16a7a3D7b1898e529396a65c23", "0X2c7536E3605D9C16a7a3D7b1898e529396a65c23",
])
def test_siwe_address_line_must_be_canonical(address: str) -> None:
    from tests.core.test_challenge import check
    from tests.core.test_challenge import siwe as core_siwe

    with pytest.raises(UnsafeSigningRequestError, match="address"):
        check(core_siwe(address=address))
