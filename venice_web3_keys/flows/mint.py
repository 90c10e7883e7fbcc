"""Wallet mint: prove control of a wallet holding sVVV on Base and receive a new API key.

Order of events, and why:
1. The sink is prepared first, so a destination problem costs no request and no key.
2. Preflight (chain id + sVVV balance: one JSON-RPC batch) runs at the same time as the
   challenge GET: the mint costs one round trip, not two, before signing.
3. A wallet without sVVV is refused here, before anything is signed or posted.
4. What we are asked to sign is validated first (challenge.py): a spoofed endpoint gets nothing.
5. The POST is sent once. Only an explicit "expired" answer is followed by one fresh
   challenge + signature + POST (an expired token created nothing). Ambiguous outcomes are
   reconciled against the admin key's list when we have one, never by re-sending.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from venice_web3_keys.amounts import decimal_str
from venice_web3_keys.errors import APIError, NotEligibleError, TokenExpiredError
from venice_web3_keys.flows._result import NewKey
from venice_web3_keys.flows.create import (
    SETTLE_DELAYS,
    abort_quietly,
    deliver,
    is_ambiguous,
    reconcile,
    snapshot_ids,
)

if TYPE_CHECKING:
    from venice_web3_keys.chain import ChainReader
    from venice_web3_keys.client.async_client import AsyncVeniceClient
    from venice_web3_keys.models import ApiKey, CreatedKey, KeySpec, WalletStatus, Web3Challenge
    from venice_web3_keys.settings import Settings
    from venice_web3_keys.signer import Signer
    from venice_web3_keys.sinks import SecretSink

log = logging.getLogger("venice_web3_keys.flows.mint")


def validate_challenge(challenge: Web3Challenge, *, settings: Settings, address: str) -> str:
    """Return the exact text to sign, after checking it is a current Venice challenge for us.

    Web3Challenge itself refuses a jwt challenge without a token and a siwe one without a
    message (an empty or missing payload fails as a malformed response, before this point).
    """
    from venice_web3_keys.challenge import validate_jwt_token, validate_siwe_message

    text = challenge.signing_text
    if challenge.variant == "siwe":
        validate_siwe_message(
            text,
            expected_domain=settings.api_host,
            expected_uri=f"{settings.api_base_url}/api_keys/generate_web3_key",
            expected_address=address,
            chain_id=settings.chain_id,
        )
    else:
        validate_jwt_token(text, expected_address=address)
    return text


async def _preflight(chain: ChainReader, address: str) -> WalletStatus:
    """One JSON-RPC batch: eth_chainId (WrongChainError if not ours) plus every balance."""
    return await chain.wallet_status(address)


async def _optional_snapshot(client: AsyncVeniceClient) -> set[str] | None:
    try:
        return await snapshot_ids(client)
    except APIError as exc:
        log.warning("could not list keys before minting (%s); cannot reconcile", type(exc).__name__)
        return None


def _require_stake(status: WalletStatus, settings: Settings) -> None:
    staked = Decimal(str(status.balances.get("sVVV", 0) or 0))
    if staked > 0:
        return
    unstaked = Decimal(str(status.balances.get("VVV", 0) or 0))
    if unstaked > 0:
        how = (f"It holds {decimal_str(unstaked)} VVV that is not staked: stake some of it "
               "(any amount is enough) with `venice-keys wallet stake AMOUNT` (or the library's "
               "stake_vvv), then mint again.")
    else:
        how = (f"Stake any amount of VVV at the staking contract {settings.staking_contract} "
               f"(VVV token {settings.vvv_token}), e.g. with `venice-keys wallet stake AMOUNT`, "
               "then mint again.")
    raise NotEligibleError(
        f"wallet {status.address} holds no staked VVV (sVVV) on chain {settings.chain_id}, "
        f"so Venice will not mint a key for it. {how} Nothing was signed or sent."
    )


async def mint_key(
    client: AsyncVeniceClient,
    *,
    chain: ChainReader,
    signer: Signer,
    settings: Settings,
    spec: KeySpec,
    sink: SecretSink | None = None,
    admin: bool = False,
    settle_delays: Sequence[float] = SETTLE_DELAYS,
) -> NewKey:
    """Mint a key with the wallet (see the module docstring for the order of events).

    `admin`: the client carries an admin key of the wallet's account, used to reconcile an
    ambiguous POST, to revoke a key whose secret could not be delivered, and to read the new
    key's limits back (the mint response's echo of them is unreliable).
    """
    if sink is not None:
        sink.prepare()
    delivered = False
    try:
        address = signer.address
        jobs: list[asyncio.Future[object]] = [
            asyncio.ensure_future(_preflight(chain, address)),
            asyncio.ensure_future(client.get_web3_challenge(address)),
        ]
        if admin:
            jobs.append(asyncio.ensure_future(_optional_snapshot(client)))
        results = await asyncio.gather(*jobs, return_exceptions=True)
        if isinstance(results[0], BaseException):
            raise results[0]
        status: WalletStatus = results[0]  # type: ignore[assignment]
        _require_stake(status, settings)  # "stake first" beats any challenge-side error
        for result in results[1:]:
            if isinstance(result, BaseException):
                raise result
        challenge: Web3Challenge = results[1]  # type: ignore[assignment]
        snapshot: set[str] | None = results[2] if admin else None  # type: ignore[assignment]

        created = await _sign_and_post(
            client, challenge, settings=settings, signer=signer, spec=spec,
            snapshot=snapshot, admin=admin, settle_delays=settle_delays,
        )
        receipt = await deliver(sink, created, revoker=client if admin else None)
        delivered = True
        readback = await _read_back(client, created.id) if admin else None
        return NewKey.from_created(created, sink=receipt, readback=readback)
    finally:
        if not delivered:
            abort_quietly(sink)


async def _sign_and_post(
    client: AsyncVeniceClient,
    challenge: Web3Challenge,
    *,
    settings: Settings,
    signer: Signer,
    spec: KeySpec,
    snapshot: set[str] | None,
    admin: bool,
    settle_delays: Sequence[float],
) -> CreatedKey:
    address = signer.address
    for attempt in (1, 2):
        text = validate_challenge(challenge, settings=settings, address=address)
        signature = signer.sign_message(text)
        try:
            return await client.mint_web3_key(
                address=address, signature=signature, challenge=challenge, spec=spec
            )
        except TokenExpiredError:
            if attempt == 2:
                raise
            log.info("the %s challenge expired before it reached Venice; signing a fresh one",
                     challenge.variant)
            challenge = await client.get_web3_challenge(address)
        except Exception as exc:
            if not is_ambiguous(exc):
                raise
            hint = (
                "Check with `venice-keys keys list` (needs VENICE_ADMIN_KEY for this wallet's "
                f"account) for a key described {spec.description!r}; if one exists, its secret "
                "is lost: revoke it."
            )
            await reconcile(
                client,
                snapshot=snapshot if admin else None,
                spec=spec,
                cause=exc,
                what="minting the key",
                unknown_hint=hint,
                settle_delays=settle_delays,
            )
            exc.add_note("Checked the account's keys afterwards: no key was created.")
            raise
    raise AssertionError("unreachable")  # pragma: no cover


async def _read_back(client: AsyncVeniceClient, key_id: str) -> ApiKey | None:
    try:
        return await client.get_key(key_id)
    except APIError as exc:
        log.warning("could not read back key %s (%s); using the mint response's echo",
                    key_id, type(exc).__name__)
        return None
