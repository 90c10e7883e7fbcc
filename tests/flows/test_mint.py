"""The wallet mint flow end to end: sandbox emulator over loopback HTTP, real anvil chain."""

from __future__ import annotations

import asyncio
import base64
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes import fake_key
from tests.harness import SandboxAccount, sandbox_settings
from venice_web3_keys.api import AsyncVeniceKeys
from venice_web3_keys.errors import (
    AmbiguousCreateError,
    APIResponseValidationError,
    ChainUnreachableError,
    InternalServerError,
    InvalidWalletAddressError,
    NoStakedVVVError,
    NotEligibleError,
    SinkError,
    TokenExpiredError,
    UnsafeSigningRequestError,
)
from venice_web3_keys.sandbox.emulator.faults import Fault
from venice_web3_keys.secret import SecretValue
from venice_web3_keys.signer import PrivateKeySigner
from venice_web3_keys.sinks import FileSink

GEN = "/api_keys/generate_web3_key"


@pytest.mark.parametrize("variant", ["jwt", "siwe"])
async def test_mint_end_to_end_reads_limits_back(venice_sandbox: Any, account: SandboxAccount,
                                                 vk: AsyncVeniceKeys, request_log: Any,
                                                 tmp_path: Path, variant: str) -> None:
    venice_sandbox.emulator.mint_variant = variant
    log = request_log()
    out = tmp_path / "key.txt"
    key = await vk.mint_key(description=f"mint {variant}", usd_limit=5, diem_limit=2,
                            limit_period="MONTH", model_privacy="PRIVATE_ONLY",
                            expires_at="30d", sink=FileSink(out))

    assert key.api_key_type == "INFERENCE" and key.description == f"mint {variant}"
    # Read back with GET /api_keys/{id}: diem survives even though the mint echo drops it.
    assert key.consumption_limits is not None
    assert (key.consumption_limits.usd, key.consumption_limits.diem) == (Decimal(5), Decimal(2))
    assert (key.limit_period, key.model_privacy) == ("MONTH", "PRIVATE_ONLY")
    assert out.read_text().strip() == key.secret.reveal()
    assert out.stat().st_mode & 0o777 == 0o600
    assert key.sink is not None and key.sink.kind == "file"
    # The secret is a working key.
    limits = await vk.client.rate_limits(key=key.secret)
    assert limits.access_permitted is not None
    # One challenge GET (with ?address=, no Authorization), one POST, one snapshot, one read-back.
    gets = [r for r in log.entries() if r.method == "GET" and r.path.endswith(GEN)]
    assert len(gets) == 1 and "address=" in gets[0].query and not gets[0].has_auth
    assert log.count("POST", GEN) == 1
    assert log.count("GET", f"/api_keys/{key.id}") == 1


async def test_mint_without_admin_key_uses_only_the_two_web3_calls(
        venice_sandbox: Any, request_log: Any) -> None:
    _address, pk = venice_sandbox.new_wallet()
    log = request_log()
    async with AsyncVeniceKeys(sandbox_settings(venice_sandbox, private_key=pk)) as vk:
        key = await vk.mint_key(description="no admin", usd_limit=1)
    assert key.secret.reveal().startswith("VENICE_INFERENCE_KEY_")
    assert log.routes() == [f"GET {GEN}", f"POST {GEN}"]
    assert all(not r.has_auth for r in log.entries())


async def test_no_staked_vvv_is_refused_before_signing_or_posting(
        venice_sandbox: Any, request_log: Any, tmp_path: Path) -> None:
    _address, pk = venice_sandbox.new_wallet(svvv=0)
    signer, signed = _spy(pk)
    log = request_log()
    out = tmp_path / "never.txt"
    async with AsyncVeniceKeys(sandbox_settings(venice_sandbox, private_key=pk),
                               signer=signer) as vk:
        with pytest.raises(NotEligibleError) as info:
            await vk.mint_key(sink=FileSink(out))
    message = str(info.value)
    assert "sVVV" in message and "0x321b7ff75154472B18EDb199033fF4D116F340Ff" in message
    assert signed == []
    assert log.count("POST", GEN) == 0
    assert not out.exists()  # the prepared file was removed again


