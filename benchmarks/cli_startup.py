"""Cold start of the CLI's request commands beside a bare httpx script doing the same GET.

    .venv/bin/python benchmarks/cli_startup.py [-n 11] [--json]

Starts a local sandbox (anvil + emulator) in this process, makes an ADMIN key and one INFERENCE
key on it, then runs every command below n times, interleaved round-robin so machine noise hits
each pair alike, and compares each to its baseline:

  venice-keys --json keys list     vs  a bare script: import httpx, GET /api_keys, print the JSON
  venice-keys --json keys get ID   vs  the same script on GET /api_keys/ID
  venice-keys --json limits        vs  ... GET /api_keys/rate_limits
  venice-keys --json billing       vs  ... GET /billing/balance
  venice-keys --help               vs  python -c "import httpx" (the CLI's one unavoidable import)

and, to tell our own overhead from the stack's, a floor: the keys-list GET made the way any
click CLI with an async httpx client and pydantic models makes it, with no code of ours.

The ratio is the median, over the rounds, of the command's wall time over its baseline's in the
same round: the two run back to back, so a machine that slows down for a while (a shared VM's
usual state) slows both and the ratio holds, where a ratio of two medians taken from different
rounds moves with it. CPU time (user + sys of the child) is reported beside it the same way.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

#: the same GET the CLI command makes, with nothing else: the floor a CLI is compared to
BARE_GET = """\
import json, os, sys
import httpx
auth = {"Authorization": "Bearer " + os.environ["VENICE_ADMIN_KEY"]}
response = httpx.get(os.environ["VENICE_API_BASE_URL"] + sys.argv[1], headers=auth, timeout=30)
response.raise_for_status()
print(json.dumps(response.json(), indent=2))
"""

#: the same GET through asyncio + httpx.AsyncClient + click + a pydantic model, nothing of ours:
#: what the stack the CLI is built on costs by itself (with, as the CLI, no CA bundle loaded for
#: plain http, and a normal interpreter exit)
FLOOR_GET = """\
import sys
sys.modules["httpx._main"] = None  # as venice-keys does: httpx's own CLI is not wanted
import asyncio, json, os, ssl
import click, httpx
from pydantic import BaseModel, ConfigDict

class Item(BaseModel):
    model_config = ConfigDict(extra="allow")

async def get():
    auth = {"Authorization": "Bearer " + os.environ["VENICE_ADMIN_KEY"]}
    no_ca = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # as bounded_http.tls_context for http://
    async with httpx.AsyncClient(timeout=30, verify=no_ca) as client:
        response = await client.get(os.environ["VENICE_API_BASE_URL"] + sys.argv[1], headers=auth)
    response.raise_for_status()
    return response.json()

