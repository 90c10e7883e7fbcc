"""Mint latency on the sandbox with 50 ms injected into every HTTP request (API and JSON-RPC).

Shows the request count of one mint, and that its preflight (chain id + balances, one JSON-RPC
batch) overlaps the challenge GET: the two requests' time spans are compared directly, and the
wall time with the sum of the individual request times (what a fully sequential mint would cost).

    .venv/bin/python benchmarks/mint_latency.py [--latency 0.05] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

import httpx

from venice_web3_keys.api import AsyncVeniceKeys
from venice_web3_keys.sandbox.runner import Sandbox
from venice_web3_keys.settings import load_settings
from venice_web3_keys.signer import PrivateKeySigner


class DelayedTransport(httpx.AsyncBaseTransport):
    """Sleeps `delay` before each request, like a network round trip, and records durations."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.inner = httpx.AsyncHTTPTransport()
        self.spans: list[tuple[str, str, float, float]] = []  # method, path, start, end

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        start = time.perf_counter()
        await asyncio.sleep(self.delay)
        response = await self.inner.handle_async_request(request)
        await response.aread()
        self.spans.append((request.method, request.url.path, start, time.perf_counter()))
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


async def one_mint(sandbox: Sandbox, *, admin: bool, latency: float) -> dict[str, Any]:
    address, pk = sandbox.new_wallet()
    environ = dict(sandbox.env(pk))
    if admin:
        _id, key = sandbox.emulator.create_account_with_admin_key(address)
        environ["VENICE_ADMIN_KEY"] = key.reveal()
    transport = DelayedTransport(latency)
    settings = load_settings(environ=environ)
    async with (
        httpx.AsyncClient(transport=transport) as http,
        AsyncVeniceKeys(settings, signer=PrivateKeySigner(pk), http_client=http) as vk,
    ):
        start = time.perf_counter()
        await vk.mint_key(description="bench", usd_limit=1)
        wall = time.perf_counter() - start
    # Counted at the transport, not from the emulator's request log: that log is bounded, so
    # slicing it by a length taken before the mint under-counts once it is full.
    api = [path for _m, path, _s, _e in transport.spans if "/api/v1" in path]
    rpc = [(s, e) for _m, path, s, e in transport.spans if "/api/v1" not in path]
    token = [(s, e) for m, path, s, e in transport.spans
             if m == "GET" and path.endswith("/generate_web3_key")]
    # Overlap of the preflight batch with the token GET, as a share of the shorter one.
    (r0, r1), (t0, t1) = rpc[0], token[0]
    overlap = max(0.0, min(r1, t1) - max(r0, t0)) / min(r1 - r0, t1 - t0)
    return {
        "api": len(api),
        "rpc": len(rpc),
        "wall": wall,
        "sequential": sum(e - s for _m, _p, s, e in transport.spans),
        "overlap": overlap,
    }


async def main_async(latency: float, runs: int) -> None:
    sandbox = Sandbox.start()
    try:
        await one_mint(sandbox, admin=False, latency=0)  # warm imports and connections
        rows = []
        for variant in ("jwt", "siwe"):
            sandbox.emulator.mint_variant = variant
            for admin in (False, True):
                results = [await one_mint(sandbox, admin=admin, latency=latency)
                           for _ in range(runs)]
                wall = statistics.median(r["wall"] for r in results)
                seq = statistics.median(r["sequential"] for r in results)
                overlap = statistics.median(r["overlap"] for r in results)
                rows.append((variant, "yes" if admin else "no", results[0]["api"],
                             results[0]["rpc"], wall * 1000, seq * 1000, seq / wall, overlap))
    finally:
        sandbox.stop()
    print(f"mint on the sandbox, {latency * 1000:.0f} ms injected per HTTP request, "
          f"median of {runs}")
    print(f"{'variant':8} {'admin':5} {'API req':>7} {'RPC req':>7} {'wall ms':>8} "
          f"{'sequential ms':>13} {'speed-up':>8} {'preflight||GET':>14}")
    for variant, admin_s, api, rpc, wall_ms, seq_ms, ratio, overlap in rows:
        print(f"{variant:8} {admin_s:5} {api:7d} {rpc:7d} {wall_ms:8.1f} {seq_ms:13.1f} "
              f"{ratio:7.2f}x {overlap:13.0%}")
    print("admin=yes adds a concurrent key-list snapshot and a GET /api_keys/{id} read-back.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main_async(args.latency, args.runs))


if __name__ == "__main__":
    main()
