"""Key rotation with an overlap window: the old key keeps working until the new one is proven.

Successor first (same type, limits, period, privacy, description, and the old expiry so a
time-boxed key does not become unbounded), its secret delivered, then a call authenticated WITH
the new key (rate_limits); only then is the old key revoked. If the new key does not work, it is
revoked and the old one is left exactly as it was.

Outcomes short of success are typed (errors.py): RotationFailedError (the old key unchanged; the
successor, if one was made, revoked or named) and OldKeyNotRevokedError (both keys usable).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from venice_web3_keys.errors import (
    AmbiguousCreateError,
    APIError,
    DeliveryFailedError,
    KeyNotFoundError,
    MalformedSecretError,
    OldKeyNotRevokedError,
    RotationFailedError,
    VeniceKeysError,
)
from venice_web3_keys.flows._result import RotationProgress, RotationResult
from venice_web3_keys.flows._spec import build_spec
from venice_web3_keys.flows.create import SETTLE_DELAYS, abort_quietly, create_key
from venice_web3_keys.secret import get_logger
from venice_web3_keys.validation import (
    validate_api_key_type,
    validate_key_id,
    validate_limit_period,
    validate_model_privacy,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from venice_web3_keys.client.async_client import AsyncVeniceClient
    from venice_web3_keys.models import ApiKey, KeySpec
    from venice_web3_keys.sinks import SecretSink

log = get_logger("venice_web3_keys.flows.rotate")


def successor_spec(old: ApiKey, *, description: str | None = None) -> KeySpec:
    """The KeySpec that recreates `old` (validated like any caller input)."""
    limits = old.consumption_limits
    # Venice's answer holds plain strings (see ApiKey); a value we cannot send is refused here.
    return build_spec(
        api_key_type=validate_api_key_type(old.api_key_type),
        description=description if description is not None else str(old.description or ""),
        expires_at=old.expires_at,
        usd_limit=limits.usd if limits is not None else None,
        diem_limit=limits.diem if limits is not None else None,
        limit_period=validate_limit_period(old.limit_period) if old.limit_period else None,
        model_privacy=validate_model_privacy(old.model_privacy) if old.model_privacy else None,
    )


async def rotate_key(
    client: AsyncVeniceClient,
    key_id: str,
    *,
    sink: SecretSink | None = None,
    description: str | None = None,
    settle_delays: Sequence[float] = SETTLE_DELAYS,
    progress: RotationProgress | None = None,
) -> RotationResult:
    """Replace key `key_id` by a verified successor, then revoke it (see the module docstring).

    `progress`, when given, records each step as it completes (see RotationProgress).
    """
    key_id = validate_key_id(key_id)  # one spelling (lower case) in every result and message
    progress = progress if progress is not None else RotationProgress()
    progress.old_key_id = key_id
    if sink is not None:
        sink.prepare()  # before the first request, even the read of the old key
    try:
        old = await client.get_key(key_id)
        spec = successor_spec(old, description=description)
    except BaseException:
        abort_quietly(sink)
        raise

    try:
        new_key = await create_key(
            client, spec, sink=sink, sink_prepared=True, settle_delays=settle_delays
        )
    except VeniceKeysError as exc:
        raise _successor_failed(key_id, exc) from exc
    progress.new_key = new_key
    try:
        await client.rate_limits(key=new_key.secret)
    except BaseException as exc:
        # Any failure here (API refusal, timeout, cancellation, a bug) leaves the successor
        # unproven: revoke it so the caller never ends up with two usable keys.
        try:
            await asyncio.shield(client.delete_key(new_key.id))
            progress.successor_revoked = True
            revoked, fate = True, "it was revoked"
        except (APIError, asyncio.CancelledError):
            revoked, fate = False, f"revoking it failed too: revoke {new_key.id} yourself"
        if not isinstance(exc, Exception):
            raise
        raise RotationFailedError(
            f"rotation stopped: the new key {new_key.id} did not work when verified "
            f"({type(exc).__name__}); {fate}. The old key {key_id} was left unchanged.",
            old_key_id=key_id, new_key_id=new_key.id, successor_revoked=revoked, cause=exc,
        ) from exc
    progress.verified = True
    progress.revoking_old_key = True
    try:
        await client.delete_key(key_id)
    except KeyNotFoundError:
        log.info("old key %s was already gone", key_id)
    except APIError as exc:
        raise OldKeyNotRevokedError(
            f"the new key {new_key.id} works"
            + (f" (secret delivered to {new_key.sink.location})" if new_key.sink else "")
            + f", but revoking the old key {key_id} failed ({type(exc).__name__}): both keys "
            f"are usable now; revoke {key_id} yourself.",
            old_key_id=key_id, new_key=new_key, cause=exc,
        ) from exc
    progress.old_key_revoked = True
    log.info("rotated key %s -> %s", key_id, new_key.id)
    return RotationResult(new_key=new_key, revoked_key_id=key_id, verified=True)


def _successor_failed(old_key_id: str, exc: VeniceKeysError) -> RotationFailedError:
    """Making or delivering the successor failed: what exists now, from the error's data."""
    new_key_id: str | None = None
    revoked = False
    if isinstance(exc, DeliveryFailedError | MalformedSecretError):
        new_key_id, revoked = exc.key_id, bool(exc.revoked)
    elif isinstance(exc, AmbiguousCreateError) and len(exc.orphan_ids) == 1:
        new_key_id = exc.orphan_ids[0]
        revoked = new_key_id in exc.revoked_ids
    if new_key_id is None and not exc.created_key_ids:
        where = "before a successor existed"
    else:
        where = "after a successor was made"
    return RotationFailedError(
        f"rotation stopped {where}: {exc} The old key {old_key_id} was left unchanged.",
        old_key_id=old_key_id, new_key_id=new_key_id, successor_revoked=revoked, cause=exc,
    )

