"""Our signatures checked by an independent implementation: Foundry's `cast` (Rust).

The emulator verifies with eth_account, the same library that signs; `cast wallet verify` and
`cast decode-transaction` share no code with it, so a prefix, encoding or chain-id mistake on our
side cannot hide here.
"""

from __future__ import annotations

import json

import pytest

from tests.foundry import cast
from venice_web3_keys.errors import WalletError
from venice_web3_keys.signer import PrivateKeySigner

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
    out = cast("wallet", "verify", "--address", address, message, signature, check=False)
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


STAKING = "0x321b7ff75154472B18EDb199033fF4D116F340Ff"
STAKE_TX = {"type": 2, "chainId": 8453, "nonce": 7, "to": STAKING, "value": 0,
            "data": "0xadc9772e" + "00" * 64, "gas": 100_000, "maxFeePerGas": 3 * 10**9,
            "maxPriorityFeePerGas": 10**9}


def test_cast_decodes_our_signed_transaction_with_its_chain_id_and_signer() -> None:
    signer = PrivateKeySigner("0x" + "11" * 32)
    raw = signer.sign_transaction(STAKE_TX)
    decoded = json.loads(json.loads(cast("decode-transaction", "0x" + raw.hex()).stdout))
    assert decoded["signer"] == signer.address.lower()
    assert decoded["type"] == "0x2"
    assert int(decoded["chainId"], 16) == 8453  # EIP-155 replay protection: Base only
    assert int(decoded["nonce"], 16) == 7
    assert decoded["to"] == STAKING.lower()
    assert decoded["input"] == STAKE_TX["data"]
    assert int(decoded["maxFeePerGas"], 16) == 3 * 10**9


@pytest.mark.parametrize("change", [{"chainId": None}, {"chainId": 0}, {"chainId": True},
                                    {"chainId": "8453"}, {"type": 0}, {"type": None}])
def test_signer_refuses_a_transaction_without_chain_id_or_not_eip1559(
        change: dict[str, object]) -> None:
    tx = {**STAKE_TX, **change}
    tx = {k: v for k, v in tx.items() if v is not None}
    with pytest.raises(WalletError):
        PrivateKeySigner("0x" + "11" * 32).sign_transaction(tx)
