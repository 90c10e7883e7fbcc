"""Stdio time-to-ready of the MCP server beside a bare `MCPServer` with one tool, same run.

    .venv/bin/python benchmarks/mcp_startup.py [-n 10] [--json]

Time-to-ready = spawn the process -> `initialize` answered -> `tools/list` answered, measured
with the real `mcp.Client` over stdio. Runs are interleaved round-robin so machine noise hits
every server alike; prints the median of each and its ratio to the bare baseline (the median,
over the rounds, of its time over the bare server's in the same round: robust to a machine whose
speed drifts between rounds):
  - bare:       a 1-tool `MCPServer` (the floor: what `import mcp` + a handshake cost)
  - read-only:  `python mcp_server.py` (the catalog's read tools)
  - writes:     `python mcp_server.py --allow-writes` (every tool)
No network is touched: listing tools never builds the Venice client or the wallet.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters

REPO = Path(__file__).resolve().parents[1]
BARE = '''
from mcp.server.mcpserver import MCPServer
server = MCPServer("bare")
@server.tool()
def ping() -> str:
    """Answer pong."""
    return "pong"
server.run()
'''


async def _time_to_ready(params: StdioServerParameters, expect: int) -> float:
    began = time.perf_counter()
    async with Client(params) as client:
        tools = (await client.list_tools()).tools
        elapsed = time.perf_counter() - began
    if len(tools) != expect:
        raise SystemExit(f"expected {expect} tools, got {len(tools)}")
    return elapsed


def measure(runs: int) -> dict[str, dict[str, float]]:
    """Median/min/max time-to-ready of each server over `runs` interleaved rounds, and the
    ratio of its median to the bare server's."""
    from venice_web3_keys.mcp.catalog import ALL_TOOLS, READ_TOOLS

    with tempfile.TemporaryDirectory() as home:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": home,
            "VENICE_MCP_AUDIT_LOG": str(Path(home) / "audit.jsonl"),
        }
        py = sys.executable
        launcher = str(REPO / "mcp_server.py")
        cases = {
            "bare": (StdioServerParameters(command=py, args=["-c", BARE], env=env, cwd=home), 1),
            "read-only": (StdioServerParameters(command=py, args=[launcher], env=env, cwd=home),
                          len(READ_TOOLS)),
            "writes": (
                StdioServerParameters(
                    command=py, args=[launcher, "--allow-writes"], env=env, cwd=home
                ),
                len(ALL_TOOLS),
            ),
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(runs):
            for name, (params, expect) in cases.items():
                times[name].append(anyio.run(_time_to_ready, params, expect))

    medians = {name: statistics.median(values) for name, values in times.items()}
    return {
        name: {
            "median_s": round(m, 4),
            "ratio_to_bare": round(statistics.median(
                own / bare for own, bare in zip(times[name], times["bare"], strict=True)), 3),
            "min_s": round(min(times[name]), 4),
            "max_s": round(max(times[name]), 4),
        }
        for name, m in medians.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-n", type=int, default=10, help="runs per server (default 10)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    result = measure(args.n)
    if args.json:
        print(json.dumps({"runs": args.n, "python": sys.version.split()[0], "servers": result}))
    else:
        print(f"stdio time-to-ready (spawn -> initialize -> tools/list), median of {args.n}:")
        for name, r in result.items():
            print(
                f"  {name:<10} {r['median_s'] * 1000:8.1f} ms   x{r['ratio_to_bare']:.2f}  "
                f"(min {r['min_s'] * 1000:.0f}, max {r['max_s'] * 1000:.0f})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
