"""SyncRunner and the VeniceClient facade."""

from __future__ import annotations

import asyncio
import inspect
import threading

import httpx
import pytest

from tests.client.helpers import (
    ADMIN,
    BASE,
    KEY_ID,
    NEW_SECRET,
    Script,
    api_key_json,
    created_json,
    resp,
)
from venice_web3_keys import errors
from venice_web3_keys._sync import SyncRunner, blocking
from venice_web3_keys.client import AsyncVeniceClient, VeniceClient
from venice_web3_keys.models import KeySpec, KeyUpdate


class TestSyncRunner:
    def test_runs_on_a_private_daemon_thread(self) -> None:
        with SyncRunner() as runner:
            async def where() -> tuple[str, bool]:
                thread = threading.current_thread()
                return thread.name, thread.daemon

            name, daemon = runner.run(where())
            assert name != threading.current_thread().name and daemon
            assert runner.run(asyncio.sleep(0, result=42)) == 42

    def test_exceptions_propagate(self) -> None:
        async def boom() -> None:
            raise errors.KeyNotFoundError("gone")

        with SyncRunner() as runner, pytest.raises(errors.KeyNotFoundError):
            runner.run(boom())

    def test_works_while_the_callers_loop_runs(self) -> None:
        runner = SyncRunner()

        async def outer() -> int:
            return runner.run(asyncio.sleep(0, result=7))

        try:
            assert asyncio.run(outer()) == 7
        finally:
            runner.close()

    def test_close_is_idempotent_and_final(self) -> None:
        runner = SyncRunner()
        runner.close()
        runner.close()
        assert runner.closed and runner.loop.is_closed()
        coro = asyncio.sleep(0)
        with pytest.raises(RuntimeError, match="closed"):
            runner.run(coro)

    def test_close_cancels_pending_work(self) -> None:
        runner = SyncRunner()
        started = threading.Event()

        async def forever() -> None:
            started.set()
            await asyncio.sleep(3600)

        future = asyncio.run_coroutine_threadsafe(forever(), runner.loop)
        started.wait(2)
        runner.close()
        assert future.cancelled()

    def test_reentrant_run_refused(self) -> None:
        with SyncRunner() as runner:
            async def inner() -> None:
                runner.run(asyncio.sleep(0))

            with pytest.raises(RuntimeError, match="deadlock"):
                runner.run(inner())

    def test_timeout(self) -> None:
        import concurrent.futures

        with SyncRunner() as runner, pytest.raises(concurrent.futures.TimeoutError):
            runner.run(asyncio.sleep(5), timeout=0.05)


def _public(cls: type) -> set[str]:
    return {n for n, v in vars(cls).items()
            if not n.startswith("_") and (callable(v) or isinstance(v, blocking))}


def test_same_surface_as_async() -> None:
    async_methods = _public(AsyncVeniceClient) - {"aclose"}
    sync_methods = _public(VeniceClient) - {"close"}
    assert async_methods == sync_methods
    with VeniceClient(BASE, admin_key=ADMIN) as client:
        for name in async_methods:
            a = inspect.signature(getattr(client.aio, name))
            s = inspect.signature(getattr(client, name))
            assert a.parameters == s.parameters, name
            assert not inspect.iscoroutinefunction(getattr(client, name)), name
            assert getattr(client, name).__doc__ == getattr(client.aio, name).__doc__


def _sync_client(script: Script, runner: SyncRunner | None = None) -> VeniceClient:
    return VeniceClient(BASE, admin_key=ADMIN, runner=runner,
                        http_client=httpx.AsyncClient(transport=httpx.MockTransport(script)))


def test_every_sync_method_delegates() -> None:
    script = Script(
        resp(200, {"object": "list", "data": [api_key_json()]}),
        resp(200, {"data": api_key_json()}),
        resp(200, {"success": True, "data": created_json()}),
        resp(200, {"success": True, "data": api_key_json(description="x")}),
        resp(200, {"success": True}),
        resp(200, {"data": {"accessPermitted": True}}),
        resp(200, {"object": "list", "data": []}),
        resp(200, {"canConsume": True}),
        resp(200, {"success": True, "data": {"token": "a.b.c"}}),
        resp(200, {"success": True, "data": created_json()}),
    )
    spec = KeySpec(api_key_type="INFERENCE", description="d")
    with _sync_client(script) as client:
        assert client.list_keys()[0].id == KEY_ID
        assert client.get_key(KEY_ID).id == KEY_ID
        assert client.create_key(spec).secret.reveal() == NEW_SECRET
        assert client.update_key(KeyUpdate(id=KEY_ID, description="x")).description == "x"
        client.delete_key(KEY_ID)
        assert client.rate_limits().access_permitted is True
        assert client.rate_limit_log() == []
        assert client.billing_balance().can_consume is True
        challenge = client.get_web3_challenge("0x" + "1" * 40)
        minted = client.mint_web3_key(address="0x" + "1" * 40, signature="0x",
                                      challenge=challenge, spec=spec)
        assert minted.id == KEY_ID
    assert [r.method for r in script.requests] == [
        "GET", "GET", "POST", "PATCH", "DELETE", "GET", "GET", "GET", "GET", "POST"]
    assert client._runner.closed


def test_errors_surface_unchanged_and_shared_runner_survives_close() -> None:
    with SyncRunner() as runner:
        client = _sync_client(Script(resp(400, {"error": "API key not found"})), runner)
        with pytest.raises(errors.KeyNotFoundError):
            client.get_key(KEY_ID)
        client.close()
        client.close()
        assert not runner.closed
