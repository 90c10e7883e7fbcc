"""The public facade: sync twin == async core, lazy imports, local validation, secret canaries."""

from __future__ import annotations

import logging
import subprocess
import sys
import traceback
from typing import Any

import pytest

from tests.harness import SandboxAccount, sandbox_settings
from venice_web3_keys.api import AsyncVeniceKeys, NewKey, VeniceKeys
from venice_web3_keys.errors import (
    AmbiguousCreateError,
    ConfigError,
    InvalidInputError,
    SinkError,
)
from venice_web3_keys.sandbox.emulator.faults import Fault


def _shape(key: NewKey) -> dict[str, Any]:
    public = key.to_public_dict()
    return {k: v for k, v in public.items() if k not in ("id", "last6", "fingerprint")}


async def test_sync_facade_behaves_like_the_async_core(account: SandboxAccount,
                                                       vk: AsyncVeniceKeys) -> None:
    kwargs: dict[str, Any] = dict(api_key_type="INFERENCE", description="twin", usd_limit=4,
                                  limit_period="EPOCH", model_privacy="ALL",
                                  expires_at="2030-12-31")
    a = await vk.create_key(**kwargs)
    a_updated = await vk.update_key(a.id, usd_limit=None, description="twin2")
    with VeniceKeys(account.settings) as sync:
        s = sync.create_key(**kwargs)
        s_updated = sync.update_key(s.id, usd_limit=None, description="twin2")
        assert _shape(s) == _shape(a)
        assert s_updated.consumption_limits == a_updated.consumption_limits
        assert s_updated.description == a_updated.description == "twin2"
        assert {k.id for k in sync.list_keys()} == {k.id for k in await vk.list_keys()}
        assert sync.get_key(a.id).id == a.id
        assert sync.wallet_status() == await vk.wallet_status()
        assert sync.billing_balance() == await vk.billing_balance()
        minted = sync.mint_key(description="sync mint", diem_limit=1)
        assert minted.consumption_limits is not None and minted.consumption_limits.diem == 1
        rotated = sync.rotate_key(minted.id)
        assert rotated.revoked_key_id == minted.id
        cust = sync.provision_customer_key("twin", usd_limit=1)
        assert [k.id for k in sync.customer_keys("twin")] == [cust.id]
        assert sync.revoke_customer_keys("twin") == [cust.id]
        sync.revoke_key(s.id)
        with pytest.raises(InvalidInputError):
            sync.get_key("not-a-uuid")
    await vk.revoke_key(a.id)


def test_sync_facade_has_the_async_surface(account: SandboxAccount) -> None:
    """Every public coroutine of the core has a blocking twin with the same signature and doc."""
    import inspect

    names = {n for n, v in vars(AsyncVeniceKeys).items()
             if not n.startswith("_") and inspect.iscoroutinefunction(v)} - {"aclose"}
    assert {"mint_key", "create_key", "rotate_key", "provision_customer_key"} <= names
    with VeniceKeys(account.settings) as sync:
        for name in sorted(names):
            twin, core = getattr(sync, name), getattr(sync.async_keys, name)
            assert not inspect.iscoroutinefunction(twin), name
            assert inspect.signature(twin) == inspect.signature(core), name
            assert twin.__doc__ == core.__doc__, name


def test_help_on_the_class_shows_the_real_signature_and_doc() -> None:
    """`help(VeniceKeys.create_key)` and `inspect.signature` on the class attribute, as a user
    types them (not `<_sync.blocking object>`)."""
    import inspect
    import pydoc

    for name in ("create_key", "mint_key", "rotate_key", "list_keys", "stake_vvv",
                 "provision_customer_keys"):
        twin, core = getattr(VeniceKeys, name), getattr(AsyncVeniceKeys, name)
        assert callable(twin) and not inspect.iscoroutinefunction(twin), name
        assert inspect.signature(twin).parameters == inspect.signature(core).parameters, name
        text = pydoc.plain(pydoc.render_doc(twin))
        assert "object at 0x" not in text and f"{name}(self" in text, text
        assert (core.__doc__ or "").splitlines()[0] in text, name
    assert str(inspect.signature(VeniceKeys.create_key).return_annotation) == "NewKey"
    assert inspect.signature(VeniceKeys.provision_customer_keys).return_annotation == \
        "list[ProvisionResult]"


