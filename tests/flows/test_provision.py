"""Fleet provisioning (flows/provision.py) against the sandbox over loopback HTTP.

Idempotent (a re-run sends no POST), resumable (after a crash or a cancellation), never two keys
for one customer, paced by the create budget so the emulator's 429 never comes, a 429 that does
come honoured, and the 500-key cap reported before any create Venice would refuse.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.flows.conftest import RequestLog
from tests.harness import SandboxAccount, sandbox_settings
from venice_web3_keys.api import AsyncVeniceKeys, VeniceKeys
from venice_web3_keys.errors import InvalidInputError
from venice_web3_keys.flows.provision import ProvisionResult
from venice_web3_keys.sandbox.emulator.faults import Fault
from venice_web3_keys.sinks import FileSink

POST = "POST /api_keys"


def files_in(directory: Path) -> Callable[[str], FileSink]:
    return lambda customer: FileSink(directory / f"{customer}.key")


def keys_per_customer(sandbox: Any, account: SandboxAccount) -> Counter[str]:
    return Counter(k.description for k in sandbox.emulator.live_keys(account.address)
                   if k.description.startswith("cust:"))


def statuses(results: list[ProvisionResult]) -> dict[str, str]:
    return {r.customer: r.status for r in results}


def post_statuses(log: RequestLog) -> list[int | None]:
    return [r.status for r in log.entries() if r.method == "POST"]


async def test_provision_then_rerun_reports_exists_and_sends_no_post(
        venice_sandbox: Any, vk: AsyncVeniceKeys, account: SandboxAccount, request_log: Any,
        tmp_path: Path) -> None:
    customers = ["acme", "globex", "initech", "acme"]  # a duplicate is provisioned once
    log = request_log()
    results = [r async for r in vk.provision_customer_keys(
        customers, sink_factory=files_in(tmp_path), usd_limit=5)]
    assert statuses(results) == dict.fromkeys(["acme", "globex", "initech"], "created")
    assert len(results) == 3
    for result in results:
        secret_file = tmp_path / f"{result.customer}.key"
        assert secret_file.stat().st_mode & 0o777 == 0o600
        assert result.new_key is not None
        assert secret_file.read_text().strip() == result.new_key.secret.reveal()
        assert result.last6 == result.new_key.secret.reveal()[-6:]
        assert result.to_public_dict() == {
            "customer": result.customer, "status": "created", "id": result.key_id,
            "last6": result.last6, "error": None,
            "sink": {"kind": "file", "location": str(secret_file)}}
        assert result.new_key.secret.reveal() not in repr(result)
    assert log.count("POST", "/api_keys") == 3
    assert keys_per_customer(venice_sandbox, account) == dict.fromkeys(
        ["cust:acme", "cust:globex", "cust:initech"], 1)

    rerun = request_log()
    again = [r async for r in vk.provision_customer_keys(
        customers, sink_factory=files_in(tmp_path / "nowhere"), usd_limit=5)]
    assert statuses(again) == dict.fromkeys(["acme", "globex", "initech"], "exists")
    assert {r.customer: r.key_id for r in again} == {r.customer: r.key_id for r in results}
    assert {r.customer: r.last6 for r in again} == {r.customer: r.last6 for r in results}
    assert rerun.routes() == ["GET /api_keys"]  # one list call, no POST
    assert not (tmp_path / "nowhere").exists()


def test_sync_facade_returns_a_list(venice_sandbox: Any, account: SandboxAccount,
                                    tmp_path: Path) -> None:
    with VeniceKeys(account.settings) as vk:
        results = vk.provision_customer_keys(["s1", "s2"], sink_factory=files_in(tmp_path),
                                             diem_limit=1)
        assert isinstance(results, list)
        assert [(r.customer, r.status) for r in results] == [("s1", "created"),
                                                             ("s2", "created")]
        assert [r.status for r in vk.provision_customer_keys(
            ["s2", "s1"], sink_factory=files_in(tmp_path), diem_limit=1)] == ["exists"] * 2


@pytest.mark.parametrize(("customers", "options", "field"), [
    (["ok", "a b"], {"usd_limit": 1}, "customer_ids"),
    (["ok", ""], {"usd_limit": 1}, "customer_ids"),
    (["ok", "x" * 49], {"usd_limit": 1}, "customer_ids"),
    (["ok", 7], {"usd_limit": 1}, "customer_ids"),
    ("acme", {"usd_limit": 1}, "customer_ids"),  # a string, not a list of ids
    (["ok"], {}, "usd_limit"),  # a customer key needs a cap
    ([], {}, "usd_limit"),  # options are checked even with nothing to do
    (["ok"], {"usd_limit": -1}, "usd_limit"),
    (["ok"], {"usd_limit": 1, "limit_period": "WEEK"}, "limit_period"),
])
async def test_bad_input_is_refused_before_anything_is_sent(
        vk: AsyncVeniceKeys, request_log: Any, tmp_path: Path, customers: Any,
        options: dict[str, Any], field: str) -> None:
    log = request_log()
    with pytest.raises(InvalidInputError) as info:
        vk.provision_customer_keys(customers, sink_factory=files_in(tmp_path), **options)
    assert info.value.field == field
    assert log.entries() == [] and list(tmp_path.iterdir()) == []


async def test_a_pasted_secret_as_customer_id_is_refused_and_not_echoed(
        vk: AsyncVeniceKeys, request_log: Any, tmp_path: Path) -> None:
    from tests.fakes import fake_key

    secret = fake_key("ADMIN", "pasted")
    log = request_log()
    for bad in (secret, secret[:40]):  # whole, or cut to a length the id rule would allow
        with pytest.raises(InvalidInputError) as info:
            vk.provision_customer_keys(["ok", bad], sink_factory=files_in(tmp_path),
                                       usd_limit=1)
        assert bad not in str(info.value) and secret[-6:] not in str(info.value)
        assert "#2" in str(info.value)
    with pytest.raises(InvalidInputError):
        vk.provision_customer_keys(["ok"], sink_factory="not callable",  # type: ignore[arg-type]
                                   usd_limit=1)
    assert log.entries() == []


async def test_the_500_cap_is_reported_before_any_create_it_would_refuse(
        venice_sandbox: Any, vk: AsyncVeniceKeys, account: SandboxAccount, request_log: Any,
        tmp_path: Path) -> None:
    # The admin key plus 496 seeded keys: 497 active, so 3 of the 5 new customers fit.
    venice_sandbox.emulator.seed_keys(account.address, 496)
    log = request_log()
    results = [r async for r in vk.provision_customer_keys(
        ["c1", "c2", "c3", "c4", "c5"], sink_factory=files_in(tmp_path), usd_limit=1)]
    assert [r.status for r in results] == ["created"] * 3 + ["failed"] * 2
    for failed in results[3:]:
        assert failed.error is not None
        assert "only 3 of the 5 new customer keys fit" in failed.error
        assert "497 are active" in failed.error and "Revoke" in failed.error
    assert post_statuses(log) == [200, 200, 200]  # nothing Venice would refuse was sent
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c1.key", "c2.key", "c3.key"]
    # customers that already have a key do not count against the room left
    again = [r async for r in vk.provision_customer_keys(
        ["c1", "c6"], sink_factory=files_in(tmp_path), usd_limit=1)]
    assert [r.status for r in again] == ["exists", "failed"]
    assert "only 0 of the 1" in (again[1].error or "")


async def test_a_cap_refusal_mid_run_stops_the_remaining_creates(
        venice_sandbox: Any, vk: AsyncVeniceKeys, account: SandboxAccount, request_log: Any,
        tmp_path: Path) -> None:
    venice_sandbox.emulator.seed_keys(account.address, 490)
    run = vk.provision_customer_keys([f"m{n}" for n in range(5)],
                                     sink_factory=files_in(tmp_path), usd_limit=1)
    plan = await run.prepare()
    assert (plan.to_create, plan.over_cap, plan.active_keys) == (5, 0, 491)
    venice_sandbox.emulator.seed_keys(account.address, 9)  # another client fills the account
    log = request_log()
    results = [r async for r in run]
    assert [r.status for r in results] == ["failed"] * 5
    assert all("500 active keys" in (r.error or "") for r in results)
    assert post_statuses(log) == [400]  # the first refusal, then nothing more was sent
    assert list(tmp_path.iterdir()) == []


async def test_a_429_is_honoured_counted_and_never_a_failure(
        venice_sandbox: Any, account: SandboxAccount, request_log: Any, tmp_path: Path) -> None:
    # Another client spends the minute behind our back: the budget allows 50/s, Venice 2/2 s.
    venice_sandbox.emulator.create_limit, venice_sandbox.emulator.create_window = 2, 2.0
    settings = sandbox_settings(venice_sandbox, admin_key=account.admin_key,
                             create_budget=(50, 1))
    log = request_log()
    async with AsyncVeniceKeys(settings) as vk:
        results = [r async for r in vk.provision_customer_keys(
            ["t1", "t2", "t3", "t4"], sink_factory=files_in(tmp_path), usd_limit=1)]
    assert [r.status for r in results] == ["created"] * 4
    throttled = sum(r.throttled for r in results)
    assert throttled >= 1 and post_statuses(log).count(429) == throttled
    assert post_statuses(log).count(200) == 4
    assert keys_per_customer(venice_sandbox, account) == Counter(
        {f"cust:t{n}": 1 for n in range(1, 5)})


async def test_a_429_without_retry_after_waits_a_budget_window(
        venice_sandbox: Any, account: SandboxAccount, tmp_path: Path) -> None:
    venice_sandbox.emulator.faults.add(POST, Fault(status=429))
    settings = sandbox_settings(venice_sandbox, admin_key=account.admin_key, create_budget=(5, 1))
    async with AsyncVeniceKeys(settings) as vk:
        loop = asyncio.get_running_loop()
        start = loop.time()
        results = [r async for r in vk.provision_customer_keys(
            ["w1"], sink_factory=files_in(tmp_path), usd_limit=1)]
        assert loop.time() - start >= 0.9
    assert [(r.status, r.throttled) for r in results] == [("created", 1)]


async def test_budget_paces_creates_so_no_429_arrives(
        venice_sandbox: Any, account: SandboxAccount, request_log: Any, tmp_path: Path) -> None:
    # The emulator allows 3 per 1.5 s; the budget admits 3 per 2 s (a margin for request
    # latency jitter, as the default, 20 per 61 s, keeps against Venice's 20 per 60 s).
    venice_sandbox.emulator.create_limit, venice_sandbox.emulator.create_window = 3, 1.5
    settings = sandbox_settings(venice_sandbox, admin_key=account.admin_key, create_budget=(3, 2))
    log = request_log()
    async with AsyncVeniceKeys(settings) as vk:
        run = vk.provision_customer_keys([f"p{n}" for n in range(7)],
                                         sink_factory=files_in(tmp_path), usd_limit=1)
        await run.prepare()
        assert 3.5 <= await run.eta() <= 4.5  # 3 now, 3 after 2 s, 1 after 4 s
        results = [r async for r in run]
    assert [r.status for r in results] == ["created"] * 7
    assert post_statuses(log) == [200] * 7 and sum(r.throttled for r in results) == 0
    created = sorted(k.created_at.timestamp() for k in
                     venice_sandbox.emulator.live_keys(account.address)
                     if k.description.startswith("cust:p"))
    # Paced: the 7th create lands two of the emulator's windows after the first, not in a
    # burst (the budget admits them 4 s apart; request latency may shift the server's stamps).
    assert created[-1] - created[0] >= 2 * 1.5


async def test_an_interrupted_run_is_finished_by_a_rerun(
        venice_sandbox: Any, vk: AsyncVeniceKeys, account: SandboxAccount, request_log: Any,
        tmp_path: Path) -> None:
    customers = [f"r{n}" for n in range(5)]
    run = vk.provision_customer_keys(customers, sink_factory=files_in(tmp_path), usd_limit=1)
    done = [await run.__anext__(), await run.__anext__()]  # then the process "dies"
    assert [r.status for r in done] == ["created"] * 2
    log = request_log()
    rest = [r async for r in vk.provision_customer_keys(
        customers, sink_factory=files_in(tmp_path), usd_limit=1)]
    assert statuses(rest) == {"r0": "exists", "r1": "exists", "r2": "created",
                              "r3": "created", "r4": "created"}
    assert log.count("POST", "/api_keys") == 3
    assert keys_per_customer(venice_sandbox, account) == Counter(
        {f"cust:{c}": 1 for c in customers})


async def test_cancel_finishes_the_create_in_flight_then_stops(
        venice_sandbox: Any, vk: AsyncVeniceKeys, account: SandboxAccount, request_log: Any,
        tmp_path: Path) -> None:
    venice_sandbox.emulator.faults.add(POST, Fault.slow(0))
    venice_sandbox.emulator.faults.add(POST, Fault.slow(1.5))  # the second create is slow
    run = vk.provision_customer_keys(["k1", "k2", "k3"], sink_factory=files_in(tmp_path),
                                     usd_limit=1)
    log = request_log()
    seen: list[ProvisionResult] = []

    async def consume() -> None:
        async for result in run:
            seen.append(result)

    task = asyncio.create_task(consume())
    while not seen:
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.5)  # the second POST is in flight now
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [(r.customer, r.status) for r in run.results] == [("k1", "created"),
                                                             ("k2", "created")]
    assert (tmp_path / "k2.key").read_text().strip() != ""  # its secret was delivered
    assert log.count("POST", "/api_keys") == 2 and not (tmp_path / "k3.key").exists()
    assert keys_per_customer(venice_sandbox, account) == Counter({"cust:k1": 1, "cust:k2": 1})


async def test_an_ambiguous_create_is_reconciled_and_the_rerun_makes_one_key(
        venice_sandbox: Any, vk: AsyncVeniceKeys, account: SandboxAccount, tmp_path: Path) -> None:
    venice_sandbox.emulator.faults.add(POST, Fault.commit_then_fail(500))
    first = [r async for r in vk.provision_customer_keys(
        ["a1", "a2"], sink_factory=files_in(tmp_path), usd_limit=1)]
    assert [r.status for r in first] == ["failed", "created"]
    assert "was revoked" in (first[0].error or "")
    assert not (tmp_path / "a1.key").exists()
    second = [r async for r in vk.provision_customer_keys(
        ["a1", "a2"], sink_factory=files_in(tmp_path), usd_limit=1)]
    assert [r.status for r in second] == ["created", "exists"]
    assert keys_per_customer(venice_sandbox, account) == Counter({"cust:a1": 1, "cust:a2": 1})


async def test_an_existing_secret_file_fails_that_customer_without_a_post(
        vk: AsyncVeniceKeys, request_log: Any, tmp_path: Path) -> None:
    (tmp_path / "f1.key").write_text("keep me\n")
    log = request_log()
    results = [r async for r in vk.provision_customer_keys(
        ["f1", "f2"], sink_factory=files_in(tmp_path), usd_limit=1)]
    assert [r.status for r in results] == ["failed", "created"]
    assert "already exists" in (results[0].error or "")
    assert (tmp_path / "f1.key").read_text() == "keep me\n"
    assert log.count("POST", "/api_keys") == 1


async def test_two_runs_racing_on_one_list_make_one_key_per_customer(
        venice_sandbox: Any, account: SandboxAccount, tmp_path: Path) -> None:
    customers = [f"d{n}" for n in range(6)]
    one, two = AsyncVeniceKeys(account.settings), AsyncVeniceKeys(account.settings)
    try:
        async def run(vk: AsyncVeniceKeys, where: Path) -> list[ProvisionResult]:
            where.mkdir()
            return [r async for r in vk.provision_customer_keys(
                customers, sink_factory=files_in(where), usd_limit=1)]

        first, second = await asyncio.gather(run(one, tmp_path / "one"),
                                             run(two, tmp_path / "two"))
    finally:
        await one.aclose()
        await two.aclose()
    assert keys_per_customer(venice_sandbox, account) == Counter(
        {f"cust:{c}": 1 for c in customers})
    for results in (first, second):
        assert sorted(r.customer for r in results) == customers
        assert {r.status for r in results} <= {"created", "exists"}
    made = [r.customer for r in first + second if r.status == "created"]
    assert sorted(made) == customers  # each customer created by exactly one of the runs


async def test_a_churned_customer_is_provisioned_again_at_once(
        venice_sandbox: Any, vk: AsyncVeniceKeys, account: SandboxAccount, tmp_path: Path) -> None:
    # The first run leaves a "made" mark for a window (61 s); after churn the customer has no
    # key, and the next run must make one now, not wait for the mark to run out.
    first = [r async for r in vk.provision_customer_keys(
        ["churn"], sink_factory=files_in(tmp_path), usd_limit=1)]
    assert await vk.revoke_customer_keys("churn") == [first[0].key_id]
    (tmp_path / "2").mkdir()
    loop = asyncio.get_running_loop()
    start = loop.time()
    again = [r async for r in vk.provision_customer_keys(
        ["churn"], sink_factory=files_in(tmp_path / "2"), usd_limit=1)]
    assert loop.time() - start < 5
    assert [r.status for r in again] == ["created"] and again[0].key_id != first[0].key_id
    assert keys_per_customer(venice_sandbox, account) == Counter({"cust:churn": 1})
