"""The wallet mint, verified for real: JWT or SIWE proof, EIP-191 recovery, sVVV read on chain.

A look-alike would let a client that signs the wrong bytes, or talks to the wrong chain, pass
its tests; here the signature is recovered with eth_account and the staking balance is read with
a raw JSON-RPC `eth_call` to `balanceOf(address)` on the staking contract, as Venice's backend
reads Base. The same batch reads the wallet's DIEM, which the account's DIEM balance follows.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from venice_web3_keys.addresses import HEX_ADDRESS, checksum_address
from venice_web3_keys.bounded_http import tls_context
from venice_web3_keys.errors import InvalidInputError
from venice_web3_keys.sandbox.emulator import jwt, siwe
from venice_web3_keys.sandbox.emulator.clock import iso_ms, parse_iso
from venice_web3_keys.sandbox.emulator.state import EmulatorHTTPError, EmulatorState, StoredKey
from venice_web3_keys.secret import ApiKeySecret

INVALID_ADDRESS = "Invalid wallet address"
SIGNATURE_MISMATCH = "Wallet signature does not match"
RPC_FAILED = "Could not verify wallet signature"
BALANCE_OF = "0x70a08231"


def _bad(text: str) -> EmulatorHTTPError:
    return EmulatorHTTPError(400, {"error": text})


def no_stake(address: str) -> str:
    return f"Wallet {address} has no staked VVV on Base"


def checksum(address: Any) -> str:
    """EIP-55 form of a valid address; mixed case with a wrong checksum is invalid, as in ethers."""
    if not isinstance(address, str) or not HEX_ADDRESS.fullmatch(address):
        raise _bad(INVALID_ADDRESS)
    try:
        return checksum_address(address)
    except InvalidInputError:
        raise _bad(INVALID_ADDRESS) from None


def recover(text: str, signature: str) -> str | None:
    """The address that personal_signed `text`, or None if the signature is unusable."""
    from eth_account import Account
    from eth_account.messages import encode_defunct

    try:
        return str(Account.recover_message(encode_defunct(text=text), signature=signature))
    except Exception:  # any malformed signature is simply "does not match"
        return None


async def wallet_balances(state: EmulatorState, address: str) -> tuple[int, int]:
    """(sVVV, DIEM) balances in wei over one JSON-RPC batch that also checks the chain id.

    Any failure (unreachable node, wrong chain, no contract) is Venice's "Could not verify".
    """
    data = BALANCE_OF + address[2:].lower().rjust(64, "0")
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
        *({"jsonrpc": "2.0", "id": i, "method": "eth_call",
           "params": [{"to": to, "data": data}, "latest"]}
          for i, to in ((2, state.staking_contract), (3, state.diem_token))),
    ]
    try:
        async with httpx.AsyncClient(timeout=state.rpc_timeout,
                                     verify=tls_context([state.rpc_url])) as client:
            response = await client.post(state.rpc_url, json=batch)
        response.raise_for_status()
        replies = {r["id"]: r for r in response.json()}
        if int(replies[1]["result"], 16) != state.chain_id:
            raise ValueError("wrong chain")
        results = [replies[2]["result"], replies[3].get("result")]
        if not isinstance(results[0], str) or len(results[0]) < 3:
            raise ValueError("no contract at the staking address")
        diem = int(results[1], 16) if isinstance(results[1], str) and len(results[1]) > 2 else 0
        return int(results[0], 16), diem
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        raise _bad(RPC_FAILED) from exc


async def staked_balance(state: EmulatorState, address: str) -> int:
    """sVVV balance (wei); also brings the account's DIEM up to date with the chain."""
    svvv, diem = await wallet_balances(state, address)
    state.sync_chain_diem(address, diem)
    return svvv


async def refresh_diem(state: EmulatorState, address: str) -> None:
    """Before a balance view: follow the chain's DIEM; if the node is down, keep the last value
    (a billing read should not fail because Base is slow)."""
    with state.lock:
        if state.account(address).pinned:
            return
    try:
        _, diem = await wallet_balances(state, address)
    except EmulatorHTTPError:
        return
    state.sync_chain_diem(address, diem)


