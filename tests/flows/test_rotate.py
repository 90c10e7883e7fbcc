"""Rotation: successor with identical settings, verified with its own secret, then old revoked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fakes import fake_key
from venice_web3_keys.api import AsyncVeniceKeys
from venice_web3_keys.errors import (
    ActiveKeyLimitError,
    DeliveryFailedError,
    KeyNotFoundError,
    OldKeyNotRevokedError,
    RotationFailedError,
    VeniceKeysError,
)
from venice_web3_keys.sandbox.emulator.faults import Fault
from venice_web3_keys.sinks import EnvFileSink, FileSink


async def _old_key(vk: AsyncVeniceKeys, description: str = "svc-a") -> str:
    key = await vk.create_key(api_key_type="INFERENCE", description=description, usd_limit=7,
                              diem_limit=3, limit_period="MONTH", model_privacy="PRIVATE_TEXT",
                              expires_at="20d")
    return key.id


async def test_rotate_keeps_settings_verifies_then_revokes(vk: AsyncVeniceKeys, tmp_path: Path,
                                                           request_log: Any) -> None:
    old_id = await _old_key(vk)
    old = await vk.get_key(old_id)
    out = tmp_path / "rotated"
    log = request_log()
    result = await vk.rotate_key(old_id, sink=FileSink(out))
    routes = log.routes()

    assert result.verified and result.revoked_key_id == old_id
    new = await vk.get_key(result.new_key.id)
    for field in ("api_key_type", "description", "consumption_limits", "limit_period",
                  "model_privacy", "expires_at"):
        assert getattr(new, field) == getattr(old, field), field
    assert out.read_text().strip() == result.new_key.secret.reveal()
    with pytest.raises(KeyNotFoundError):
        await vk.get_key(old_id)
    # Order: read old, snapshot, POST, verify with the NEW key, revoke old.
    assert routes == [f"GET /api_keys/{old_id}", "GET /api_keys", "POST /api_keys",
                      "GET /api_keys/rate_limits", "DELETE /api_keys"]


async def test_rotate_with_a_new_description(vk: AsyncVeniceKeys) -> None:
    old_id = await _old_key(vk, "svc-b")
    result = await vk.rotate_key(old_id, description="svc-b v2")
    assert result.new_key.description == "svc-b v2"
    assert (await vk.get_key(result.new_key.id)).description == "svc-b v2"


async def test_failed_verification_revokes_the_new_key_and_keeps_the_old(
        venice_sandbox: Any, vk: AsyncVeniceKeys, tmp_path: Path) -> None:
    old_id = await _old_key(vk, "svc-c")
    venice_sandbox.emulator.faults.add("GET /api_keys/rate_limits",
                                       Fault.error(401, {"error": "Authentication failed"}))
    with pytest.raises(RotationFailedError) as info:
        await vk.rotate_key(old_id, sink=FileSink(tmp_path / "r"))
    assert "was revoked" in str(info.value) and old_id in str(info.value)
    assert info.value.old_key_id == old_id and info.value.successor_revoked is True
    assert info.value.new_key_id is not None  # failed after the successor existed
    ids = [k.id for k in await vk.list_keys() if k.description == "svc-c"]
    assert ids == [old_id]  # old untouched, successor gone


async def test_rotate_validates_before_any_request(vk: AsyncVeniceKeys, request_log: Any,
                                                   tmp_path: Path) -> None:
    from venice_web3_keys.errors import InvalidInputError

    log = request_log()
    with pytest.raises(InvalidInputError):
        await vk.rotate_key(fake_key("INFERENCE", "pasted"))
    with pytest.raises(InvalidInputError):
        await vk.rotate_key("e28e82dc-9df2-4b47-b726-d0a222ef2ab5", description="x" * 65)
    assert log.entries() == []


async def test_old_key_revoke_failure_reports_both_usable(venice_sandbox: Any,
                                                          vk: AsyncVeniceKeys) -> None:
    old_id = await _old_key(vk, "svc-d")
    venice_sandbox.emulator.faults.add("DELETE /api_keys", Fault.error(500))
    with pytest.raises(OldKeyNotRevokedError) as info:
        await vk.rotate_key(old_id)
    new_key = info.value.new_key
    assert info.value.old_key_id == old_id and info.value.created_key_ids == (new_key.id,)
    assert new_key.secret.reveal() not in str(info.value)
    assert f"revoke {old_id} yourself" in str(info.value)
    assert {k.id for k in await vk.list_keys() if k.description == "svc-d"} == {old_id,
                                                                               new_key.id}


async def test_unexpected_error_during_verification_still_revokes_the_successor(
        vk: AsyncVeniceKeys, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not only API refusals: any failure while proving the successor must not leave two keys."""
    old_id = await _old_key(vk, "svc-e")

    async def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("bug in verification")

    monkeypatch.setattr(vk.client, "rate_limits", broken)
    with pytest.raises(VeniceKeysError) as info:
        await vk.rotate_key(old_id)
    assert "was revoked" in str(info.value)
    ids = [k.id for k in await vk.list_keys() if k.description == "svc-e"]
    assert ids == [old_id]


