"""Provisioning from several processes sharing one create budget in a real redis-server.

The processes are real (`python -m tests.flows.provision_worker`), talk to the sandbox over
loopback HTTP and to Redis over loopback TCP; nothing is mocked.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tests.harness import SandboxAccount

REPO = Path(__file__).resolve().parents[2]


def _worker(env: dict[str, str], out_dir: Path, customers: list[str]) -> subprocess.Popen[str]:
    out_dir.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [sys.executable, "-m", "tests.flows.provision_worker", str(out_dir), *customers],
        env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _env(sandbox: Any, account: SandboxAccount, redis_url: str, budget: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VENICE_", "BASE_RPC"))}
    assert account.admin_key is not None
    env.update(sandbox.env(None))
    env.update({"VENICE_ADMIN_KEY": account.admin_key.reveal(), "VENICE_BUDGET_URL": redis_url,
                "VENICE_CREATE_BUDGET": budget, "VENICE_TIMEOUT": "5"})
    return env


def _customer_keys(sandbox: Any, account: SandboxAccount) -> Counter[str]:
    return Counter(k.description for k in sandbox.emulator.live_keys(account.address)
                   if k.description.startswith("cust:"))


def _post_statuses(sandbox: Any, since: int) -> list[int | None]:
    return [r.status for r in sandbox.emulator.requests()[since:]
            if r.method == "POST" and r.path.endswith("/api_keys")]


def test_racing_processes_share_the_budget_and_make_one_key_per_customer(
        venice_sandbox: Any, account: SandboxAccount, redis_server: Any, tmp_path: Path) -> None:
    """Three replicas onboard the same nine customers at once: the shared budget (3 per 3 s)
    keeps them under the emulator's 3 per 2.4 s, so no 429; each customer gets one key. (The
    0.6 s margin absorbs request-latency jitter on a loaded machine, as the default budget's
    61 s against Venice's 60 s does.)"""
    venice_sandbox.emulator.create_limit, venice_sandbox.emulator.create_window = 3, 2.4
    customers = [f"fleet{n}" for n in range(9)]
    env = _env(venice_sandbox, account, redis_server.url(5), "3 per 3 seconds")
    since = len(venice_sandbox.emulator.requests())
    procs = [_worker(env, tmp_path / f"replica{n}", customers) for n in range(3)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [err for _, err in outputs]
    per_process = [[json.loads(line) for line in out.splitlines()] for out, _ in outputs]

    assert _post_statuses(venice_sandbox, since).count(429) == 0
    assert _customer_keys(venice_sandbox, account) == Counter(
        {f"cust:{c}": 1 for c in customers})
    created: list[str] = []
    for results in per_process:
        assert sorted(r["customer"] for r in results) == customers
        assert {r["status"] for r in results} <= {"created", "exists"}, results
        assert sum(r["throttled"] for r in results) == 0
        created += [r["customer"] for r in results if r["status"] == "created"]
    assert sorted(created) == customers
    # every secret went to exactly one replica's directory, in a 0600 file
    files = sorted(p.name for p in tmp_path.glob("replica*/*.key"))
    assert files == sorted(f"{c}.key" for c in customers)
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in tmp_path.glob("replica*/*.key"))
    # and the server's own stamps: paced over three windows, not one burst
    stamps = sorted(k.created_at.timestamp() for k in
                    venice_sandbox.emulator.live_keys(account.address)
                    if k.description.startswith("cust:fleet"))
    assert all(stamps[i + 3] - stamps[i] >= 2.4 for i in range(len(stamps) - 3))
    assert stamps[-1] - stamps[0] >= 2 * 2.4


def test_a_killed_process_is_finished_by_a_rerun(
        venice_sandbox: Any, account: SandboxAccount, redis_server: Any, tmp_path: Path) -> None:
    """SIGKILL while the run waits for the budget; the re-run (another process, same Redis
    budget) reports what exists, makes the rest, and no customer ends up with two keys."""
    customers = [f"crash{n}" for n in range(5)]
    env = _env(venice_sandbox, account, redis_server.url(6), "2 per 3 seconds")
    first = _worker(env, tmp_path / "first", customers)
    assert first.stdout is not None
    lines = [first.stdout.readline(), first.stdout.readline()]
    time.sleep(0.3)  # the third create now waits for the budget's window
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=30)
    made = {json.loads(line)["customer"]: json.loads(line)["status"] for line in lines}
    assert list(made.values()) == ["created", "created"]  # (a random start in the list)
    assert _customer_keys(venice_sandbox, account) == Counter({f"cust:{c}": 1 for c in made})

    since = len(venice_sandbox.emulator.requests())
    rerun = _worker(env, tmp_path / "rerun", customers)
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    statuses = {r["customer"]: r["status"] for r in map(json.loads, out.splitlines())}
    assert statuses == {c: "exists" if c in made else "created" for c in customers}
    assert _post_statuses(venice_sandbox, since) == [200, 200, 200]
    assert _customer_keys(venice_sandbox, account) == Counter(
        {f"cust:{c}": 1 for c in customers})
