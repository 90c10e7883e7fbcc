"""Run the start-up benchmarks and rewrite the table in the README's Development section.

    .venv/bin/python benchmarks/report.py [-n 11] [--no-readme]

`./dev bench` runs this (then the other benchmarks). The table sits between the two
`<!-- bench:... -->` markers of README.md; everything else in the README is left alone.
"""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

import cli_startup
import mcp_startup

README = Path(__file__).resolve().parents[1] / "README.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
#: the MCP server's time-to-ready against a bare one-tool `MCPServer`
MCP_GOAL = 1.05


def mcp_rows(servers: dict[str, dict[str, float]]) -> list[str]:
    rows = []
    for name, args in (("read-only", ""), ("writes", " --allow-writes")):
        ratio = servers[name]["ratio_to_bare"]
        mark = "" if ratio <= MCP_GOAL else " ✗"
        rows.append(f"| `venice-keys-mcp{args}` (stdio: initialize + tools/list) | bare 1-tool "
                    f"`MCPServer` | {servers[name]['median_s'] * 1000:.0f} ms | "
                    f"{ratio:.2f}× (≤ {MCP_GOAL}){mark} | |")
    return rows


def table(runs: int) -> str:
    cli_rows = cli_startup.measure(runs)
    servers = mcp_startup.measure(runs)
    lines = cli_startup.markdown(cli_rows, runs).splitlines()
    footer = lines.pop()  # the "Median of ..." line goes under the MCP rows
    lines.pop()  # the blank line before it
    lines += mcp_rows(servers)
    where = f"{platform.machine()}, {sys.implementation.name} {platform.python_version()}"
    lines += ["", f"{footer.strip()} ({where}; regenerate with `./dev bench`)"]
    return "\n".join(lines)


def rewrite_readme(text: str) -> None:
    readme = README.read_text()
    if BEGIN not in readme or END not in readme:
        raise SystemExit(f"{README} has no {BEGIN} ... {END} block to rewrite")
    head, rest = readme.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    README.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-n", type=int, default=11, help="runs per command (default 11)")
    parser.add_argument("--no-readme", action="store_true", help="print the table only")
    args = parser.parse_args(argv)
    text = table(args.n)
    print(text)
    if not args.no_readme:
        rewrite_readme(text)
        print(f"\n(written to {README.name})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