def _run_python(code: str, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


HEAVY = ("web3", "eth_account", "eth_keyfile", "httpx", "mcp", "uvicorn")


def test_import_is_light() -> None:
    out = _run_python(
        "import sys, venice_web3_keys as v\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
        "assert v.VeniceKeys and v.AsyncVeniceKeys and v.NewKey and v.AmbiguousCreateError\n"
        "assert v.FileSink and v.load_settings and v.Settings\n"
        "print(sorted(m for m in ('web3', 'eth_account') if m in sys.modules))\n"
    )
    assert out.split("\n")[:2] == ["[]", "[]"]


def test_listing_keys_never_imports_the_wallet_stack(venice_sandbox: Any,
                                                     account: SandboxAccount) -> None:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("VENICE_", "BASE_RPC"))}
    env.update(venice_sandbox.env(account.private_key))
    env["VENICE_ADMIN_KEY"] = account.admin_key.reveal()
    out = _run_python(
        "import sys\nfrom venice_web3_keys import VeniceKeys\n"
        "with VeniceKeys.from_env() as vk:\n    n = len(vk.list_keys())\n"
        "print(n, sorted(m for m in ('web3', 'eth_account') if m in sys.modules))\n", env)
    count, mods = out.strip().split(" ", 1)
    assert int(count) >= 1 and mods == "[]"


BAD_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("create_key", {"api_key_type": "ROOT", "description": "x"}),
    ("create_key", {"api_key_type": "INFERENCE", "description": ""}),
    ("create_key", {"api_key_type": "INFERENCE", "description": "x" * 65}),
    ("create_key", {"api_key_type": "INFERENCE", "description": "x", "usd_limit": -1}),
    ("create_key", {"api_key_type": "INFERENCE", "description": "x", "diem_limit": 1e11}),
    ("create_key", {"api_key_type": "INFERENCE", "description": "x", "expires_at": "2001-01-01"}),
    ("create_key", {"api_key_type": "INFERENCE", "description": "x", "limit_period": "DAILY"}),
    ("create_key", {"api_key_type": "INFERENCE", "description": "x", "model_privacy": "SOME"}),
    ("mint_key", {"expires_at": "soon"}),
    ("mint_key", {"api_key_type": "SUPER"}),
    # An option splatted from a plain dict is not checked by mypy: refused by name, locally.
    ("mint_key", {"colour": "red"}),
    ("create_key", {"api_key_type": "INFERENCE", "description": "x", "colour": "red"}),
    ("get_key", {"key_id": "VENICE_ADMIN_KEY_abc"}),
    ("revoke_key", {"key_id": "123"}),
    ("update_key", {"key_id": "e28e82dc-9df2-4b47-b726-d0a222ef2ab5"}),
    ("update_key", {"key_id": "e28e82dc-9df2-4b47-b726-d0a222ef2ab5", "usd_limit": "lots"}),
]


@pytest.mark.parametrize(("method", "kwargs"), BAD_CALLS)
async def test_invalid_input_never_reaches_the_network(vk: AsyncVeniceKeys, request_log: Any,
                                                       method: str, kwargs: dict[str, Any]) -> None:
    log = request_log()
    args = [kwargs.pop("key_id")] if "key_id" in kwargs else []
    with pytest.raises(InvalidInputError):
        await getattr(vk, method)(*args, **kwargs)
    assert log.entries() == []


async def test_admin_calls_without_admin_key_fail_locally(venice_sandbox: Any,
                                                          request_log: Any) -> None:
    log = request_log()
    async with AsyncVeniceKeys(sandbox_settings(venice_sandbox)) as vk:
        for call in (vk.list_keys(), vk.billing_balance(), vk.rate_limit_log(),
                     vk.create_key(api_key_type="INFERENCE", description="x"),
                     vk.customer_keys("acme"), vk.rate_limits()):
            with pytest.raises(ConfigError, match="VENICE_"):
                await call
    assert log.entries() == []


async def test_new_key_never_shows_its_secret(vk: AsyncVeniceKeys) -> None:
    key = await vk.mint_key(description="canary")
    secret = key.secret.reveal()
    assert len(secret) > 20
    public = key.to_public_dict()
    for text in (repr(key), str(key), f"{key}", str(public), repr(key.secret), str(key.secret)):
        assert secret not in text
    assert public["last6"] == secret[-6:] and len(public["fingerprint"]) == 64
    assert set(public) == {"id", "apiKeyType", "description", "last6", "fingerprint", "sink",
                           "expiresAt", "consumptionLimits", "limitPeriod", "modelPrivacy"}


class _Explodes:
    kind, location = "file", "/tmp/x"

    def prepare(self) -> None: ...

    def deliver(self, secret: Any, *, key_id: str) -> Any:
        raise OSError(f"disk said no to {secret.reveal()}")  # a sink that leaks in its error

    def abort(self) -> None: ...