async def test_unknown_old_key_fails_before_creating_and_removes_the_prepared_file(
        vk: AsyncVeniceKeys, request_log: Any, tmp_path: Path) -> None:
    out = tmp_path / "never"
    log = request_log()
    with pytest.raises(KeyNotFoundError):
        await vk.rotate_key("e28e82dc-9df2-4b47-b726-d0a222ef2ab5", sink=FileSink(out))
    assert not out.exists()
    assert log.routes() == ["GET /api_keys/e28e82dc-9df2-4b47-b726-d0a222ef2ab5"]


async def test_unproven_successor_that_cannot_be_revoked_is_named(
        venice_sandbox: Any, vk: AsyncVeniceKeys) -> None:
    old_id = await _old_key(vk, "svc-f")
    faults = venice_sandbox.emulator.faults
    faults.add("GET /api_keys/rate_limits", Fault.error(401, {"error": "Authentication failed"}))
    faults.add("DELETE /api_keys", Fault.error(500))
    with pytest.raises(RotationFailedError) as info:
        await vk.rotate_key(old_id)
    both = {k.id for k in await vk.list_keys() if k.description == "svc-f"}
    (new_id,) = both - {old_id}
    assert (info.value.new_key_id, info.value.successor_revoked) == (new_id, False)
    assert f"revoking it failed too: revoke {new_id} yourself" in str(info.value)
    assert f"The old key {old_id} was left unchanged" in str(info.value)


async def test_refused_successor_fails_before_a_successor_existed(
        venice_sandbox: Any, vk: AsyncVeniceKeys) -> None:
    old_id = await _old_key(vk, "svc-i")
    venice_sandbox.emulator.faults.add("POST /api_keys", Fault.error(
        400, {"error": "You have reached the maximum of 500 active API keys"}))
    with pytest.raises(RotationFailedError) as info:
        await vk.rotate_key(old_id)
    assert (info.value.new_key_id, info.value.created_key_ids) == (None, ())
    assert isinstance(info.value.cause, ActiveKeyLimitError)
    assert [k.id for k in await vk.list_keys() if k.description == "svc-i"] == [old_id]


async def test_successor_whose_delivery_fails_is_revoked_and_reported(
        vk: AsyncVeniceKeys, tmp_path: Path) -> None:
    import fcntl
    import os

    old_id = await _old_key(vk, "svc-j")
    fd = os.open(tmp_path / ".env.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # another writer holds the .env for too long
        with pytest.raises(RotationFailedError) as info:
            await vk.rotate_key(old_id, sink=EnvFileSink(tmp_path / ".env", "K",
                                                         lock_timeout=0.2))
    finally:
        os.close(fd)
    assert info.value.successor_revoked is True and info.value.new_key_id is not None
    assert isinstance(info.value.cause, DeliveryFailedError)
    assert [k.id for k in await vk.list_keys() if k.description == "svc-j"] == [old_id]


async def test_cancelled_verification_revokes_the_successor_then_cancels(
        venice_sandbox: Any, vk: AsyncVeniceKeys, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C while the new key is being proven: no second usable key is left behind."""
    import asyncio

    old_id = await _old_key(vk, "svc-g")
    venice_sandbox.emulator.faults.add("GET /api_keys/rate_limits", Fault(hang=30))
    verifying = asyncio.Event()
    real = vk.client.rate_limits

    async def observed(*args: Any, **kwargs: Any) -> Any:
        verifying.set()
        return await real(*args, **kwargs)  # held open by the hang fault

    monkeypatch.setattr(vk.client, "rate_limits", observed)
    task = asyncio.create_task(vk.rotate_key(old_id))
    await asyncio.wait_for(verifying.wait(), 10)
    await asyncio.sleep(0.1)  # the verification request is on the wire
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [k.id for k in await vk.list_keys() if k.description == "svc-g"] == [old_id]


async def test_old_key_already_revoked_elsewhere_still_completes(
        venice_sandbox: Any, account: Any, vk: AsyncVeniceKeys,
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    old_id = await _old_key(vk, "svc-h")
    real = vk.client.rate_limits

    async def revoked_meanwhile(*args: Any, **kwargs: Any) -> Any:
        venice_sandbox.emulator.delete_key(account.address, old_id)  # another admin's revoke
        return await real(*args, **kwargs)

    monkeypatch.setattr(vk.client, "rate_limits", revoked_meanwhile)
    with caplog.at_level("INFO", logger="venice_web3_keys.flows.rotate"):
        result = await vk.rotate_key(old_id)
    assert result.verified and result.revoked_key_id == old_id
    assert f"old key {old_id} was already gone" in caplog.text
    assert [k.id for k in await vk.list_keys() if k.description == "svc-h"] == [
        result.new_key.id]
