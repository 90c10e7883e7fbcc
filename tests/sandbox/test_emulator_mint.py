"""The wallet mint over real HTTP and a real anvil, both variants, every documented error."""

from __future__ import annotations

import httpx
import pytest

from tests.sandbox.emulator_support import Emu, bearer, mint, sign
from venice_web3_keys.sandbox.emulator import jwt, siwe

MINT = "/api_keys/generate_web3_key"

pytest_plugins = ["tests.sandbox.emulator_fixtures"]


def error_of(response: object) -> str:
    # Never echo the body on failure: a success body holds a (sandbox) secret.
    assert response.status_code == 400, response.status_code  # type: ignore[attr-defined]
    return str(response.json()["error"])  # type: ignore[attr-defined]


def test_jwt_mint_creates_a_usable_key_in_the_wallets_account(emu: Emu) -> None:
    address, key = emu.chain.new_wallet(svvv=1)
    response = mint(emu, address, key.reveal(), apiKeyType="ADMIN", description="agent")
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    data = body["data"]
    assert data["apiKey"].startswith("VENICE_ADMIN_KEY_")
    assert (data["apiKeyType"], data["description"]) == ("ADMIN", "agent")
    listed = emu.http.get("/api_keys", headers=bearer(data["apiKey"])).json()["data"]
    assert [k["id"] for k in listed] == [data["id"]]
    assert emu.state.keys[data["id"]].account == address


def test_jwt_token_shape_and_default_description(emu: Emu) -> None:
    token = emu.http.get(MINT).json()["data"]["token"]
    claims = jwt.verify(token, emu.state.jwt_secret, emu.clock.now())
    assert claims["exp"] - claims["iat"] == 15 * 60
    address, key = emu.chain.new_wallet(svvv=1)
    data = mint(emu, address, key.reveal()).json()["data"]
    assert data["apiKey"].startswith("VENICE_INFERENCE_KEY_")
    assert data["description"] == "Web3 API Key"


def test_siwe_challenge_text_names_venice_wherever_it_is_served(emu: Emu) -> None:
    emu.state.mint_variant = "siwe"
    address, _ = emu.chain.new_wallet(svvv=1)
    assert emu.origin.startswith("http://127.0.0.1:")
    response = emu.http.get(MINT, params={"address": address.lower()})
    data = response.json()["data"]
    assert set(data) == {"message", "nonce", "expiresAt"}
    lines = data["message"].split("\n")
    assert lines[0] == "api.venice.ai wants you to sign in with your Ethereum account:"
    assert lines[1] == address  # EIP-55, whatever case was asked for
    assert lines[3] == siwe.STATEMENT
    assert "URI: https://api.venice.ai/api/v1/api_keys/generate_web3_key" in lines
    assert f"Nonce: {data['nonce']}" in lines and len(data["nonce"]) == 32
    assert lines[-2:] == ["Resources:", "- urn:venice:api-key:create"]
    assert f"Expiration Time: {data['expiresAt']}" in lines


def test_siwe_mint_succeeds_once_per_challenge(emu: Emu) -> None:
    emu.state.mint_variant = "siwe"
    address, key = emu.chain.new_wallet(svvv=1)
    message = emu.http.get(MINT, params={"address": address}).json()["data"]["message"]
    body = {"address": address, "signature": sign(message, key.reveal()), "message": message,
            "apiKeyType": "INFERENCE"}
    first = emu.http.post(MINT, json=body)
    assert first.status_code == 200
    assert first.json()["data"]["apiKey"].startswith("VENICE_INFERENCE_KEY_")
    assert error_of(emu.http.post(MINT, json=body)) == "This challenge has already been used"


def test_siwe_requires_an_address_on_get(emu: Emu) -> None:
    emu.state.mint_variant = "siwe"
    response = emu.http.get(MINT)
    assert response.status_code == 400
    assert response.json()["details"]["address"]["_errors"] == ["Field is required"]
    assert error_of(emu.http.get(MINT, params={"address": "0x1234"})) == "Invalid wallet address"


@pytest.mark.parametrize(
    ("forge", "expected"),
    [
        (lambda t, s, now: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
         "JWT signature is invalid"),
        (lambda t, s, now: jwt.issue(b"another-secret" * 3, now), "JWT signature is invalid"),
        (lambda t, s, now: jwt.issue(s, now, audience="someone-else"), "JWT claims are invalid"),
        (lambda t, s, now: jwt.issue(s, now, issuer="https://evil.example"),
         "JWT claims are invalid"),
        (lambda t, s, now: "not-a-jwt", "JWT is malformed"),
        (lambda t, s, now: "a.b.c", "JWT is malformed"),
    ],
)
def test_jwt_errors(emu: Emu, forge: object, expected: str) -> None:
    address, key = emu.chain.new_wallet(svvv=1)
    token = emu.http.get(MINT).json()["data"]["token"]
    bad = forge(token, emu.state.jwt_secret, emu.clock.now())  # type: ignore[operator]
    body = {"address": address, "signature": sign(bad, key.reveal()), "token": bad,
            "apiKeyType": "INFERENCE"}
    assert error_of(emu.http.post(MINT, json=body)) == expected


