"""A provisioning process for the racing tests: `python -m tests.flows.provision_worker DIR ID...`.

Settings come from the environment (VENICE_API_BASE_URL, VENICE_ADMIN_KEY, VENICE_BUDGET_URL,
VENICE_CREATE_BUDGET); each result is printed as one JSON line as soon as it is known.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from venice_web3_keys.api import AsyncVeniceKeys
from venice_web3_keys.settings import load_settings
from venice_web3_keys.sinks import FileSink


async def main(out_dir: Path, customers: list[str]) -> None:
    async with AsyncVeniceKeys(load_settings()) as vk:
        run = vk.provision_customer_keys(
            customers, sink_factory=lambda c: FileSink(out_dir / f"{c}.key"), usd_limit=1)
        async for result in run:
            line = {**result.to_public_dict(), "throttled": result.throttled}
            print(json.dumps(line), flush=True)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), sys.argv[2:]))