items = [Item.model_validate(item) for item in asyncio.run(get())["data"]]
print(json.dumps({"data": [item.model_dump() for item in items]}, indent=2))
"""

#: ratio goals: the request commands against their bare GET, --help against `import httpx`
REQUEST_GOAL = 1.3
HELP_GOAL = 0.6


@dataclass
class Row:
    command: str
    baseline: str
    median_ms: float
    baseline_ms: float
    ratio: float
    cpu_ratio: float
    goal: float | None  # None: shown for reference

    @property
    def ok(self) -> bool:
        return self.goal is None or self.ratio <= self.goal


def _run(cmd: list[str], env: dict[str, str], cwd: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child) of one run; a failed run ends the benchmark."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, check=False)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[-3:]} exited {proc.returncode}: {proc.stderr.decode()[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def measure(runs: int, cli: str | None = None) -> list[Row]:
    """Start a sandbox, time every command and its baseline `runs` times, interleaved.

    `cli`: another `venice-keys` to time (e.g. an older checkout's, for a before/after table);
    by default this environment's."""
    from venice_web3_keys.sandbox.runner import Sandbox

    cli = cli or str(Path(sys.executable).parent / "venice-keys")
    py = sys.executable
    with Sandbox.start() as sandbox, tempfile.TemporaryDirectory() as cwd:
        address = sandbox.new_wallet()[0]
        _, admin_key = sandbox.emulator.create_account_with_admin_key(address)
        key_id, _ = sandbox.emulator.create_account_with_admin_key(address)  # one to `get`
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VENICE_", "BASE_"))}
        env.update(sandbox.env())
        env["VENICE_ADMIN_KEY"] = admin_key.reveal()
        pairs = {
            "keys list": (["keys", "list"], "/api_keys"),
            "keys get ID": (["keys", "get", key_id], f"/api_keys/{key_id}"),
            "limits": (["limits"], "/api_keys/rate_limits"),
            "billing": (["billing"], "/billing/balance"),
        }
        cases: dict[str, list[str]] = {}
        rows: list[tuple[str, str, float | None]] = []
        for name, (args, route) in pairs.items():
            command = f"venice-keys --json {name}"
            baseline = f"bare httpx GET {route.replace(key_id, 'ID')}"
            cases[command] = [cli, "--json", *args]
            cases[baseline] = [py, "-c", BARE_GET, route]
            rows.append((command, baseline, REQUEST_GOAL))
        floor = "floor: asyncio + httpx + click + pydantic, GET /api_keys"
        cases[floor] = [py, "-c", FLOOR_GET, "/api_keys"]
        rows.append((floor, "bare httpx GET /api_keys", None))
        rows.append(("venice-keys --json keys list", floor, None))
        cases["venice-keys --help"] = [cli, "--help"]
        cases['python -c "import httpx"'] = [py, "-c", "import httpx"]
        rows.append(("venice-keys --help", 'python -c "import httpx"', HELP_GOAL))

        for cmd in cases.values():  # warm the OS page cache once; not counted
            _run(cmd, env, cwd)
        wall: dict[str, list[float]] = {name: [] for name in cases}
        cpu: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(runs):
            for name, cmd in cases.items():
                w, c = _run(cmd, env, cwd)
                wall[name].append(w)
                cpu[name].append(c)

    def median(samples: dict[str, list[float]], name: str) -> float:
        return statistics.median(samples[name])

    def paired(samples: dict[str, list[float]], command: str, baseline: str) -> float:
        return statistics.median(c / b for c, b in zip(samples[command], samples[baseline],
                                                       strict=True))

    return [Row(command, baseline, round(median(wall, command) * 1000, 1),
                round(median(wall, baseline) * 1000, 1),
                round(paired(wall, command, baseline), 2),
                round(paired(cpu, command, baseline), 2), goal)
            for command, baseline, goal in rows]


def markdown(rows: list[Row], runs: int) -> str:
    """The rows as a Markdown table (the README's Development section shows this)."""
    lines = ["| command | baseline | median | ratio (goal) | CPU ratio |",
             "|---|---|---:|---:|---:|"]
    for row in rows:
        mark = "" if row.ok else " ✗"
        goal = "" if row.goal is None else f" (≤ {row.goal}){mark}"
        command = row.command if row.command.startswith("floor") else f"`{row.command}`"
        lines.append(f"| {command} | {row.baseline} | {row.median_ms:.0f} ms | "
                     f"{row.ratio:.2f}×{goal} | {row.cpu_ratio:.2f}× |")
    lines.append(f"\nMedian of {runs} interleaved cold starts each, same run, same sandbox; a "
                 "ratio is the median of the rounds' ratios (each command beside its baseline "
                 "in the same round).")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-n", type=int, default=11, help="runs per command (default 11)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--cli", help="the venice-keys to time (default: this environment's), "
                        "e.g. another checkout's .venv/bin/venice-keys for a before/after table")
    args = parser.parse_args(argv)
    rows = measure(args.n, args.cli)
    if args.json:
        print(json.dumps({"runs": args.n, "results": [asdict(r) | {"ok": r.ok} for r in rows]},
                         indent=2))
    else:
        print(f"median of {args.n} cold starts (interleaved, same run)")
        for row in rows:
            goal = "" if row.goal is None else \
                f" (goal <= {row.goal}{'' if row.ok else ', MISSED'})"
            print(f"  {row.command:<30} {row.median_ms:7.1f} ms  x{row.ratio:.2f} of "
                  f"{row.baseline}{goal}; CPU x{row.cpu_ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