async def test_unstaked_vvv_is_pointed_at_wallet_stake(venice_sandbox: Any,
                                                      request_log: Any) -> None:
    _address, pk = venice_sandbox.new_wallet(svvv=0, vvv="12.5")
    signer, signed = _spy(pk)
    log = request_log()
    async with AsyncVeniceKeys(sandbox_settings(venice_sandbox, private_key=pk),
                               signer=signer) as vk:
        with pytest.raises(NotEligibleError) as info:
            await vk.mint_key()
    message = str(info.value)
    assert "12.5 VVV that is not staked" in message
    assert "`venice-keys wallet stake AMOUNT`" in message
    assert signed == [] and log.count("POST", GEN) == 0


async def test_expired_token_is_fetched_and_signed_once_more(
        venice_sandbox: Any, account: SandboxAccount, request_log: Any) -> None:
    clock = venice_sandbox.emulator.clock
    # Venice's clock runs 14m50s behind: the first token is current for us (expires in ~10 s).
    clock.advance(-(14 * 60 + 50))
    moved = [-(14 * 60 + 50)]
    signed: list[str] = []

    class SlowHuman(PrivateKeySigner):
        """Takes 15m20s (of Venice time) over the first signature: the token expires."""

        def sign_message(self, text: str) -> str:
            signed.append(text)
            if len(signed) == 1:
                clock.advance(15 * 60 + 20)
                moved.append(15 * 60 + 20)
            return super().sign_message(text)

    log = request_log()
    try:
        async with AsyncVeniceKeys(account.settings, signer=SlowHuman(account.private_key)) as vk:
            key = await vk.mint_key(description="re-signed")
    finally:
        clock.advance(-sum(moved))
    assert key.description == "re-signed"
    assert len(signed) == 2 and signed[0] != signed[1]
    assert log.count("GET", GEN) == 2 and log.count("POST", GEN) == 2
    statuses = [r.status for r in log.entries() if r.method == "POST"]
    assert statuses == [400, 200]


async def test_token_expired_twice_gives_up_after_one_retry(
        venice_sandbox: Any, account: SandboxAccount, request_log: Any) -> None:
    expired = {"error": "JWT has expired"}
    venice_sandbox.emulator.faults.add(f"POST {GEN}", Fault.error(400, expired), times=2)
    log = request_log()
    async with AsyncVeniceKeys(account.settings) as vk:
        with pytest.raises(TokenExpiredError):
            await vk.mint_key()
    assert log.count("POST", GEN) == 2 and log.count("GET", GEN) == 2


def _jwt(claims: dict[str, Any], alg: str = "HS256") -> str:
    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': alg, 'typ': 'JWT'})}.{part(claims)}.c2ln"


@pytest.mark.parametrize("data", [
    {"token": _jwt({"exp": 4102444800, "iat": 1700000000})},  # valid for decades
    {"token": _jwt({"exp": 4102444800}, alg="none")},
    {"token": "not-a-jwt"},
    {"message": "evil.example wants you to sign in with your Ethereum account:\n0x0"},
])
async def test_unsafe_challenge_is_never_signed(venice_sandbox: Any, account: SandboxAccount,
                                                request_log: Any, data: dict[str, Any]) -> None:
    venice_sandbox.emulator.faults.add(f"GET {GEN}", Fault(status=200, body={"success": True,
                                                                            "data": data}))
    signer, signed = _spy(account.private_key)
    log = request_log()
    async with AsyncVeniceKeys(account.settings, signer=signer) as vk:
        with pytest.raises(UnsafeSigningRequestError):
            await vk.mint_key()
    assert signed == [] and log.count("POST", GEN) == 0


async def test_ambiguous_mint_with_admin_key_revokes_the_orphan(
        venice_sandbox: Any, account: SandboxAccount, vk: AsyncVeniceKeys,
        request_log: Any) -> None:
    venice_sandbox.emulator.faults.add(f"POST {GEN}", Fault.commit_then_fail(502))
    log = request_log()
    with pytest.raises(AmbiguousCreateError) as info:
        await vk.mint_key(description="orphan mint")
    err = info.value
    assert len(err.orphan_ids) == 1 and err.revoked_ids == err.orphan_ids
    assert err.orphan_ids[0] in str(err) and "revoked" in str(err)
    assert log.count("POST", GEN) == 1
    assert all(k.description != "orphan mint" for k in await vk.list_keys())