def _check_token(state: EmulatorState, token: str) -> None:
    try:
        jwt.verify(token, state.jwt_secret, state.now())
    except jwt.JwtError as exc:
        raise _bad(str(exc)) from exc


def _check_message(state: EmulatorState, message: str, address: str) -> str:
    """Validate a SIWE challenge; return its nonce (consumed only once the key exists)."""
    try:
        msg = siwe.parse(message)
    except siwe.SiweError as exc:
        raise _bad(str(exc)) from exc
    if msg.domain != siwe.DOMAIN:
        raise _bad(siwe.WRONG_DOMAIN)
    if msg.statement != siwe.STATEMENT:
        raise _bad(siwe.STATEMENT_MODIFIED)
    if (msg.uri != siwe.URI or msg.version != "1" or msg.chain_id != state.chain_id
            or msg.resources != (siwe.RESOURCE,)):
        raise _bad(siwe.NOT_A_CHALLENGE)
    with state.lock:
        challenge = state.challenges.get(msg.nonce)
        if challenge is None or (msg.issued_at, msg.expiration_time) != (
            challenge.issued_at, challenge.expires_at
        ):
            raise _bad(siwe.NOT_A_CHALLENGE)
        bound = challenge.address.lower()
        if msg.address.lower() != bound or address.lower() != bound:
            raise _bad(siwe.WRONG_ADDRESS)
        if challenge.used:
            raise _bad(siwe.USED)
        if parse_iso(challenge.expires_at) <= state.now():
            raise _bad(siwe.EXPIRED)
    return msg.nonce


def challenge_body(state: EmulatorState, address: Any) -> dict[str, Any]:
    """`GET generate_web3_key` in the active variant (Venice's domain and URI, on any host)."""
    if state.mint_variant == "jwt":
        return {"success": True, "data": {"token": state.issue_token()}}
    wallet = checksum(address)
    expires: datetime = state.now() + timedelta(seconds=siwe.LIFETIME_SECONDS)
    challenge = state.new_challenge(wallet, expires)
    message = siwe.build(address=wallet, chain_id=state.chain_id, nonce=challenge.nonce,
                         issued_at=challenge.issued_at, expiration_time=challenge.expires_at)
    return {"success": True,
            "data": {"message": message, "nonce": challenge.nonce, "expiresAt": iso_ms(expires)}}


async def mint(state: EmulatorState, body: dict[str, Any]) -> tuple[StoredKey, ApiKeySecret]:
    """Verify a validated mint body and create the key in the wallet's account."""
    address = checksum(body["address"])
    nonce: str | None = None
    if state.mint_variant == "jwt":
        _check_token(state, body["token"])
        signed = body["token"]
    else:
        nonce = _check_message(state, body["message"], address)
        signed = body["message"]
    signer = recover(signed, body["signature"])
    if signer is None or signer.lower() != address.lower():
        raise _bad(SIGNATURE_MISMATCH)
    if await staked_balance(state, address) <= 0:
        raise _bad(no_stake(address))
    with state.lock:
        if nonce is not None:
            challenge = state.challenges.get(nonce)
            if challenge is None or challenge.used:  # a concurrent mint won the race
                raise _bad(siwe.USED)
        key, secret = state.create_key(state.account(address), body)
        if nonce is not None:
            state.challenges[nonce].used = True
            state.save()
    return key, secret


def mint_echo(key: StoredKey, body: dict[str, Any]) -> dict[str, Any]:
    """The web3 create echo, with Venice's documented quirk.

    `diem` is derived from `vcu` (so it reads null when only `diem` was sent) and a `usd` of 0
    echoes as null; the stored key is correct, as `GET /api_keys/{id}` shows.
    """
    sent = body.get("consumptionLimit") or {}
    usd = sent.get("usd")
    return {
        "usd": usd if usd else None,
        "diem": sent.get("vcu"),
        "vcu": sent.get("vcu"),
    }
