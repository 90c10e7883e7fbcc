"""Fleet provisioning on the sandbox: 429s, creates per minute ÷ 20, keys per customer.

How the windows agree. Venice allows 20 creates per rolling 60 s; the default create budget
admits 20 per 61 s (the extra second absorbs request-latency jitter). The budget counts on the
real clock (in this process, or in Redis for several processes), so the emulator keeps its real
clock too and both windows are scaled down together: the budget admits 20 per `--window` seconds
(default 10) and the emulator allows 20 per 0.97 × `--window` (9.7 s), the same kind of margin
(0.3 s: request latency jitter on a busy host, plus the up to 0.1 s a fresh but unspent slot may
wait to serve the next customer).
"Per minute" below means per emulator window; `--window 61` runs at Venice's own scale
(60 s vs 61 s), about three minutes a scenario.

Scenarios, each on a fresh account with `--customers` customers (default 60):
  budget, 1 process     provision_customer_keys, memory:// budget
  budget, 3 processes   three replicas onboard the same customers at once, one Redis budget
  naive loop, 1 and 3   one list call, then provision_customer_key for each customer without
                        a key, waiting out each 429's Retry-After; no budget, no claims

Columns: 429s as the emulator counted them; creates/min ÷ 20, sustained (after the window's
first burst of 20: (N - 20) creates over the span from the 20th to the N-th server timestamp,
per emulator window, divided by 20); keys per customer (min-max, from the emulator); wall time.

    .venv/bin/python benchmarks/provision.py [--customers 60] [--window 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from venice_web3_keys.api import AsyncVeniceKeys
from venice_web3_keys.errors import RateLimitError
from venice_web3_keys.sandbox.emulator.state import REQUEST_LOG_SIZE
from venice_web3_keys.sandbox.redis_server import LocalRedis, find_redis_server
from venice_web3_keys.sandbox.runner import Sandbox
from venice_web3_keys.settings import load_settings
from venice_web3_keys.sinks import FileSink

LIMIT = 20
EMULATOR_SHARE = 0.97  # the emulator's window, as a share of the budget's


async def provision(out_dir: Path, customers: list[str]) -> list[dict[str, Any]]:
    """One process's run, settings from the environment (as a deployed replica would)."""
    async with AsyncVeniceKeys(load_settings()) as vk:
        run = vk.provision_customer_keys(
            customers, sink_factory=lambda c: FileSink(out_dir / f"{c}.key"), usd_limit=1)
        return [{**r.to_public_dict(), "throttled": r.throttled} async for r in run]


async def naive_loop(customers: list[str]) -> int:
    """No budget: skip customers listed with a key, create the others, and on a 429 wait as
    told and try again. Returns the 429s seen."""
    refused = 0
    async with AsyncVeniceKeys(load_settings()) as vk:
        have = {k.description for k in await vk.list_keys()}
        for customer in customers:
            if f"cust:{customer}" in have:
                continue
            while True:
                try:
                    await vk.provision_customer_key(customer, usd_limit=1)
                    break
                except RateLimitError as exc:
                    refused += 1
                    await asyncio.sleep(exc.retry_after or 1.0)
    return refused