async def test_secret_canary_over_logs_and_errors(venice_sandbox: Any, account: SandboxAccount,
                                                  vk: AsyncVeniceKeys,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = [account.private_key.reveal()]
    secrets.append(account.admin_key.reveal())
    texts: list[str] = []

    minted = await vk.mint_key(description="canary mint", usd_limit=1)
    created = await vk.create_key(api_key_type="ADMIN", description="canary admin")
    rotated = await vk.rotate_key(created.id)
    secrets += [minted.secret.reveal(), created.secret.reveal(), rotated.new_key.secret.reveal()]

    venice_sandbox.emulator.faults.add("POST /api_keys", Fault.malformed_body(commit=True))
    venice_sandbox.emulator.faults.add("POST /api_keys/generate_web3_key",
                                       Fault.commit_then_fail(500))
    failing = [
        vk.create_key(api_key_type="INFERENCE", description="canary orphan"),
        vk.mint_key(description="canary mint orphan"),
        vk.mint_key(description="canary leaky sink", sink=_Explodes()),
    ]
    for coro in failing:
        with pytest.raises((AmbiguousCreateError, SinkError)) as info:
            await coro
        exc = info.value
        texts += [str(exc), repr(exc), *getattr(exc, "__notes__", []),
                  "".join(traceback.format_exception(exc))]
    texts.append(caplog.text)
    texts += [repr(r.args) for r in caplog.records]
    blob = "\n".join(texts)
    assert any("revoked orphan key" in r.getMessage() for r in caplog.records)
    assert any(r.levelno == logging.DEBUG for r in caplog.records)  # DEBUG really captured
    for secret in secrets:
        assert secret not in blob


async def test_wallet_status_of_any_address_needs_no_wallet(venice_sandbox: Any,
                                                            request_log: Any) -> None:
    address, _pk = venice_sandbox.new_wallet(svvv=0, vvv=3)
    async with AsyncVeniceKeys(sandbox_settings(venice_sandbox)) as vk:
        status = await vk.wallet_status(address.lower())
        assert status.address == address and not status.eligible
        assert status.balances["VVV"] == 3
        log = request_log()
        with pytest.raises(InvalidInputError):
            await vk.wallet_status("0x1234")
        assert log.entries() == []


async def test_revoke_is_idempotent(vk: AsyncVeniceKeys) -> None:
    made = await vk.create_key(api_key_type="INFERENCE", description="twice")
    first = await vk.revoke_key(made.id)
    assert (first.key_id, first.already_revoked) == (made.id, False)
    again = await vk.revoke_key(made.id)
    assert (again.key_id, again.already_revoked) == (made.id, True)
    assert again.to_public_dict() == {"id": made.id, "revoked": True, "alreadyRevoked": True}


async def test_find_key_by_unique_prefix(venice_sandbox: Any, vk: AsyncVeniceKeys,
                                         request_log: Any) -> None:
    from venice_web3_keys.errors import AmbiguousKeyIdError, KeyNotFoundError

    made = await vk.create_key(api_key_type="INFERENCE", description="prefixed")
    log = request_log()
    assert await vk.resolve_key_id(made.id.upper()) == made.id
    assert log.entries() == [], "a full id needs no request"
    assert (await vk.find_key(made.id[:8])).id == made.id
    assert await vk.resolve_key_id(made.id[:12]) == made.id
    assert [e.method for e in log.entries()] == ["GET", "GET"], "one list call each"
    for bad in (made.id[:7], "zzzzzzzz", ""):
        with pytest.raises(InvalidInputError):
            await vk.resolve_key_id(bad)
    with pytest.raises(KeyNotFoundError, match="no active key id starts with 00000000"):
        await vk.find_key("00000000")
    other = await vk.create_key(api_key_type="INFERENCE", description="twin prefix")
    twin = made.id[:8] + other.id[8:]
    state = venice_sandbox.emulator
    with state.lock:  # as if Venice had issued two ids with the same first 8 characters
        stored = state.keys.pop(other.id)
        stored.id = twin
        state.keys[twin] = stored
    with pytest.raises(AmbiguousKeyIdError) as info:
        await vk.find_key(made.id[:8])
    assert sorted(info.value.matches) == sorted([made.id, twin])
    assert info.value.field == "key_id"


async def test_is_calling_key(account: SandboxAccount, vk: AsyncVeniceKeys) -> None:
    keys = await vk.list_keys()
    calling = [k for k in keys if vk.is_calling_key(k)]
    assert [k.api_key_type for k in calling] == ["ADMIN"]
    made = await vk.create_key(api_key_type="INFERENCE", description="not me")
    assert not vk.is_calling_key(await vk.get_key(made.id))


async def test_rotation_progress_is_filled_in(vk: AsyncVeniceKeys) -> None:
    from venice_web3_keys.api import RotationProgress

    old = await vk.create_key(api_key_type="INFERENCE", description="progress")
    progress = RotationProgress()
    result = await vk.rotate_key(old.id, progress=progress)
    assert progress.old_key_id == old.id and progress.new_key is result.new_key
    assert progress.verified and progress.old_key_revoked and not progress.successor_revoked
