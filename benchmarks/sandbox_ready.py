"""Time for the sandbox (anvil + token deploy + emulator on loopback) to be ready to serve.

    .venv/bin/python benchmarks/sandbox_ready.py [-n 9] [--json]

Starts and stops `Sandbox` n times in this process and prints, per phase, the median, min and
max: `chain` (anvil listening + tokens deployed), `sandbox` (chain + emulator accepting HTTP,
i.e. `Sandbox.ready_seconds`) and `first mint` (a raw JWT mint over HTTP right after start,
which proves "ready" means usable). The first start also pays for imports (uvicorn, starlette,
eth_account) and is reported on its own as `cold`, outside the medians.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _mint(api: str, address: str, private_key: str) -> None:
    import httpx
    from eth_account import Account
    from eth_account.messages import encode_defunct

    token = httpx.get(f"{api}/api_keys/generate_web3_key").json()["data"]["token"]
    signature = Account.sign_message(encode_defunct(text=token), private_key=private_key)
    reply = httpx.post(f"{api}/api_keys/generate_web3_key", json={
        "address": address, "signature": signature.signature.to_0x_hex(), "token": token,
        "apiKeyType": "INFERENCE"})
    if reply.status_code != 200:
        raise SystemExit(f"mint failed with {reply.status_code}")


def measure_once() -> dict[str, float]:
    from venice_web3_keys.sandbox.runner import Sandbox

    sandbox = Sandbox.start()
    try:
        address, key = sandbox.new_wallet()
        minted = time.perf_counter()
        _mint(sandbox.api_base_url, address, key.reveal())
        return {"chain": sandbox.chain.ready_seconds, "sandbox": sandbox.ready_seconds,
                "first mint": time.perf_counter() - minted}
    finally:
        sandbox.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-n", type=int, default=9, help="warm starts to measure (default 9)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    cold = measure_once()
    runs = [measure_once() for _ in range(args.n)]
    phases = ["chain", "sandbox", "first mint"]
    stats = {p: {"median": statistics.median(r[p] for r in runs),
                 "min": min(r[p] for r in runs), "max": max(r[p] for r in runs),
                 "cold": cold[p]} for p in phases}
    if args.json:
        print(json.dumps({"runs": args.n, "seconds": stats}, indent=1))
        return 0
    print(f"sandbox readiness over {args.n} warm starts (+1 cold), milliseconds")
    print(f"{'phase':<12}{'median':>9}{'min':>9}{'max':>9}{'cold':>9}")
    for phase in phases:
        s = stats[phase]
        print(f"{phase:<12}" + "".join(f"{s[c] * 1000:>9.1f}"
                                       for c in ("median", "min", "max", "cold")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