async def test_ambiguous_mint_without_admin_key_says_outcome_unknown(
        venice_sandbox: Any, request_log: Any) -> None:
    _address, pk = venice_sandbox.new_wallet()
    venice_sandbox.emulator.faults.add(f"POST {GEN}", Fault.commit_then_fail(500))
    log = request_log()
    async with AsyncVeniceKeys(sandbox_settings(venice_sandbox, private_key=pk)) as vk:
        with pytest.raises(AmbiguousCreateError) as info:
            await vk.mint_key(description="unknown fate")
    assert "unknown" in str(info.value) and "keys list" in str(info.value)
    assert log.count("POST", GEN) == 1


class BrokenSink:
    kind = "file"
    location = "/nowhere/key.txt"

    def __init__(self) -> None:
        self.calls: list[str] = []

    def prepare(self) -> None:
        self.calls.append("prepare")

    def deliver(self, secret: Any, *, key_id: str) -> Any:
        self.calls.append("deliver")
        raise OSError(28, "No space left on device")

    def abort(self) -> None:
        self.calls.append("abort")


async def test_failed_delivery_revokes_the_minted_key(account: SandboxAccount, vk: AsyncVeniceKeys,
                                                      request_log: Any) -> None:
    sink = BrokenSink()
    log = request_log()
    with pytest.raises(SinkError) as info:
        await vk.mint_key(description="undeliverable", sink=sink)
    assert "was revoked" in str(info.value)
    assert sink.calls == ["prepare", "deliver", "abort"]
    assert log.count("DELETE", "/api_keys") == 1
    assert all(k.description != "undeliverable" for k in await vk.list_keys())


async def test_failed_delivery_without_admin_names_the_key(venice_sandbox: Any) -> None:
    _address, pk = venice_sandbox.new_wallet()
    async with AsyncVeniceKeys(sandbox_settings(venice_sandbox, private_key=pk)) as vk:
        with pytest.raises(SinkError) as info:
            await vk.mint_key(sink=BrokenSink())
    text = str(info.value)
    assert "still exists" in text and "revoke" in text


