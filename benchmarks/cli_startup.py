"""Cold-start time of the CLI beside `python -c "import httpx"`, measured in the same run.

    .venv/bin/python benchmarks/cli_startup.py [-n 15] [--json]

Starts a local sandbox (anvil + emulator) in this process, makes an ADMIN key on it, then runs,
interleaved round-robin so machine noise hits all three alike:
  - `venice-keys --help`
  - `venice-keys keys list --json` against the sandbox
  - `python -c "import httpx"` (the floor: the CLI's one unavoidable dependency)
and prints the median wall time of each and its ratio to the httpx baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _time(cmd: list[str], env: dict[str, str], cwd: str) -> float:
    began = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, check=False)
    elapsed = time.perf_counter() - began
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[-3:]} exited {proc.returncode}: {proc.stderr.decode()[-500:]}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-n", type=int, default=15, help="runs per command (default 15)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)

    from venice_web3_keys.sandbox.runner import Sandbox

    bindir = Path(sys.executable).parent
    cli = str(bindir / "venice-keys")
    with Sandbox.start() as sandbox, tempfile.TemporaryDirectory() as cwd:
        _account, admin_key = sandbox.emulator.create_account_with_admin_key()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VENICE_", "BASE_"))}
        env.update(sandbox.env())
        env["VENICE_ADMIN_KEY"] = admin_key.reveal()
        cases = {
            "venice-keys --help": [cli, "--help"],
            "venice-keys keys list --json": [cli, "keys", "list", "--json"],
            'python -c "import httpx"': [sys.executable, "-c", "import httpx"],
        }
        for cmd in cases.values():  # warm the OS page cache once; not counted
            _time(cmd, env, cwd)
        samples: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.n):
            for name, cmd in cases.items():
                samples[name].append(_time(cmd, env, cwd))

    base = statistics.median(samples['python -c "import httpx"'])
    rows = [{"command": name, "median_ms": round(statistics.median(s) * 1000, 1),
             "min_ms": round(min(s) * 1000, 1),
             "ratio_to_httpx": round(statistics.median(s) / base, 2)}
            for name, s in samples.items()]
    if args.json:
        print(json.dumps({"runs": args.n, "results": rows}, indent=2))
    else:
        print(f"median of {args.n} cold starts (interleaved, same run)")
        for row in rows:
            print(f"  {row['command']:<32} {row['median_ms']:>7.1f} ms  (min {row['min_ms']:.1f})"
                  f"  x{row['ratio_to_httpx']:.2f} of import httpx")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
