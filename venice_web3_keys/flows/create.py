"""Admin key creation that never leaves two usable keys or a silent orphan.

Venice documents no idempotency key for POST /api_keys, so a create is never re-sent. When the
outcome is ambiguous (timeout, dropped connection, 5xx, unreadable body) the account's key list is
compared with a snapshot taken just before the POST: a new key with our description is an orphan
whose secret is lost, so it is revoked and the caller is told exactly that.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from venice_web3_keys.errors import (
    AmbiguousCreateError,
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    DeliveryFailedError,
    InternalServerError,
    MalformedSecretError,
)
from venice_web3_keys.flows._result import NewKey
from venice_web3_keys.secret import get_logger

if TYPE_CHECKING:
    from venice_web3_keys.client.async_client import AsyncVeniceClient
    from venice_web3_keys.models import ApiKey, CreatedKey, KeySpec
    from venice_web3_keys.secret import ApiKeySecret
    from venice_web3_keys.sinks import SecretSink, SinkReceipt

log = get_logger("venice_web3_keys.flows.create")

# After a timeout the server may still be working on the request: look again a few times.
SETTLE_DELAYS: Sequence[float] = (0.5, 1.0, 2.0)


def is_ambiguous(exc: BaseException) -> bool:
    """True when a key-creating POST may or may not have created a key."""
    if isinstance(exc, MalformedSecretError):
        return False  # the key is known (its id came back): see discard_malformed
    if isinstance(exc, APIConnectionError | InternalServerError | APIResponseValidationError):
        return True  # includes timeouts and 2xx bodies the client could not read
    if isinstance(exc, APIStatusError):
        return False  # a 4xx is a definite refusal: nothing was created
    return isinstance(exc, APIError)


def _describe(exc: BaseException) -> str:
    status = getattr(exc, "status_code", None)
    if isinstance(status, int) and 200 <= status < 300:
        return "an unreadable response"  # a success status whose body could not be read
    return f"{type(exc).__name__}" + (f" {status}" if status else "")


def matches_spec(key: ApiKey, spec: KeySpec) -> bool:
    """Could `key` be the one our POST made? Every setting we sent must agree.

    Matching on the description alone could revoke a key another client made at the same moment
    with the same description; comparing type, caps, period and privacy narrows that to a key
    that is indistinguishable from ours (and more than one candidate is never revoked).
    """
    if key.description != spec.description or str(key.api_key_type) != str(spec.api_key_type):
        return False
    limits = key.consumption_limits
    for sent, have in ((spec.usd_limit, limits.usd if limits else None),
                       (spec.diem_limit, limits.diem if limits else None)):
        if sent is not None and (have is None or float(have) != float(sent)):
            return False
    if spec.limit_period is not None and key.limit_period != spec.limit_period:
        return False
    return spec.model_privacy is None or key.model_privacy == spec.model_privacy


async def snapshot_ids(client: AsyncVeniceClient) -> set[str]:
    """Ids of the account's keys right now (taken before a create POST)."""
    return {k.id for k in await client.list_keys()}


async def reconcile(
    client: AsyncVeniceClient,
    *,
    snapshot: set[str] | None,
    spec: KeySpec,
    cause: BaseException,
    what: str,
    unknown_hint: str,
    settle_delays: Sequence[float] = SETTLE_DELAYS,
) -> None:
    """Establish what an ambiguous POST did. Raises AmbiguousCreateError unless no key was made.

    Returns normally only when the server answered (5xx / bad body) and no new key exists, i.e.
    the caller may re-raise the original error with the assurance that nothing was created.
    """
    kind = _describe(cause)
    if snapshot is None:
        raise AmbiguousCreateError(
            f"{what} failed ambiguously ({kind}); whether a key was created is unknown. "
            f"{unknown_hint}",
            cause=cause,
        ) from cause
    timed_out = isinstance(cause, APIConnectionError)
    delays = [0.0, *settle_delays] if timed_out else [0.0]
    found: list[str] = []
    for delay in delays:
        if delay:
            await asyncio.sleep(delay)
        try:
            keys = await client.list_keys()
        except APIError as exc:
            raise AmbiguousCreateError(
                f"{what} failed ambiguously ({kind}) and the key list could not be read to "
                f"check ({_describe(exc)}). {unknown_hint}",
                cause=cause,
            ) from cause
        found = [k.id for k in keys if k.id not in snapshot and matches_spec(k, spec)]
        if found:
            break
    if not found:
        if timed_out:
            raise AmbiguousCreateError(
                f"{what} timed out ({kind}); no new key described {spec.description!r} has "
                f"appeared. If one appears later its secret is lost: revoke it.",
                cause=cause,
            ) from cause
        log.info("%s failed (%s); checked the key list: no key was created", what, kind)
        return
    if len(found) > 1:
        raise AmbiguousCreateError(
            f"{what} failed ambiguously ({kind}) and {len(found)} new keys described "
            f"{spec.description!r} appeared ({', '.join(found)}); they were NOT revoked because "
            f"another client may own some of them. Revoke the one(s) you do not use.",
            orphan_ids=found,
            cause=cause,
        ) from cause
    orphan = found[0]
    try:
        await client.delete_key(orphan)
    except APIError as exc:
        raise AmbiguousCreateError(
            f"{what} failed ({kind}) after the server created key {orphan}, whose secret was "
            f"lost; revoking it failed ({_describe(exc)}), so it was NOT revoked: revoke it "
            f"with `venice-keys keys revoke {orphan}`.",
            orphan_ids=[orphan],
            cause=cause,
        ) from cause
    log.warning("revoked orphan key %s: %s failed ambiguously (%s)", orphan, what, kind)
    raise AmbiguousCreateError(
        f"{what} failed ({kind}) after the server created key {orphan}, whose secret was lost; "
        f"that key was revoked, so no usable key was left behind. It is safe to try again.",
        orphan_ids=[orphan],
        revoked_ids=[orphan],
        cause=cause,
    ) from cause