class DelayedTransport(httpx.AsyncBaseTransport):
    """Adds `delay` seconds to every HTTP request (API and JSON-RPC) and records timings."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.inner = httpx.AsyncHTTPTransport()
        self.spans: list[tuple[str, float, float]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        loop = asyncio.get_running_loop()
        start = loop.time()
        await asyncio.sleep(self.delay)
        response = await self.inner.handle_async_request(request)
        self.spans.append((f"{request.method} {request.url.path}", start, loop.time()))
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_preflight_overlaps_the_token_request(venice_sandbox: Any) -> None:
    _address, pk = venice_sandbox.new_wallet()
    transport = DelayedTransport(0.15)
    async with httpx.AsyncClient(transport=transport) as http:
        settings = sandbox_settings(venice_sandbox, private_key=pk)
        async with AsyncVeniceKeys(settings, http_client=http) as vk:
            await vk.mint_key(description="overlap")
    spans = {name: (start, end) for name, start, end in transport.spans}
    token_get = spans[f"GET /api/v1{GEN}"]
    rpc = [(s, e) for name, s, e in transport.spans
           if name.startswith("POST /") and GEN not in name]
    assert len(rpc) == 1  # one batch (chain id + balances), concurrent with the GET
    for start, end in rpc:
        assert start < token_get[1] and token_get[0] < end  # the intervals overlap



def _spy(pk: Any) -> tuple[PrivateKeySigner, list[str]]:
    """A real signer that records every text it is asked to sign."""
    signed: list[str] = []

    class Spy(PrivateKeySigner):
        def sign_message(self, text: str) -> str:
            signed.append(text)
            return super().sign_message(text)

    return Spy(pk), signed


async def test_unreachable_rpc_fails_the_mint_before_signing(
        venice_sandbox: Any, request_log: Any, tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    _address, pk = venice_sandbox.new_wallet()
    settings = sandbox_settings(venice_sandbox, private_key=pk, rpc_urls=dead)
    signer, signed = _spy(pk)
    log = request_log()
    out = tmp_path / "never.txt"
    async with AsyncVeniceKeys(settings, signer=signer) as vk:
        with pytest.raises(ChainUnreachableError) as info:
            await vk.mint_key(sink=FileSink(out))
    assert "127.0.0.1" in str(info.value)
    assert signed == [] and log.count("POST", GEN) == 0
    assert not out.exists()


async def test_challenge_refusal_is_raised_and_nothing_is_signed(
        venice_sandbox: Any, account: SandboxAccount, request_log: Any) -> None:
    venice_sandbox.emulator.faults.add(
        f"GET {GEN}", Fault.error(400, {"error": "Invalid wallet address"}))
    signer, signed = _spy(account.private_key)
    log = request_log()
    async with AsyncVeniceKeys(account.settings, signer=signer) as vk:
        with pytest.raises(InvalidWalletAddressError):
            await vk.mint_key()
    assert signed == [] and log.count("POST", GEN) == 0


@pytest.mark.parametrize("data", [{}, {"token": ""}, {"message": ""}])
async def test_empty_challenge_is_a_malformed_answer_never_signed(
        venice_sandbox: Any, account: SandboxAccount, request_log: Any,
        data: dict[str, Any]) -> None:
    venice_sandbox.emulator.faults.add(f"GET {GEN}", Fault(status=200, body={"success": True,
                                                                            "data": data}))
    signer, signed = _spy(account.private_key)
    log = request_log()
    async with AsyncVeniceKeys(account.settings, signer=signer) as vk:
        with pytest.raises(APIResponseValidationError, match="GET /api_keys/generate_web3_key"):
            await vk.mint_key()
    assert signed == [] and log.count("POST", GEN) == 0


async def test_definite_mint_refusal_is_raised_without_reconciling(
        venice_sandbox: Any, account: SandboxAccount, request_log: Any) -> None:
    venice_sandbox.emulator.faults.add(f"POST {GEN}", Fault.error(400, {"error": "No staked VVV"}))
    log = request_log()
    async with AsyncVeniceKeys(account.settings) as vk:
        with pytest.raises(NoStakedVVVError):
            await vk.mint_key(description="refused")
    # One snapshot list before the POST, none after it: a 4xx created nothing.
    routes = log.routes()
    assert routes.count("GET /api_keys") == 1 and routes.count(f"POST {GEN}") == 1
    assert routes[-1] == f"POST {GEN}"


async def test_server_error_on_mint_checked_and_reported_as_nothing_created(
        venice_sandbox: Any, account: SandboxAccount, vk: AsyncVeniceKeys,
        request_log: Any) -> None:
    venice_sandbox.emulator.faults.add(f"POST {GEN}", Fault.error(502))  # fails, creates nothing
    log = request_log()
    with pytest.raises(InternalServerError) as info:
        await vk.mint_key(description="never made")
    assert "no key was created" in " ".join(getattr(info.value, "__notes__", []))
    assert log.count("POST", GEN) == 1
    assert log.count("GET", "/api_keys") == 2  # the snapshot, then the check after the 502
    assert all(k.description != "never made" for k in await vk.list_keys())


async def test_mint_with_a_refused_admin_key_still_mints_from_the_echo(
        venice_sandbox: Any, request_log: Any, caplog: pytest.LogCaptureFixture) -> None:
    """A stale VENICE_ADMIN_KEY costs the snapshot and the read-back, not the mint."""
    _address, pk = venice_sandbox.new_wallet()
    stale = SecretValue(fake_key("ADMIN", "revokedlongago"))
    log = request_log()
    with caplog.at_level("WARNING", logger="venice_web3_keys.flows.mint"):
        async with AsyncVeniceKeys(sandbox_settings(venice_sandbox, private_key=pk,
                                                 admin_key=stale)) as vk:
            key = await vk.mint_key(description="echo only", usd_limit=4)
    assert key.secret.reveal().startswith("VENICE_INFERENCE_KEY_")
    assert key.description == "echo only"
    assert key.consumption_limits is not None and key.consumption_limits.usd == 4
    warnings = " ".join(r.getMessage() for r in caplog.records)
    assert "could not list keys before minting (AuthenticationError)" in warnings
    assert f"could not read back key {key.id} (AuthenticationError)" in warnings
    statuses = {(r.method, r.route): r.status for r in log.entries()}
    assert statuses[("GET", "GET /api_keys")] == 401
    assert statuses[("GET", "GET /api_keys/{id}")] == 401
    assert statuses[("POST", f"POST {GEN}")] == 200
