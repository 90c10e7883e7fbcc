"""Our EIP-191 signatures checked by an independent implementation: Foundry's `cast` (Rust).

The emulator verifies with eth_account, the same library that signs; `cast wallet verify`
shares no code with it, so a prefix or encoding mistake on our side cannot hide here.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from venice_web3_keys.signer import PrivateKeySigner

_FOUNDRY = Path(__file__).resolve().parents[2] / "node_modules" / "@foundry-rs"
CAST = next(iter(sorted(_FOUNDRY.glob("cast-*/bin/cast"))), _FOUNDRY / "cast-missing")
JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJ2ZW5pY2UiLCJleHAiOjE4MDAwMDAwMDB9"
       ".c2lnbmF0dXJl")
SIWE = (
    "api.venice.ai wants you to sign in with your Ethereum account:\n{address}\n\n"
    "Authorize Venice API key creation. Only sign this on venice.ai — anyone holding this "
    "signature can create an API key on your Venice account.\n\n"
    "URI: https://api.venice.ai/api/v1/api_keys/generate_web3_key\nVersion: 1\nChain ID: 8453\n"
    "Nonce: 0123456789abcdef0123456789abcdef\nIssued At: 2026-11-26T12:00:00.000Z\n"
    "Expiration Time: 2026-11-26T12:15:00.000Z\nResources:\n- urn:venice:api-key:create"
)


def cast_verifies(address: str, message: str, signature: str) -> bool:
    assert CAST.exists(), "run `npm ci` (./dev setup) to install Foundry's cast"
    out = subprocess.run([str(CAST), "wallet", "verify", "--address", address, message,
                          signature], capture_output=True, text=True, timeout=30)
    return out.returncode == 0


@pytest.mark.parametrize("template", [JWT, SIWE], ids=["jwt", "siwe"])
def test_cast_accepts_our_signature_and_rejects_another_signer(template: str) -> None:
    ours = PrivateKeySigner("0x" + "11" * 32)
    other = PrivateKeySigner("0x" + "22" * 32)
    message = template.format(address=ours.address) if "{address}" in template else template
    signature = ours.sign_message(message)
    assert signature.startswith("0x") and len(signature) == 132
    assert cast_verifies(ours.address, message, signature)
    assert not cast_verifies(other.address, message, signature)
    assert not cast_verifies(ours.address, message + " ", signature)
