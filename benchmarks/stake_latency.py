"""Stake latency and round trips on a local chain, with `--latency` added to every JSON-RPC call.

A loopback proxy in front of anvil sleeps before forwarding each HTTP request (one JSON-RPC call
or one batch) and counts them, so the figures show what a stake costs in round trips to a real
Base endpoint: the dry run (preflight batch + simulation + fee quote) and the full approve +
stake (each transaction re-simulated, priced, signed, sent and awaited). The first dry run also
pays web3's import, reported separately.

    .venv/bin/python benchmarks/stake_latency.py [--latency 0.05] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from typing import Any

from aiohttp import ClientSession, web

from venice_web3_keys.api import AsyncVeniceKeys
from venice_web3_keys.sandbox.chain import LocalChain
from venice_web3_keys.settings import load_settings


class SlowProxy:
    """HTTP proxy to `upstream` that waits `latency` per request and counts requests."""

    def __init__(self, upstream: str, latency: float) -> None:
        self.upstream = upstream
        self.latency = latency
        self.requests = 0
        self._session: ClientSession | None = None

    async def handle(self, request: web.Request) -> web.Response:
        self.requests += 1
        await asyncio.sleep(self.latency)
        assert self._session is not None
        async with self._session.post(self.upstream, data=await request.read(),
                                      headers={"Content-Type": "application/json"}) as reply:
            return web.Response(body=await reply.read(), content_type="application/json")

    async def start(self) -> tuple[web.AppRunner, str]:
        self._session = ClientSession()
        app = web.Application()
        app.router.add_post("/", self.handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return runner, f"http://127.0.0.1:{port}"

    async def stop(self, runner: web.AppRunner) -> None:
        await runner.cleanup()
        if self._session is not None:
            await self._session.close()


async def measure(chain: LocalChain, proxy: SlowProxy, url: str, *,
                  dry_run: bool) -> dict[str, Any]:
    _address, key = chain.new_wallet(vvv=100, svvv=0)
    settings = load_settings(environ={"BASE_RPC_URL": url, "VENICE_WALLET_PRIVATE_KEY":
                                      key.reveal()})
    async with AsyncVeniceKeys(settings) as vk:
        await vk._wallet()  # the signer is built outside the timed part (eth_account import)
        before = proxy.requests
        start = time.perf_counter()
        await vk.stake_vvv("10", dry_run=dry_run)
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "requests": proxy.requests - before}


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    chain = LocalChain.start()
    proxy = SlowProxy(chain.rpc_url, args.latency)
    runner, url = await proxy.start()
    try:
        start = time.perf_counter()
        import web3  # noqa: F401  (what the first stake of a process pays once)

        print(f"import web3: {time.perf_counter() - start:.2f} s")
        for dry_run in (True, False):
            runs = [await measure(chain, proxy, url, dry_run=dry_run) for _ in range(args.runs)]
            seconds = statistics.median(r["seconds"] for r in runs)
            requests = runs[-1]["requests"]
            what = "dry run (plan)" if dry_run else "approve + stake"
            print(f"{what:16} {requests:3d} HTTP round trips, median {seconds:.2f} s at "
                  f"{args.latency * 1000:.0f} ms each ({requests * args.latency:.2f} s of it "
                  "is latency)")
    finally:
        await proxy.stop(runner)
        chain.stop()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