class Bench:
    def __init__(self, sandbox: Sandbox, window: int, customers: int) -> None:
        self.sandbox = sandbox
        self.window = window
        self.customers = [f"bench{n:03d}" for n in range(customers)]
        self.tmp = Path(tempfile.mkdtemp(prefix="provision-bench-"))
        sandbox.emulator.create_limit = LIMIT
        sandbox.emulator.create_window = window * EMULATOR_SHARE

    def account_env(self, budget_url: str) -> tuple[str, dict[str, str]]:
        address, _key = self.sandbox.new_wallet()
        _id, admin = self.sandbox.emulator.create_account_with_admin_key(address)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VENICE_", "BASE_RPC"))}
        env.update(self.sandbox.env(None))
        env.update({"VENICE_ADMIN_KEY": admin.reveal(), "VENICE_BUDGET_URL": budget_url,
                    "VENICE_CREATE_BUDGET": f"{LIMIT} per {self.window} seconds"})
        return address, env

    def measure(self, name: str, address: str, since: int, wall: float) -> dict[str, Any]:
        log = self.sandbox.emulator.requests()
        if len(log) >= REQUEST_LOG_SIZE:
            print(f"warning: the emulator's request log is full; {name}'s 429s undercounted")
        posts = [r.status for r in log[since:] if r.method == "POST"]
        keys = [k for k in self.sandbox.emulator.live_keys(address)
                if k.description.startswith("cust:")]
        per_customer = Counter(k.description for k in keys)
        counts = [per_customer.get(f"cust:{c}", 0) for c in self.customers]
        stamps = sorted(k.created_at.timestamp() for k in keys)
        ratio = float("nan")
        if len(stamps) > LIMIT:
            span = stamps[-1] - stamps[LIMIT - 1]
            per_window = (len(stamps) - LIMIT) / span * self.sandbox.emulator.create_window
            ratio = per_window / LIMIT
        return {"name": name, "429s": posts.count(429), "ratio": ratio,
                "keys": f"{min(counts)}-{max(counts)}", "wall": wall, "creates": len(keys)}

    def one_process(self) -> dict[str, Any]:
        address, env = self.account_env("memory://")
        since, start = len(self.sandbox.emulator.requests()), time.monotonic()
        out = self.tmp / "one"
        out.mkdir()
        saved = dict(os.environ)
        os.environ.update(env)
        try:
            results = asyncio.run(provision(out, self.customers))
        finally:
            os.environ.clear()
            os.environ.update(saved)
        assert all(r["status"] == "created" for r in results), results
        return self.measure("budget, 1 process", address, since, time.monotonic() - start)

    def three_processes(self, redis: LocalRedis) -> dict[str, Any]:
        address, env = self.account_env(redis.url(0))
        since, start = len(self.sandbox.emulator.requests()), time.monotonic()
        procs = []
        for n in range(3):
            out = self.tmp / f"replica{n}"
            out.mkdir()
            procs.append(subprocess.Popen(
                [sys.executable, __file__, "--worker", str(out), *self.customers], env=env,
                stdout=subprocess.PIPE, text=True))
        outputs = [p.communicate(timeout=30 * self.window)[0] for p in procs]
        if any(p.returncode for p in procs):
            raise SystemExit("a replica failed")
        statuses = Counter(r["status"] for out in outputs for r in json.loads(out))
        assert set(statuses) <= {"created", "exists"}, statuses
        return self.measure("budget, 3 processes (Redis)", address, since,
                            time.monotonic() - start)

    def naive(self, processes: int) -> dict[str, Any]:
        address, env = self.account_env("memory://")
        since, start = len(self.sandbox.emulator.requests()), time.monotonic()
        procs = [subprocess.Popen([sys.executable, __file__, "--naive-worker", *self.customers],
                                  env=env, stdout=subprocess.PIPE, text=True)
                 for _ in range(processes)]
        for proc in procs:
            proc.communicate(timeout=30 * self.window)
        name = f"naive loop, {processes} process{'es' if processes > 1 else ''}"
        return self.measure(name, address, since, time.monotonic() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--customers", type=int, default=60)
    parser.add_argument("--window", type=int, default=10,
                        help="the budget's window in seconds (the emulator's is 0.98 of it)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--naive-worker", action="store_true", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.worker:  # a replica: provision the customers given, print the results
        print(json.dumps(asyncio.run(provision(Path(args.worker), rest))))
        return
    if args.naive_worker:
        print(asyncio.run(naive_loop(rest)))
        return
    rows = []
    with Sandbox.start() as sandbox:
        bench = Bench(sandbox, args.window, args.customers)
        rows.append(bench.one_process())
        if find_redis_server() is None:
            print("redis-server not found: the 3-process scenario is skipped "
                  "(sudo apt-get install redis-server)")
        else:
            with LocalRedis.start() as redis:
                rows.append(bench.three_processes(redis))
        rows.append(bench.naive(1))
        rows.append(bench.naive(3))
    emulator_window = args.window * EMULATOR_SHARE
    print(f"\n{args.customers} customers; budget {LIMIT} per {args.window} s, emulator "
          f"{LIMIT} per {emulator_window:g} s (Venice: {LIMIT} per 60 s, budget 20 per 61 s)")
    print(f"{'scenario':30} {'429s':>5} {'creates/min ÷ 20':>17} {'keys/customer':>14} "
          f"{'wall s':>7}")
    for row in rows:
        print(f"{row['name']:30} {row['429s']:5d} {row['ratio']:17.3f} {row['keys']:>14} "
              f"{row['wall']:7.1f}")
    print("goals: 0 429s and >= 0.95 with the budget; exactly 1 key per customer")


if __name__ == "__main__":
    main()
