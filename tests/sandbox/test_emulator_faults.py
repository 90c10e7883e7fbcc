"""Fault injection, the sandbox control routes, the request log and persistence, over real HTTP."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.harness import PLAIN_HTTP
from tests.sandbox.emulator_support import Emu, bearer, mint, start_emulator
from venice_web3_keys.sandbox.emulator import EmulatorState, FakeClock, Fault

NEW_KEY = {"apiKeyType": "INFERENCE", "description": "k"}

pytest_plugins = ["tests.sandbox.emulator_fixtures"]


def count_keys(emu: Emu, admin: dict[str, str]) -> int:
    return len(emu.http.get("/api_keys", headers=admin).json()["data"])


def test_status_fault_fails_before_acting(emu: Emu) -> None:
    _, admin = emu.admin()
    emu.state.faults.add("POST /api_keys", Fault.error(503, {"error": "down for maintenance"}))
    response = emu.http.post("/api_keys", json=NEW_KEY, headers=admin)
    assert (response.status_code, response.json()) == (503, {"error": "down for maintenance"})
    assert count_keys(emu, admin) == 1  # only the admin key: nothing was created
    assert emu.http.post("/api_keys", json=NEW_KEY, headers=admin).status_code == 200  # one-shot


def test_rate_limited_fault_sends_retry_after(emu: Emu) -> None:
    _, admin = emu.admin()
    emu.state.faults.add("GET /api_keys", Fault.rate_limited(retry_after=7))
    response = emu.http.get("/api_keys", headers=admin)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert response.json() == {"error": "Rate limit exceeded"}


def test_commit_then_fail_creates_the_key_but_answers_500(emu: Emu) -> None:
    _, admin = emu.admin()
    emu.state.faults.add("POST /api_keys", Fault.commit_then_fail())
    response = emu.http.post("/api_keys", json={**NEW_KEY, "description": "ambiguous"},
                             headers=admin)
    assert (response.status_code, response.json()) == (500, {
        "error": "An unknown error occurred"})
    listed = emu.http.get("/api_keys", headers=admin).json()["data"]
    assert [k["description"] for k in listed].count("ambiguous") == 1


def test_commit_then_drop_closes_the_connection_mid_body(emu: Emu) -> None:
    _, admin = emu.admin()
    emu.state.faults.add("POST /api_keys", Fault.commit_then_drop())
    with pytest.raises(httpx.RemoteProtocolError):
        emu.http.post("/api_keys", json=NEW_KEY, headers=admin)
    assert count_keys(emu, admin) == 2


def test_commit_then_hang_times_the_client_out(emu: Emu) -> None:
    address, wallet = emu.chain.new_wallet(svvv=1)
    emu.state.faults.add("POST /api_keys/generate_web3_key", Fault.commit_then_hang(60))
    emu.http.timeout = httpx.Timeout(0.5)
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        mint(emu, address, wallet.reveal())
    assert time.monotonic() - started < 30, "the client gave up long before the hang ended"
    # the mint happened all the same (the server commits, then hangs; on a busy machine the
    # client's 0.5 s may run out before the commit, so wait for it)
    deadline = time.monotonic() + 20
    while not emu.state.live_keys(address) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(emu.state.live_keys(address)) == 1


def test_hang_without_commit_does_nothing(emu: Emu) -> None:
    _, admin = emu.admin()
    emu.state.faults.add("POST /api_keys", Fault(hang=5))
    with pytest.raises(httpx.ReadTimeout):
        emu.http.post("/api_keys", json=NEW_KEY, headers=admin, timeout=0.3)
    assert count_keys(emu, admin) == 1


def test_malformed_body(emu: Emu) -> None:
    _, admin = emu.admin()
    emu.state.faults.add("POST /api_keys", Fault.malformed_body(commit=True))
    emu.state.faults.add("GET /api_keys", Fault.malformed_body())
    response = emu.http.post("/api_keys", json=NEW_KEY, headers=admin)
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        response.json()
    with pytest.raises(json.JSONDecodeError):
        emu.http.get("/api_keys", headers=admin).json()
    assert count_keys(emu, admin) == 2  # commit=True made the key


def test_route_latency_and_global_latency(emu: Emu) -> None:
    emu.state.faults.add("GET /api_keys/generate_web3_key", Fault.slow(0.3))
    started = time.monotonic()
    assert emu.http.get("/api_keys/generate_web3_key").status_code == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    emu.http.get("/api_keys/generate_web3_key")
    assert time.monotonic() - started < 0.3
    emu.state.faults.set_latency(0.2)
    started = time.monotonic()
    emu.http.get("/api_keys/rate_limits")
    assert time.monotonic() - started >= 0.2


def test_faults_are_a_queue_per_route(emu: Emu) -> None:
    _, admin = emu.admin()
    emu.state.faults.add("GET /api_keys", Fault.error(502))
    emu.state.faults.add("GET /api_keys", Fault.error(504), times=2)
    emu.state.faults.add("GET /api_keys/{id}", Fault.error(500))
    statuses = [emu.http.get("/api_keys", headers=admin).status_code for _ in range(4)]
    assert statuses == [502, 504, 504, 200]
    assert emu.http.get("/api_keys/anything", headers=admin).status_code == 500


def test_fault_api_rejects_nonsense() -> None:
    state = EmulatorState(rpc_url="http://127.0.0.1:9")
    with pytest.raises(ValueError, match="unknown route"):
        state.faults.add("POST /api_key", Fault.error())
    with pytest.raises(ValueError):
        Fault(status=500, drop=True)
    with pytest.raises(ValueError):
        Fault(commit=True)
    with pytest.raises(ValueError):
        Fault.from_dict({"status": 500, "explode": True})


def test_control_routes(emu: Emu) -> None:
    control = httpx.Client(verify=PLAIN_HTTP, base_url=emu.origin + "/_sandbox", timeout=10)
    created = control.post("/accounts", json={"address": "0x" + "12" * 20}).json()
    admin = bearer(created["apiKey"])
    assert control.post("/faults", json={"route": "GET /api_keys",
                                         "fault": {"status": 418}}).status_code == 200
    assert control.get("/state").json()["faults"] == {"GET /api_keys": [{"status": 418}]}
    assert emu.http.get("/api_keys", headers=admin).status_code == 418
    control.post("/faults", json={"route": "GET /api_keys", "fault": {"status": 418}})
    assert control.delete("/faults").status_code == 200
    assert emu.http.get("/api_keys", headers=admin).status_code == 200
    bad = control.post("/faults", json={"route": "GET /nowhere", "fault": {"status": 500}})
    assert bad.status_code == 400 and "unknown route" in bad.json()["error"]
    assert control.post("/variant", json={"variant": "siwe"}).json()["mintVariant"] == "siwe"
    assert emu.state.mint_variant == "siwe"
    assert control.post("/variant", json={"variant": "nope"}).status_code == 400
    assert control.post("/clock/advance", json={"seconds": 90}).json()["now"] == (
        "2026-01-15T12:01:30.000Z")
    control.post("/latency", json={"seconds": 0.25})
    assert emu.state.faults.latency == 0.25
    control.post("/latency", json={"seconds": 0})
    control.post("/balances", json={"address": created["address"], "usd": 12.5})
    assert emu.http.get("/billing/balance", headers=admin).json()["balances"]["usd"] == 12.5
    assert control.post("/rate_limit_log", json={"apiKeyId": created["keyId"],
                                                 "rateLimitType": "TPM"}).status_code == 200
    log = emu.http.get("/api_keys/rate_limits/log", headers=admin).json()["data"]
    assert log[0]["rateLimitType"] == "TPM"
    entries = control.get("/requests").json()["data"]
    assert {"method": "GET", "path": "/api/v1/api_keys", "query": "", "has_auth": True,
            "status": 418, "route": "GET /api_keys"} in entries
    assert all(not e["path"].startswith("/_sandbox") for e in entries)
    assert control.post("/reset").status_code == 200
    assert emu.http.get("/api_keys", headers=admin).status_code == 401
    assert [e["status"] for e in control.get("/requests").json()["data"]] == [401]


def test_request_log_keeps_no_secrets(emu: Emu) -> None:
    address, wallet = emu.chain.new_wallet(svvv=1)
    secret = mint(emu, address, wallet.reveal(), apiKeyType="ADMIN").json()["data"]["apiKey"]
    emu.http.get("/api_keys", headers=bearer(secret))
    emu.http.delete("/api_keys", params={"id": secret}, headers=bearer(secret))  # a pasted secret
    emu.state.faults.add("POST /api_keys", Fault.commit_then_drop())
    with pytest.raises(httpx.RemoteProtocolError):
        emu.http.post("/api_keys", json=NEW_KEY, headers=bearer(secret))
    log = emu.state.requests()
    assert secret not in repr(log)
    assert secret[-12:] not in repr(log)
    assert [r.has_auth for r in log] == [False, False, True, True, True]
    assert log[3].query == "id=%5Bredacted%5D"
    assert log[-1].status == 200 and log[-1].route == "POST /api_keys"  # headers went out


def test_unknown_api_path_is_json_404(emu: Emu) -> None:
    response = emu.http.get("/nothing/here")
    assert (response.status_code, response.json()) == (404, {"error": "Not found"})
    assert emu.http.put("/api_keys").status_code == 405
    assert emu.state.requests()[-2].route is None


def test_request_is_logged_before_its_answer_goes_out(emu: Emu, monkeypatch: Any) -> None:
    """A client that reads the log right after an answer finds its request there."""
    record = emu.state.record_request

    def slow_record(entry: Any) -> None:
        time.sleep(0.3)  # a busy server thread: logged after the answer, this would be missed
        record(entry)

    monkeypatch.setattr(emu.state, "record_request", slow_record)
    _, admin = emu.admin()
    assert emu.http.get("/api_keys", headers=admin).status_code == 200
    assert [(r.route, r.status) for r in emu.state.requests()] == [("GET /api_keys", 200)]
    emu.state.faults.add("POST /api_keys", Fault.commit_then_fail(502))
    assert emu.http.post("/api_keys", json=NEW_KEY, headers=admin).status_code == 502
    assert emu.state.requests()[-1].status == 502


def test_detailed_error_with_plain_string_details(emu: Emu) -> None:
    _, admin = emu.admin()
    emu.state.faults.add("POST /api_keys", Fault.detailed_error("expiresAt must be later"))
    reply = emu.http.post("/api_keys", json=NEW_KEY, headers=admin)
    assert (reply.status_code, reply.json()) == (
        400, {"error": "Invalid request parameters", "details": "expiresAt must be later"})
    assert count_keys(emu, admin) == 1  # nothing was created
    _control_add(emu, "PATCH /api_keys", Fault.detailed_error("bad", status=422).to_dict())
    reply = emu.http.patch("/api_keys", json={"id": "x"}, headers=admin)
    assert (reply.status_code, reply.json()["details"]) == (422, "bad")


def test_last_used_at_is_persisted_without_another_change(emu: Emu, tmp_path: Path) -> None:
    path = tmp_path / "emulator.json"
    clock = FakeClock()
    first = EmulatorState(rpc_url=emu.chain.rpc_url, clock=clock, persist_path=path)
    key_id, secret = first.create_account_with_admin_key()
    server, port = start_emulator(first)
    try:
        clock.advance(90)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", timeout=10,
                          verify=PLAIN_HTTP) as client:
            listed = client.get("/api_keys", headers=bearer(secret.reveal())).json()["data"]
    finally:
        server.stop()
    used = listed[0]["lastUsedAt"]
    assert used is not None and first.keys[key_id].last_used_at == clock.now()
    second = EmulatorState(rpc_url=emu.chain.rpc_url, clock=clock, persist_path=path)
    assert second.keys[key_id].last_used_at == first.keys[key_id].last_used_at
    assert second.keys[key_id].view()["lastUsedAt"] == used


def _mint_and_create(emu: Emu) -> tuple[str, str]:
    address, wallet = emu.chain.new_wallet(svvv=1)
    admin = mint(emu, address, wallet.reveal(), apiKeyType="ADMIN").json()["data"]["apiKey"]
    inference = emu.http.post("/api_keys", json={**NEW_KEY, "consumptionLimit": {"usd": 3}},
                              headers=bearer(admin)).json()["data"]
    return admin, inference["id"]


def test_persistence_round_trip(emu: Emu, tmp_path: Path) -> None:
    path = tmp_path / "emulator.json"
    clock = FakeClock()
    first = EmulatorState(rpc_url=emu.chain.rpc_url, clock=clock, persist_path=path,
                          mint_variant="siwe")
    server, port = start_emulator(first)
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", timeout=10,
                              verify=PLAIN_HTTP)
        view = Emu(first, clock, "", "", client, emu.chain)
        admin, key_id = _mint_and_create(view)
        first.set_balances(first.keys[key_id].account, usd=7, diem=2)
        before = client.get("/api_keys", headers=bearer(admin)).json()
    finally:
        server.stop()
    text = path.read_text()
    assert admin not in text and admin[-10:] not in text  # hashes only, never a secret
    assert oct(path.stat().st_mode & 0o777) == "0o600"

    second = EmulatorState(rpc_url=emu.chain.rpc_url, clock=clock, persist_path=path)
    assert second.mint_variant == "siwe"
    server, port = start_emulator(second)
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", timeout=10,
                              verify=PLAIN_HTTP)
        after = client.get("/api_keys", headers=bearer(admin)).json()
        assert [k["id"] for k in after["data"]] == [k["id"] for k in before["data"]]
        balances = client.get("/billing/balance", headers=bearer(admin)).json()["balances"]
        assert (balances["usd"], balances["diem"]) == (7.0, 2.0)  # still pinned, not the chain's
        limits = client.get(f"/api_keys/{key_id}", headers=bearer(admin)).json()["data"]
        assert limits["consumptionLimits"]["usd"] == 3
        client.delete("/api_keys", params={"id": key_id}, headers=bearer(admin))
    finally:
        server.stop()
    third: Any = EmulatorState(rpc_url=emu.chain.rpc_url, clock=clock, persist_path=path)
    assert key_id not in third.keys and len(third.keys) == 1


# Every fault kind once more, this time through the sandbox-only control route, as a test
# written in another language (or a manual curl) would inject it.
def _control_add(emu: Emu, route: str, fault: dict[str, Any], times: int = 1) -> None:
    reply = httpx.post(emu.origin + "/_sandbox/faults", verify=PLAIN_HTTP,
                       json={"route": route, "fault": fault, "times": times}, timeout=10)
    assert reply.status_code == 200, reply.text


def test_control_route_status_body_and_times(emu: Emu) -> None:
    _, admin = emu.admin()
    _control_add(emu, "GET /api_keys", {"status": 503, "body": {"error": "maintenance"}},
                 times=2)
    replies = [emu.http.get("/api_keys", headers=admin) for _ in range(3)]
    assert [(r.status_code, r.json().get("error")) for r in replies[:2]] == [
        (503, "maintenance")] * 2
    assert replies[2].status_code == 200


def test_control_route_rate_limited_with_retry_after(emu: Emu) -> None:
    _control_add(emu, "GET /api_keys/generate_web3_key", {"status": 429, "retry_after": 2.5})
    reply = emu.http.get("/api_keys/generate_web3_key")
    assert (reply.status_code, reply.headers["retry-after"]) == (429, "2.5")
    assert reply.json() == {"error": "Rate limit exceeded"}


def test_control_route_commit_then_fail(emu: Emu) -> None:
    _, admin = emu.admin()
    _control_add(emu, "POST /api_keys", {"status": 502, "commit": True})
    assert emu.http.post("/api_keys", json=NEW_KEY, headers=admin).status_code == 502
    assert count_keys(emu, admin) == 2  # the key exists although the answer was an error


def test_control_route_commit_then_drop(emu: Emu) -> None:
    _, admin = emu.admin()
    _control_add(emu, "POST /api_keys", {"drop": True, "commit": True})
    with pytest.raises(httpx.RemoteProtocolError):
        emu.http.post("/api_keys", json=NEW_KEY, headers=admin)
    assert count_keys(emu, admin) == 2


def test_control_route_hang(emu: Emu) -> None:
    _, admin = emu.admin()
    _control_add(emu, "PATCH /api_keys", {"hang": 5})
    with pytest.raises(httpx.ReadTimeout):
        emu.http.patch("/api_keys", json={"id": "x"}, headers=admin, timeout=0.3)


def test_control_route_malformed_and_latency(emu: Emu) -> None:
    _, admin = emu.admin()
    _control_add(emu, "GET /billing/balance", {"malformed": True})
    with pytest.raises(json.JSONDecodeError):
        emu.http.get("/billing/balance", headers=admin).json()
    _control_add(emu, "GET /billing/balance", {"latency": 0.3})
    started = time.monotonic()
    assert emu.http.get("/billing/balance", headers=admin).status_code == 200
    assert time.monotonic() - started >= 0.3
    assert httpx.post(emu.origin + "/_sandbox/latency", verify=PLAIN_HTTP,
                      json={"seconds": 0.2}).status_code == 200
    started = time.monotonic()
    emu.http.get("/billing/balance", headers=admin)
    assert time.monotonic() - started >= 0.2
    # latency off too
    assert httpx.delete(emu.origin + "/_sandbox/faults", verify=PLAIN_HTTP).status_code == 200
    assert emu.state.faults.latency == 0


@pytest.mark.parametrize("payload", [
    {"route": "GET /api_keys", "fault": {"status": "500"}},
    {"route": "GET /api_keys", "fault": {"latency": "slow"}},
    {"route": "GET /api_keys", "fault": {"status": 500}, "times": 0},
    {"route": "GET /api_keys", "fault": {"status": 500}, "times": "x"},
    {"route": "GET /api_keys", "fault": {"status": 99}},
    {"fault": {"status": 500}},
])
def test_control_route_rejects_bad_faults_with_400(emu: Emu, payload: dict[str, Any]) -> None:
    reply = httpx.post(emu.origin + "/_sandbox/faults", verify=PLAIN_HTTP, json=payload, timeout=10)
    assert reply.status_code == 400 and reply.json()["error"]
    assert emu.state.faults.pending() == {}
    bad_latency = httpx.post(emu.origin + "/_sandbox/latency", verify=PLAIN_HTTP,
                             json={"seconds": None})
    assert bad_latency.status_code == 400


def test_a_corrupt_state_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text("{not json")
    with pytest.raises(ValueError, match="not a readable emulator state file"):
        EmulatorState(rpc_url="http://127.0.0.1:9", persist_path=path)
    path.write_text(json.dumps({"version": 1}))
    with pytest.raises(ValueError, match="delete it or pick another path"):
        EmulatorState(rpc_url="http://127.0.0.1:9", persist_path=path)