def test_jwt_expires_after_fifteen_minutes(emu: Emu) -> None:
    address, key = emu.chain.new_wallet(svvv=1)
    token = emu.http.get(MINT).json()["data"]["token"]
    body = {"address": address, "signature": sign(token, key.reveal()), "token": token,
            "apiKeyType": "INFERENCE"}
    emu.clock.advance(15 * 60 - 1)
    assert emu.http.post(MINT, json=body).status_code == 200  # still valid, and not single-use
    emu.clock.advance(1)
    assert error_of(emu.http.post(MINT, json=body)) == "JWT has expired"


def test_signature_must_be_by_the_address_over_the_exact_bytes(emu: Emu) -> None:
    address, key = emu.chain.new_wallet(svvv=1)
    _, other_key = emu.chain.new_wallet(svvv=1)
    token = emu.http.get(MINT).json()["data"]["token"]
    base = {"address": address, "token": token, "apiKeyType": "INFERENCE"}
    for signature in (sign(token, other_key.reveal()), sign(token + " ", key.reveal()),
                      "0x1234", "not hex"):
        response = emu.http.post(MINT, json={**base, "signature": signature})
        assert error_of(response) == "Wallet signature does not match"


@pytest.mark.parametrize("address", ["0x1234", "hello", "0x" + "g" * 40])
def test_invalid_wallet_address(emu: Emu, address: str) -> None:
    token = emu.http.get(MINT).json()["data"]["token"]
    body = {"address": address, "signature": "0x00", "token": token, "apiKeyType": "INFERENCE"}
    assert error_of(emu.http.post(MINT, json=body)) == "Invalid wallet address"


def test_bad_checksum_is_an_invalid_address(emu: Emu) -> None:
    address, key = emu.chain.new_wallet(svvv=1)
    flipped = address[:2] + "".join(
        c.swapcase() if c.isalpha() else c for c in address[2:]
    )
    assert flipped != address and flipped.lower() != flipped
    token = emu.http.get(MINT).json()["data"]["token"]
    body = {"address": flipped, "signature": sign(token, key.reveal()), "token": token,
            "apiKeyType": "INFERENCE"}
    assert error_of(emu.http.post(MINT, json=body)) == "Invalid wallet address"


def test_wallet_without_svvv_is_refused_by_reading_the_chain(emu: Emu) -> None:
    address, key = emu.chain.new_wallet(svvv=0, vvv=50)
    assert error_of(mint(emu, address, key.reveal())) == (
        f"Wallet {address} has no staked VVV on Base")
    emu.chain.fund(address, svvv=1)  # staking on chain is all it takes
    assert mint(emu, address, key.reveal()).status_code == 200


def test_rpc_failure_is_could_not_verify(emu: Emu) -> None:
    address, key = emu.chain.new_wallet(svvv=1)
    emu.state.rpc_url = "http://127.0.0.1:9"  # nothing listens on the discard port
    assert error_of(mint(emu, address, key.reveal())) == "Could not verify wallet signature"


def test_wrong_chain_is_could_not_verify(emu: Emu) -> None:
    address, key = emu.chain.new_wallet(svvv=1)
    emu.state.chain_id = 1
    assert error_of(mint(emu, address, key.reveal())) == "Could not verify wallet signature"


def _siwe_setup(emu: Emu) -> tuple[str, str, str]:
    emu.state.mint_variant = "siwe"
    address, key = emu.chain.new_wallet(svvv=1)
    message = emu.http.get(MINT, params={"address": address}).json()["data"]["message"]
    return address, key.reveal(), message


def _post_message(emu: Emu, address: str, private_key: str, message: str) -> str:
    body = {"address": address, "signature": sign(message, private_key), "message": message,
            "apiKeyType": "INFERENCE"}
    return error_of(emu.http.post(MINT, json=body))


def test_siwe_challenge_expires(emu: Emu) -> None:
    address, key, message = _siwe_setup(emu)
    emu.clock.advance(15 * 60)
    assert _post_message(emu, address, key, message) == "The challenge has expired"


def test_siwe_challenge_is_bound_to_its_address(emu: Emu) -> None:
    _, _, message = _siwe_setup(emu)
    other, other_key = emu.chain.new_wallet(svvv=1)
    text = _post_message(emu, other, other_key.reveal(), message)
    assert "issued for a different wallet address" in text
    # Editing the address inside the message does not help either.
    edited = message.replace(message.split("\n")[1], other)
    assert "issued for a different wallet address" in _post_message(
        emu, other, other_key.reveal(), edited)


