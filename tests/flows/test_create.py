"""Admin create with reconciliation: one POST at most, never two usable keys, no silent orphan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.harness import SandboxAccount, sandbox_settings
from venice_web3_keys.api import AsyncVeniceKeys
from venice_web3_keys.errors import (
    AmbiguousCreateError,
    BadRequestError,
    InternalServerError,
    InvalidInputError,
)
from venice_web3_keys.sandbox.emulator.faults import Fault
from venice_web3_keys.sinks import FileSink

POST = "POST /api_keys"


async def _described(vk: AsyncVeniceKeys, description: str) -> list[str]:
    return [k.id for k in await vk.list_keys() if k.description == description]


async def test_create_delivers_to_a_new_0600_file(vk: AsyncVeniceKeys, tmp_path: Path,
                                                  request_log: Any) -> None:
    out = tmp_path / "k"
    log = request_log()
    key = await vk.create_key(api_key_type="INFERENCE", description="plain", usd_limit=3,
                              limit_period="LIFETIME", sink=FileSink(out))
    assert out.read_text().strip() == key.secret.reveal()
    assert out.stat().st_mode & 0o777 == 0o600
    assert key.consumption_limits is not None and key.consumption_limits.usd == 3
    assert log.routes() == ["GET /api_keys", "POST /api_keys"]  # snapshot, then one POST


async def test_commit_then_500_revokes_the_orphan(venice_sandbox: Any, vk: AsyncVeniceKeys,
                                                  request_log: Any, tmp_path: Path) -> None:
    venice_sandbox.emulator.faults.add(POST, Fault.commit_then_fail(500))
    log = request_log()
    out = tmp_path / "k"
    with pytest.raises(AmbiguousCreateError) as info:
        await vk.create_key(api_key_type="INFERENCE", description="orphan-500",
                            sink=FileSink(out))
    err = info.value
    assert len(err.orphan_ids) == 1 and err.revoked_ids == err.orphan_ids
    assert f"key {err.orphan_ids[0]}" in str(err) and "was revoked" in str(err)
    assert isinstance(err.cause, InternalServerError)
    assert log.count("POST", "/api_keys") == 1
    assert log.count("DELETE", "/api_keys") == 1
    assert await _described(vk, "orphan-500") == []
    assert not out.exists()


async def test_latency_beyond_timeout_is_checked_without_a_second_post(
        venice_sandbox: Any, account: SandboxAccount, request_log: Any) -> None:
    # The server stalls 1.2 s before reading the request; the client gives up after 0.4 s, so
    # the emulator never creates the key. The flow looks again (a slow server could still
    # commit), finds nothing, and says so instead of guessing; it never re-sends the POST.
    settings = sandbox_settings(venice_sandbox, admin_key=account.admin_key, timeout=0.4)
    venice_sandbox.emulator.faults.add(POST, Fault.slow(1.2))
    log = request_log()
    async with AsyncVeniceKeys(settings) as vk:
        with pytest.raises(AmbiguousCreateError) as info:
            await vk.create_key(api_key_type="INFERENCE", description="slow-create")
        err = info.value
        assert err.orphan_ids == [] and "timed out" in str(err)
        assert await _described(vk, "slow-create") == []
    assert log.count("POST", "/api_keys") == 1
    assert log.count("GET", "/api_keys") >= 3  # snapshot + repeated checks


async def test_commit_then_timeout_revokes_the_orphan(
        venice_sandbox: Any, account: SandboxAccount, request_log: Any) -> None:
    # The server creates the key, then holds the response past the client's 0.4 s timeout.
    settings = sandbox_settings(venice_sandbox, admin_key=account.admin_key, timeout=0.4)
    venice_sandbox.emulator.faults.add(POST, Fault(latency=0.1, hang=2.0, commit=True))
    log = request_log()
    async with AsyncVeniceKeys(settings) as vk:
        with pytest.raises(AmbiguousCreateError) as info:
            await vk.create_key(api_key_type="INFERENCE", description="late-create")
        err = info.value
        assert len(err.orphan_ids) == 1 and err.revoked_ids == err.orphan_ids
        assert await _described(vk, "late-create") == []
    assert log.count("POST", "/api_keys") == 1


async def test_commit_then_hang_and_malformed_body_are_reconciled(
        venice_sandbox: Any, account: SandboxAccount, request_log: Any) -> None:
    settings = sandbox_settings(venice_sandbox, admin_key=account.admin_key, timeout=0.5)
    async with AsyncVeniceKeys(settings) as vk:
        for name, fault in [("hung", Fault.commit_then_hang(3)),
                            ("garbled", Fault.malformed_body(commit=True)),
                            ("dropped", Fault.commit_then_drop())]:
            venice_sandbox.emulator.faults.add(POST, fault)
            log = request_log()
            with pytest.raises(AmbiguousCreateError) as info:
                await vk.create_key(api_key_type="ADMIN", description=name)
            assert info.value.revoked_ids == info.value.orphan_ids != [], name
            assert log.count("POST", "/api_keys") == 1, name
            assert await _described(vk, name) == [], name


async def test_500_before_anything_happened_reports_no_key(
        venice_sandbox: Any, vk: AsyncVeniceKeys, request_log: Any) -> None:
    venice_sandbox.emulator.faults.add(POST, Fault.error(500))
    log = request_log()
    with pytest.raises(InternalServerError) as info:
        await vk.create_key(api_key_type="INFERENCE", description="never-made")
    assert any("no key was created" in note for note in info.value.__notes__)
    assert log.count("POST", "/api_keys") == 1
    assert log.count("DELETE", "/api_keys") == 0


async def test_a_4xx_is_not_ambiguous(venice_sandbox: Any, vk: AsyncVeniceKeys,
                                      request_log: Any) -> None:
    venice_sandbox.emulator.faults.add(POST, Fault.error(400, {"error": "nope"}))
    log = request_log()
    with pytest.raises(BadRequestError):
        await vk.create_key(api_key_type="INFERENCE", description="refused")
    assert log.routes() == ["GET /api_keys", "POST /api_keys"]  # no reconciliation list


async def test_orphan_that_cannot_be_revoked_is_named_as_not_revoked(
        venice_sandbox: Any, vk: AsyncVeniceKeys, request_log: Any) -> None:
    venice_sandbox.emulator.faults.add(POST, Fault.commit_then_fail(503))
    venice_sandbox.emulator.faults.add("DELETE /api_keys", Fault.error(500))
    log = request_log()
    with pytest.raises(AmbiguousCreateError) as info:
        await vk.create_key(api_key_type="INFERENCE", description="stuck-orphan")
    err = info.value
    assert err.revoked_ids == [] and len(err.orphan_ids) == 1
    assert "NOT revoked" in str(err) and err.orphan_ids[0] in str(err)
    assert await _described(vk, "stuck-orphan") == err.orphan_ids
    assert log.count("POST", "/api_keys") == 1
    await vk.revoke_key(err.orphan_ids[0])


def test_orphan_matching_requires_every_setting_we_sent() -> None:
    """A key another client made with our description but other caps is not ours to revoke."""
    from venice_web3_keys.flows.create import matches_spec
    from venice_web3_keys.models import ApiKey, KeySpec

    spec = KeySpec(api_key_type="INFERENCE", description="svc", usd_limit=5,
                   limit_period="MONTH", model_privacy="PRIVATE_ONLY")

    def key(**changes: Any) -> ApiKey:
        data: dict[str, Any] = {
            "id": "e28e82dc-9df2-4b47-b726-d0a222ef2ab5", "apiKeyType": "INFERENCE",
            "description": "svc", "createdAt": None, "expiresAt": None, "lastUsedAt": None,
            "last6Chars": "abcdef", "consumptionLimits": {"usd": 5, "diem": None},
            "limitPeriod": "MONTH", "modelPrivacy": "PRIVATE_ONLY"}
        data.update(changes)
        return ApiKey.model_validate(data)

    assert matches_spec(key(), spec)
    assert not matches_spec(key(description="other"), spec)
    assert not matches_spec(key(apiKeyType="ADMIN"), spec)
    assert not matches_spec(key(consumptionLimits={"usd": 6}), spec)
    assert not matches_spec(key(consumptionLimits={"usd": None}), spec)
    assert not matches_spec(key(limitPeriod="EPOCH"), spec)
    assert not matches_spec(key(modelPrivacy="ALL"), spec)


GRIN = "\N{GRINNING FACE}"  # two UTF-16 code units, as Venice's JavaScript validator counts


async def test_description_length_counts_utf16_units_like_venice(
        vk: AsyncVeniceKeys, request_log: Any) -> None:
    """At the limit (64 units) the library and the emulator agree: 32 emoji or 64 BMP
    characters are made, 64 emoji (128 units) are refused before any request."""
    log = request_log()
    for text in (GRIN * 32, "\N{EURO SIGN}" * 64):
        key = await vk.create_key(api_key_type="INFERENCE", description=text)
        assert key.description == text
        assert (await vk.get_key(key.id)).description == text
        await vk.revoke_key(key.id)
    sent = len(log.routes())
    for text, units in ((GRIN * 64, 128), ("x" * 63 + GRIN, 65)):
        with pytest.raises(InvalidInputError) as info:
            await vk.create_key(api_key_type="INFERENCE", description=text)
        assert info.value.field == "description"
        assert f"{units} UTF-16 code units" in str(info.value) and "at most 64" in str(info.value)
    assert len(log.routes()) == sent  # nothing was sent
