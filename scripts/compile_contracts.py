"""Regenerate the sandbox contract's committed runtime bytecode from its Vyper source.

Run only when Token.vy changes; tests and users never need a compiler, because the output
(`Token.bin-runtime`, `Token.abi.json`) is committed. Usage:

    python -m venv /tmp/vyenv && /tmp/vyenv/bin/pip install vyper==0.4.3
    python scripts/compile_contracts.py --vyper /tmp/vyenv/bin/vyper

The script also checks the storage layout against the slots that sandbox/chain.py writes to,
so a reordered declaration fails here instead of silently breaking `LocalChain.fund()`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

CONTRACTS = Path(__file__).resolve().parent.parent / "venice_web3_keys" / "sandbox" / "contracts"
EXPECTED_SLOTS = {"balanceOf": 0, "allowance": 1, "totalSupply": 2, "name": 3, "symbol": 5}


def _vyper(vyper: str, fmt: str, source: Path) -> str:
    out = subprocess.run([vyper, "-f", fmt, source.name], cwd=source.parent, check=True,
                         capture_output=True, text=True)
    return out.stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vyper", default=shutil.which("vyper") or "vyper")
    args = parser.parse_args()
    source = CONTRACTS / "Token.vy"
    version = subprocess.run([args.vyper, "--version"], check=True, capture_output=True,
                             text=True).stdout.strip()
    layout = json.loads(_vyper(args.vyper, "layout", source))["storage_layout"]
    slots = {name: entry["slot"] for name, entry in layout.items()}
    if slots != EXPECTED_SLOTS:
        print(f"storage layout changed: {slots} != {EXPECTED_SLOTS}", file=sys.stderr)
        return 1
    runtime = _vyper(args.vyper, "bytecode_runtime", source)
    abi = json.loads(_vyper(args.vyper, "abi", source))
    (CONTRACTS / "Token.bin-runtime").write_text(runtime + "\n")
    (CONTRACTS / "Token.abi.json").write_text(json.dumps(abi, indent=1) + "\n")
    print(f"compiled Token.vy with vyper {version}: {len(runtime) // 2 - 1} bytes runtime")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