def test_siwe_statement_domain_and_foreign_messages(emu: Emu) -> None:
    address, key, message = _siwe_setup(emu)
    host = emu.origin.removeprefix("http://")
    lines = message.split("\n")
    statement = "\n".join([*lines[:3], "Sign in to Venice AI", *lines[4:]])
    assert _post_message(emu, address, key, statement) == "The challenge statement was modified"
    for domain in (host, "venice.ai", "evil.example"):
        forged = message.replace("api.venice.ai", domain, 1)
        assert _post_message(emu, address, key, forged) == \
            'The challenge domain must be "api.venice.ai"'
    nonce = lines[8].split(": ")[1]
    for foreign in (
        "hello world",
        message.replace(nonce, "f" * 32),  # a nonce we never issued
        message.replace("Chain ID: 8453", "Chain ID: 1"),
        message.replace("urn:venice:api-key:create", "urn:other"),
        message.replace("URI: https://api.venice.ai/", f"URI: http://{host}/"),
        message.replace("Issued At: ", "Issued At: 1", 1),
    ):
        text = _post_message(emu, address, key, foreign)
        assert "not a valid Venice API key authorization challenge" in text
    # None of the failures consumed the challenge.
    body = {"address": address, "signature": sign(message, key), "message": message,
            "apiKeyType": "INFERENCE"}
    assert emu.http.post(MINT, json=body).status_code == 200


def test_mint_body_is_strict_per_variant(emu: Emu) -> None:
    address, key = emu.chain.new_wallet(svvv=1)
    token = emu.http.get(MINT).json()["data"]["token"]
    response = emu.http.post(MINT, json={"address": address, "signature": "0x",
                                         "message": "x", "apiKeyType": "INFERENCE"})
    assert response.status_code == 400
    details = response.json()["details"]
    assert details["token"]["_errors"] == ["Field is required"]
    assert details["_errors"] == ["Unrecognized key(s) in object: 'message'"]
    long = {"address": address, "signature": sign(token, key.reveal()), "token": token,
            "apiKeyType": "INFERENCE", "description": "x" * 65}
    assert emu.http.post(MINT, json=long).json()["details"]["description"]["_errors"]


def test_mint_echo_quirk_and_the_truth_on_read_back(emu: Emu) -> None:
    address, key = emu.chain.new_wallet(svvv=1)
    admin = mint(emu, address, key.reveal(), apiKeyType="ADMIN").json()["data"]["apiKey"]
    only_diem = mint(emu, address, key.reveal(), consumptionLimit={"diem": 10}).json()["data"]
    assert only_diem["consumptionLimit"] == {"usd": None, "diem": None, "vcu": None}
    zero_usd = mint(emu, address, key.reveal(),
                    consumptionLimit={"usd": 0, "vcu": 7}).json()["data"]
    assert zero_usd["consumptionLimit"] == {"usd": None, "diem": 7, "vcu": 7}
    stored = emu.http.get(f"/api_keys/{only_diem['id']}", headers=bearer(admin)).json()["data"]
    assert stored["consumptionLimits"] == {"usd": None, "diem": 10, "vcu": None}
    stored = emu.http.get(f"/api_keys/{zero_usd['id']}", headers=bearer(admin)).json()["data"]
    assert stored["consumptionLimits"] == {"usd": 0, "diem": None, "vcu": 7}


def test_admin_create_echoes_faithfully(emu: Emu) -> None:
    _, headers = emu.admin()
    body = {"apiKeyType": "INFERENCE", "description": "d", "consumptionLimit": {"usd": 0,
                                                                                "diem": 10}}
    data = emu.http.post("/api_keys", json=body, headers=headers).json()["data"]
    assert data["consumptionLimit"] == {"usd": 0, "diem": 10, "vcu": None}


def test_concurrent_posts_of_one_challenge_mint_once(emu: Emu) -> None:
    from concurrent.futures import ThreadPoolExecutor

    address, key, message = _siwe_setup(emu)
    body = {"address": address, "signature": sign(message, key), "message": message,
            "apiKeyType": "INFERENCE"}
    with ThreadPoolExecutor(4) as pool:
        statuses = sorted(pool.map(
            lambda _: httpx.post(emu.base_url + MINT, json=body, timeout=10).status_code,
            range(4)))
    assert statuses == [200, 400, 400, 400]
    assert len(emu.state.live_keys(address)) == 1


def test_importing_the_emulator_does_not_load_eth_account() -> None:
    import subprocess
    import sys

    code = ("import sys, venice_web3_keys.sandbox.emulator as e; "
            "assert 'eth_account' not in sys.modules, 'eth_account imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
