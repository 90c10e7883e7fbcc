"""The library: `VeniceKeys` / `AsyncVeniceKeys` methods, their parameters, and the whole flow
against the sandbox (README.md, "dApp backends: the library")."""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path
from typing import Any, get_type_hints

import pytest

from tests.harness import SandboxAccount
from venice_web3_keys.settings import load_settings

# Library

LIBRARY_METHODS: dict[str, list[str]] = {  # method: parameters it must take by these names
    "wallet_status": [],
    "mint_key": ["api_key_type", "description", "expires_at", "usd_limit", "diem_limit",
                 "limit_period", "model_privacy"],
    "list_keys": [],
    "get_key": ["key_id"],
    "create_key": ["api_key_type", "description", "expires_at", "usd_limit", "diem_limit",
                   "limit_period", "model_privacy"],
    "update_key": ["key_id"],
    "revoke_key": ["key_id"],
    "rotate_key": ["key_id"],
    "rate_limits": [],
    "rate_limit_log": [],
    "billing_balance": [],
    "stake_vvv": ["amount", "dry_run"],
}


def _param_names(fn: Any) -> set[str]:
    sig = inspect.signature(fn)
    names = {p.name for p in sig.parameters.values() if p.kind != p.VAR_KEYWORD}
    for p in sig.parameters.values():
        # `**options: Unpack[KeyOptions]`: the keyword arguments the TypedDict names
        match = re.fullmatch(r"Unpack\[(\w+)\]", str(p.annotation))
        if p.kind == p.VAR_KEYWORD and match:
            names |= set(get_type_hints(vars(sys.modules[fn.__module__])[match.group(1)]))
    return names


@pytest.mark.parametrize(("method", "params"), LIBRARY_METHODS.items(), ids=list(LIBRARY_METHODS))
def test_library_methods(method: str, params: list[str]) -> None:
    from venice_web3_keys import AsyncVeniceKeys, VeniceKeys

    sync_keys = VeniceKeys(settings=load_settings(environ={}))
    async_fn, sync_fn = getattr(AsyncVeniceKeys, method), getattr(sync_keys, method)
    sync_keys.close()
    assert inspect.iscoroutinefunction(async_fn)
    assert not inspect.iscoroutinefunction(sync_fn)
    for fn in (async_fn, sync_fn):
        assert set(params) <= _param_names(fn), (method, fn)
    if method == "mint_key":
        assert inspect.signature(async_fn).parameters["api_key_type"].default == "INFERENCE"
    if method == "stake_vvv":
        assert inspect.signature(async_fn).parameters["dry_run"].default is False


def test_library_provision_customer_keys() -> None:
    """Async: an async iterator of per-customer results; sync: a list (same parameters)."""
    import asyncio

    from tests.fakes import fake_key
    from venice_web3_keys import AsyncVeniceKeys, VeniceKeys

    # Nothing listens on port 9: an empty list must not need the network at all.
    env = {"VENICE_ADMIN_KEY": fake_key("ADMIN"), "VENICE_API_BASE_URL": "http://127.0.0.1:9"}
    with VeniceKeys(settings=load_settings(environ=env)) as sync_keys:
        sync_fn = sync_keys.provision_customer_keys
        assert sync_fn([], sink_factory=lambda customer: None, usd_limit=1) == []
    async_fn = AsyncVeniceKeys.provision_customer_keys
    for fn in (async_fn, sync_fn):
        assert not inspect.iscoroutinefunction(fn)
        assert {"customer_ids", "sink_factory", "usd_limit", "diem_limit", "expires_at",
                "limit_period", "model_privacy"} <= _param_names(fn)

    async def iterate() -> list[Any]:
        async with AsyncVeniceKeys(load_settings(environ=env)) as keys:
            run = keys.provision_customer_keys([], sink_factory=lambda c: None, usd_limit=1)
            assert hasattr(run, "__aiter__") and hasattr(run, "__anext__")
            return [result async for result in run]

    assert asyncio.run(iterate()) == []


def test_library_constructors() -> None:
    from venice_web3_keys import AsyncVeniceKeys, VeniceKeys

    for cls in (VeniceKeys, AsyncVeniceKeys):
        assert "env_file" in inspect.signature(cls.from_env).parameters
        assert inspect.signature(cls).parameters["settings"].default is None
        built = cls(settings=load_settings(environ={}))
        assert built.settings.api_base_url == "https://api.venice.ai/api/v1"
        if isinstance(built, VeniceKeys):
            built.close()


def test_library_whole_flow(account: SandboxAccount, tmp_path: Path) -> None:
    """Every `VeniceKeys` method against the sandbox; a secret is masked until revealed."""
    from venice_web3_keys import ApiKeySecret, FileSink, VeniceKeys

    env_file = tmp_path / ".env.prod"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in account.env.items()
                                if k != "VENICE_ADMIN_KEY"))
    with VeniceKeys.from_env(env_file) as wallet_only:
        status = wallet_only.wallet_status()
        assert (status.address, status.chain_id, status.eligible) == (account.address, 8453, True)
        assert {"ETH", "VVV", "sVVV", "DIEM"} <= set(status.balances)
        minted = wallet_only.mint_key(api_key_type="ADMIN", description="lib admin",
                                      expires_at="7d", usd_limit=5, diem_limit=2,
                                      limit_period="MONTH", model_privacy="PRIVATE_ONLY")
    secret = minted.secret
    assert isinstance(secret, ApiKeySecret)
    raw = secret.reveal()
    assert raw and raw not in str(secret) and raw not in repr(secret) and raw not in f"{secret}"
    assert raw not in repr(minted) and raw not in str(minted)
    assert (minted.api_key_type, minted.limit_period, minted.model_privacy) == (
        "ADMIN", "MONTH", "PRIVATE_ONLY")

    with VeniceKeys(settings=load_settings(environ={**account.env, "VENICE_ADMIN_KEY": raw})) as vk:
        sink_path = tmp_path / "customer.key"
        new = vk.create_key(api_key_type="INFERENCE", description="lib customer", usd_limit=3,
                            sink=FileSink(sink_path))
        assert sink_path.read_text().strip() == new.secret.reveal()  # delivered to the sink
        assert new.id in {k.id for k in vk.list_keys()}
        assert vk.get_key(new.id).id == new.id
        updated = vk.update_key(new.id, usd_limit=None, diem_limit=4, expires_at="3d")
        limits = updated.consumption_limits
        assert limits is not None and limits.usd is None and limits.diem == 4
        assert vk.update_key(new.id, expires_at=None).expires_at is None
        rotated = vk.rotate_key(new.id)
        assert rotated.revoked_key_id == new.id and rotated.new_key.id != new.id
        vk.revoke_key(rotated.new_key.id)
        assert rotated.new_key.id not in {k.id for k in vk.list_keys()}
        assert vk.rate_limits() is not None
        assert isinstance(vk.rate_limit_log(), list)
        assert vk.billing_balance() is not None


async def test_async_library_reads(account: SandboxAccount, tmp_path: Path) -> None:
    from venice_web3_keys import AsyncVeniceKeys

    env_file = tmp_path / ".env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in account.env.items()))
    async with AsyncVeniceKeys.from_env(env_file) as vk:
        assert (await vk.wallet_status()).eligible is True
        keys = await vk.list_keys()
        assert keys and (await vk.get_key(keys[0].id)).id == keys[0].id
        assert await vk.rate_limits() is not None
        assert isinstance(await vk.rate_limit_log(), list)
        assert await vk.billing_balance() is not None


