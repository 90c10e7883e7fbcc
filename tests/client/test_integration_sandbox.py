"""The client against the sandbox emulator over real loopback HTTP (and a real anvil)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from tests.client.helpers import Sleeps
from tests.fakes import fake_key
from venice_web3_keys import errors
from venice_web3_keys.client import AsyncVeniceClient, VeniceClient
from venice_web3_keys.models import KeySpec, KeyUpdate
from venice_web3_keys.secret import SecretValue

if TYPE_CHECKING:
    from venice_web3_keys.sandbox.runner import Sandbox

SPEC = KeySpec(api_key_type="INFERENCE", description="integration", usd_limit=5,
               diem_limit=2, limit_period="MONTH", model_privacy="PRIVATE_ONLY",
               expires_at="2099-12-31")


def _count(sandbox: Sandbox, route: str) -> int:
    return sum(1 for r in sandbox.emulator.requests() if r.route == route)


async def _sent(sandbox: Sandbox, route: str, before: int, expected: int) -> int:
    """Requests to `route` since `before`, once the log settles.

    A request whose answer never came (a hang) is logged only when the emulator gives up on
    it: wait for `expected`, then a little longer so that an extra (unwanted) request would
    show up too.
    """
    import asyncio

    for _ in range(100):
        if _count(sandbox, route) - before >= expected:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.15)
    return _count(sandbox, route) - before


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def admin(venice_sandbox: Sandbox, sleeps: Sleeps) -> AsyncIterator[AsyncVeniceClient]:
    _, secret = venice_sandbox.emulator.create_account_with_admin_key()
    client = AsyncVeniceClient(venice_sandbox.api_base_url, admin_key=secret, timeout=5,
                               sleep=sleeps)
    yield client
    await client.aclose()


async def test_key_lifecycle_every_admin_route(admin: AsyncVeniceClient,
                                               venice_sandbox: Sandbox) -> None:
    created = await admin.create_key(SPEC)
    assert created.api_key_type == "INFERENCE" and created.description == "integration"
    assert created.secret.reveal().startswith("VENICE_INFERENCE_KEY_")

    listed = await admin.list_keys()
    assert created.id in {k.id for k in listed}

    key = await admin.get_key(created.id)
    assert key.consumption_limits is not None
    assert key.consumption_limits.usd == 5 and key.consumption_limits.diem == 2
    assert key.limit_period == "MONTH" and key.model_privacy == "PRIVATE_ONLY"
    assert key.expires_at is not None and key.expires_at.date().isoformat() == "2099-12-31"
    assert key.expires_at.tzinfo is not None and key.expires_at.utcoffset() == timedelta(0)
    assert key.last6_chars == created.secret.last6

    updated = await admin.update_key(KeyUpdate(id=created.id, description="renamed",
                                               usd_limit=None, expires_at=None,
                                               limit_period="LIFETIME"))
    assert updated.description == "renamed" and updated.expires_at is None
    assert updated.consumption_limits is not None and updated.consumption_limits.usd is None
    assert updated.consumption_limits.diem == 2 and updated.limit_period == "LIFETIME"

    limits = await admin.rate_limits(created.secret)
    assert limits.access_permitted is not None and isinstance(limits.rate_limits, list)
    own = await admin.rate_limits()
    assert own.api_tier is not None

    venice_sandbox.emulator.record_rate_limit_event(created.id)
    log = await admin.rate_limit_log()
    assert log[0].api_key_id == created.id and log[0].rate_limit_type == "RPM"

    await admin.delete_key(created.id)
    with pytest.raises(errors.KeyNotFoundError):
        await admin.get_key(created.id)
    with pytest.raises(errors.KeyNotFoundError):
        await admin.delete_key(created.id)
    with pytest.raises(errors.KeyNotFoundError):
        await admin.update_key(KeyUpdate(id=created.id, description="x"))


async def test_billing_balance(venice_sandbox: Sandbox) -> None:
    address = "0x" + "ab" * 20
    _, secret = venice_sandbox.emulator.create_account_with_admin_key(address)
    venice_sandbox.emulator.set_balances(address, usd="25", diem="90.5",
                                         diem_epoch_allocation=100)
    async with AsyncVeniceClient(venice_sandbox.api_base_url, admin_key=secret) as client:
        bal = await client.billing_balance()
    assert bal.balances.usd == Decimal(25) and bal.balances.diem == Decimal("90.5")
    assert bal.diem_epoch_allocation == Decimal(100)


async def test_inference_key_on_admin_route_and_bad_key(admin: AsyncVeniceClient,
                                                        venice_sandbox: Sandbox) -> None:
    created = await admin.create_key(KeySpec(api_key_type="INFERENCE", description="inf"))
    async with AsyncVeniceClient(venice_sandbox.api_base_url,
                                 admin_key=created.secret) as weak:
        with pytest.raises(errors.AdminKeyRequiredError):
            await weak.list_keys()
        assert (await weak.rate_limits()).api_tier is not None  # any key type may read its own
    with pytest.raises(errors.AuthenticationError):
        await admin.rate_limits(SecretValue(fake_key("INFERENCE", "doesnotexist")))


async def test_server_side_validation_maps_field_errors(admin: AsyncVeniceClient) -> None:
    # Bypass local validation to see how Venice's DetailedError is mapped.
    bad = KeySpec.model_construct(api_key_type="INFERENCE", description="x" * 80,
                                  expires_at=None, usd_limit=None, diem_limit=None,
                                  limit_period=None, model_privacy=None)
    with pytest.raises(errors.ValidationError) as info:
        await admin.create_key(bad)
    assert "description" in info.value.field_errors


@pytest.mark.parametrize("route", ["POST /api_keys", "PATCH /api_keys"])
async def test_plain_string_details_map_to_validation_error(
        admin: AsyncVeniceClient, venice_sandbox: Sandbox, route: str) -> None:
    """Venice sometimes sends DetailedError `details` as a plain string, not a zod tree."""
    from venice_web3_keys.sandbox.emulator.faults import Fault

    key = await admin.create_key(KeySpec(api_key_type="INFERENCE", description="before"))
    keys_before = {k.id for k in await admin.list_keys()}
    venice_sandbox.emulator.faults.add(route, Fault.detailed_error("expiresAt must be later"))
    with pytest.raises(errors.ValidationError) as info:
        if route.startswith("POST"):
            await admin.create_key(KeySpec(api_key_type="INFERENCE", description="s"))
        else:
            await admin.update_key(KeyUpdate(id=key.id, description="after"))
    err = info.value
    assert err.status_code == 400
    assert err.field_errors == {"_root": ["expiresAt must be later"]}
    assert str(err) == (f"{route}: 400 Invalid request parameters (expiresAt must be later)")
    assert {k.id for k in await admin.list_keys()} == keys_before  # the fault acted first
    assert (await admin.get_key(key.id)).description == "before"


@pytest.mark.parametrize("variant", ["jwt", "siwe"])
async def test_web3_mint_both_variants(venice_sandbox: Sandbox, variant: str) -> None:
    from venice_web3_keys.signer import PrivateKeySigner

    venice_sandbox.emulator.mint_variant = variant
    address, private_key = venice_sandbox.new_wallet()
    signer = PrivateKeySigner(private_key)
    async with AsyncVeniceClient(venice_sandbox.api_base_url) as client:
        challenge = await client.get_web3_challenge(address)
        assert challenge.variant == variant
        minted = await client.mint_web3_key(
            address=address, signature=signer.sign_message(challenge.signing_text),
            challenge=challenge, spec=KeySpec(api_key_type="ADMIN", description="minted"))
    assert minted.api_key_type == "ADMIN"
    web3 = [r for r in venice_sandbox.emulator.requests()
            if r.route and r.route.endswith("generate_web3_key")][-2:]
    assert [(r.method, r.has_auth, r.status) for r in web3] == [
        ("GET", False, 200), ("POST", False, 200)]
    assert f"address={address}" in web3[0].query or address.lower() in web3[0].query.lower()
    # The minted ADMIN key manages its own account.
    async with AsyncVeniceClient(venice_sandbox.api_base_url, admin_key=minted.secret) as own:
        assert minted.id in {k.id for k in await own.list_keys()}


async def test_mint_refusals_are_mapped(venice_sandbox: Sandbox) -> None:
    from venice_web3_keys.signer import PrivateKeySigner

    poor, poor_key = venice_sandbox.new_wallet(svvv=0)
    other, _ = venice_sandbox.new_wallet()
    spec = KeySpec(api_key_type="INFERENCE", description="m")
    async with AsyncVeniceClient(venice_sandbox.api_base_url) as client:
        ch = await client.get_web3_challenge(poor)
        with pytest.raises(errors.NoStakedVVVError):
            await client.mint_web3_key(address=poor, spec=spec, challenge=ch,
                                       signature=PrivateKeySigner(poor_key).sign_message(
                                           ch.signing_text))
        ch = await client.get_web3_challenge(other)
        with pytest.raises(errors.SignatureMismatchError):
            await client.mint_web3_key(address=other, spec=spec, challenge=ch,
                                       signature=PrivateKeySigner(poor_key).sign_message(
                                           ch.signing_text))


# ------------------------------------------------------------------ faults and retries


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
async def test_get_retried_on_injected_errors(admin: AsyncVeniceClient, venice_sandbox: Sandbox,
                                              sleeps: Sleeps, status: int) -> None:
    from venice_web3_keys.sandbox.emulator.faults import Fault

    venice_sandbox.emulator.faults.add("GET /api_keys", Fault.error(status), times=2)
    before = _count(venice_sandbox, "GET /api_keys")
    await admin.list_keys()
    assert await _sent(venice_sandbox, "GET /api_keys", before, 3) == 3
    assert len(sleeps.calls) == 2


async def test_get_gives_up_after_two_retries(admin: AsyncVeniceClient,
                                              venice_sandbox: Sandbox) -> None:
    from venice_web3_keys.sandbox.emulator.faults import Fault

    venice_sandbox.emulator.faults.add("GET /billing/balance", Fault.error(503), times=5)
    before = _count(venice_sandbox, "GET /billing/balance")
    with pytest.raises(errors.InternalServerError):
        await admin.billing_balance()
    assert await _sent(venice_sandbox, "GET /billing/balance", before, 3) == 3


async def test_get_honours_retry_after(admin: AsyncVeniceClient, venice_sandbox: Sandbox,
                                       sleeps: Sleeps) -> None:
    from venice_web3_keys.sandbox.emulator.faults import Fault

    venice_sandbox.emulator.faults.add("GET /api_keys/rate_limits", Fault.rate_limited(3))
    await admin.rate_limits()
    assert sleeps.calls == [3.0]


async def test_get_retried_after_dropped_connection(admin: AsyncVeniceClient,
                                                    venice_sandbox: Sandbox) -> None:
    from venice_web3_keys.sandbox.emulator.faults import Fault

    venice_sandbox.emulator.faults.add("GET /api_keys", Fault(drop=True))
    before = _count(venice_sandbox, "GET /api_keys")
    await admin.list_keys()
    assert await _sent(venice_sandbox, "GET /api_keys", before, 2) == 2


async def test_get_retried_after_timeout(venice_sandbox: Sandbox, sleeps: Sleeps) -> None:
    from venice_web3_keys.sandbox.emulator.faults import Fault

    _, secret = venice_sandbox.emulator.create_account_with_admin_key()
    venice_sandbox.emulator.faults.add("GET /api_keys/rate_limits/log", Fault(hang=1.0))
    async with AsyncVeniceClient(venice_sandbox.api_base_url, admin_key=secret, timeout=0.3,
                                 sleep=sleeps) as client:
        assert await client.rate_limit_log() == []
    assert len(sleeps.calls) == 1


@pytest.mark.parametrize(("fault_kwargs", "error"), [
    ({"status": 500}, errors.InternalServerError),
    ({"status": 503}, errors.InternalServerError),
    ({"status": 500, "commit": True}, errors.InternalServerError),
    ({"drop": True, "commit": True}, errors.APIConnectionError),
])
async def test_post_with_injected_failure_sent_exactly_once(
        admin: AsyncVeniceClient, venice_sandbox: Sandbox, sleeps: Sleeps,
        fault_kwargs: dict[str, object], error: type[Exception]) -> None:
    from venice_web3_keys.sandbox.emulator.faults import Fault

    venice_sandbox.emulator.faults.add("POST /api_keys", Fault(**fault_kwargs))  # type: ignore[arg-type]
    before = _count(venice_sandbox, "POST /api_keys")
    with pytest.raises(error):
        await admin.create_key(SPEC)
    assert await _sent(venice_sandbox, "POST /api_keys", before, 1) == 1
    assert sleeps.calls == []


async def test_post_timeout_not_resent(venice_sandbox: Sandbox, sleeps: Sleeps) -> None:
    from venice_web3_keys.sandbox.emulator.faults import Fault

    _, secret = venice_sandbox.emulator.create_account_with_admin_key()
    venice_sandbox.emulator.faults.add("POST /api_keys", Fault.commit_then_hang(1.0))
    async with AsyncVeniceClient(venice_sandbox.api_base_url, admin_key=secret, timeout=0.3,
                                 sleep=sleeps) as client:
        before = _count(venice_sandbox, "POST /api_keys")
        with pytest.raises(errors.APITimeoutError):
            await client.create_key(SPEC)
        assert await _sent(venice_sandbox, "POST /api_keys", before, 1) == 1
        # The key was committed: the ambiguity the flows must reconcile.
        assert len(await client.list_keys()) == 2


async def test_malformed_create_body_is_ambiguous_and_leaks_nothing(
        admin: AsyncVeniceClient, venice_sandbox: Sandbox) -> None:
    from venice_web3_keys.sandbox.emulator.faults import Fault

    venice_sandbox.emulator.faults.add("POST /api_keys", Fault.malformed_body(commit=True))
    with pytest.raises(errors.APIResponseValidationError) as info:
        await admin.create_key(SPEC)
    err = info.value
    assert "VENICE_INFERENCE_KEY" not in f"{err} {err!r} {err.body!r}"


async def test_mint_post_with_injected_500_sent_once(venice_sandbox: Sandbox) -> None:
    from venice_web3_keys.sandbox.emulator.faults import Fault
    from venice_web3_keys.signer import PrivateKeySigner

    address, private_key = venice_sandbox.new_wallet()
    venice_sandbox.emulator.faults.add("POST /api_keys/generate_web3_key",
                                       Fault.commit_then_fail(500))
    route = "POST /api_keys/generate_web3_key"
    async with AsyncVeniceClient(venice_sandbox.api_base_url, sleep=Sleeps()) as client:
        ch = await client.get_web3_challenge(address)
        before = _count(venice_sandbox, route)
        with pytest.raises(errors.InternalServerError):
            await client.mint_web3_key(
                address=address, challenge=ch, spec=KeySpec(api_key_type="INFERENCE",
                                                            description="m"),
                signature=PrivateKeySigner(private_key).sign_message(ch.signing_text))
    assert await _sent(venice_sandbox, route, before, 1) == 1


def test_sync_client_against_sandbox(venice_sandbox: Sandbox) -> None:
    _, secret = venice_sandbox.emulator.create_account_with_admin_key()
    with VeniceClient(venice_sandbox.api_base_url, admin_key=secret) as client:
        created = client.create_key(KeySpec(api_key_type="INFERENCE", description="sync"))
        assert client.get_key(created.id).description == "sync"
        client.delete_key(created.id)
        assert created.id not in {k.id for k in client.list_keys()}