def _scrub(text: str, secret: ApiKeySecret) -> str:
    value = secret.reveal()
    return text.replace(value, str(secret)) if value else text


async def revoke_unusable(revoker: AsyncVeniceClient | None, key_id: str) -> tuple[bool, str]:
    """Revoke a key whose secret nobody holds: (revoked?, what to tell the user about it)."""
    if revoker is None:
        return False, (f"no admin key is configured to revoke it, so key {key_id} was NOT "
                       "revoked and still exists with its secret lost: revoke it from your "
                       "Venice account")
    try:
        await revoker.delete_key(key_id)
    except APIError as exc:
        return False, (f"revoking it failed ({_describe(exc)}), so key {key_id} was NOT revoked "
                       f"and still exists with its secret lost: revoke it with "
                       f"`venice-keys keys revoke {key_id}`")
    log.warning("revoked key %s: its secret could not be used", key_id)
    return True, f"key {key_id} was revoked, so nothing usable was left behind"


async def deliver(
    sink: SecretSink | None,
    created: CreatedKey,
    *,
    revoker: AsyncVeniceClient | None,
) -> SinkReceipt | None:
    """Hand the secret to the sink; if that fails, revoke the key when we can and say so."""
    if sink is None:
        return None
    try:
        return sink.deliver(created.secret, key_id=created.id)
    except Exception as exc:
        reason = _scrub(f"{type(exc).__name__}: {exc}", created.secret)
        where = f"{sink.kind} sink {sink.location}"
        revoked, fate = await revoke_unusable(revoker, created.id)
        raise DeliveryFailedError(
            f"could not deliver the secret of new key {created.id} to {where} ({reason}); "
            f"{fate}.",
            key_id=created.id, revoked=revoked,
        ) from None


async def discard_malformed(exc: MalformedSecretError, *, revoker: AsyncVeniceClient | None,
                            snapshot: set[str] | None) -> MalformedSecretError:
    """The error to raise for a new key whose secret is not key-shaped, after revoking it.

    The id came from the same answer as the bad secret; a key that was already in the
    snapshot taken before the POST is not ours to revoke.
    """
    if snapshot is not None and exc.key_id in snapshot:
        revoked, fate = False, (f"the answer named key {exc.key_id}, which existed before this "
                                "request, so it was NOT revoked; check your keys")
    else:
        revoked, fate = await revoke_unusable(revoker, exc.key_id)
    return MalformedSecretError(
        f"{exc}; {fate}. Nothing was written.", key_id=exc.key_id, revoked=revoked,
        status_code=exc.status_code, method=exc.method, path=exc.path)


def abort_quietly(sink: SecretSink | None) -> None:
    """Undo sink.prepare() without masking the error that got us here."""
    if sink is None:
        return
    try:
        sink.abort()
    except Exception:  # the original error matters more than a failed clean-up
        log.warning("could not undo the %s sink at %s", sink.kind, sink.location, exc_info=True)


async def create_key(
    client: AsyncVeniceClient,
    spec: KeySpec,
    *,
    sink: SecretSink | None = None,
    sink_prepared: bool = False,
    settle_delays: Sequence[float] = SETTLE_DELAYS,
    check_snapshot: Callable[[list[ApiKey]], None] | None = None,
) -> NewKey:
    """POST /api_keys once; deliver the secret; reconcile an ambiguous outcome (see module doc).

    `check_snapshot` sees the key list taken just before the POST and may raise to call the
    create off (e.g. a key for that customer appeared meanwhile); nothing is sent then.
    """
    if sink is not None and not sink_prepared:
        sink.prepare()
    delivered = False
    try:
        keys = await client.list_keys()
        if check_snapshot is not None:
            check_snapshot(keys)
        snapshot = {k.id for k in keys}
        try:
            created = await client.create_key(spec)
        except MalformedSecretError as exc:
            raise await discard_malformed(exc, revoker=client, snapshot=snapshot) from None
        except Exception as exc:
            if not is_ambiguous(exc):
                raise
            await reconcile(
                client,
                snapshot=snapshot,
                spec=spec,
                cause=exc,
                what="creating the key",
                unknown_hint="",
                settle_delays=settle_delays,
            )
            exc.add_note("Checked the account's keys afterwards: no key was created.")
            raise
        receipt = await deliver(sink, created, revoker=client)
        delivered = True
        return NewKey.from_created(created, sink=receipt)
    finally:
        if not delivered:
            abort_quietly(sink)

