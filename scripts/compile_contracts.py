"""Regenerate the sandbox contracts' committed runtime bytecode from their Vyper sources.

Run only when a .vy file changes; tests and users never need a compiler, because the output
(`<Name>.bin-runtime`, `<Name>.abi.json`) is committed. Usage:

    python -m venv /tmp/vyenv && /tmp/vyenv/bin/pip install vyper==0.4.3
    python scripts/compile_contracts.py --vyper /tmp/vyenv/bin/vyper

The script also checks each storage layout against the slots that sandbox/chain.py writes to,
so a reordered declaration fails here instead of silently breaking `LocalChain.fund()`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

CONTRACTS = Path(__file__).resolve().parent.parent / "venice_web3_keys" / "sandbox" / "contracts"
TOKEN_SLOTS = {"balanceOf": 0, "allowance": 1, "totalSupply": 2, "name": 3, "symbol": 5}
#: contract -> its expected storage layout (Staking initializes Token first, at slots 0..6)
EXPECTED_SLOTS: dict[str, dict[str, Any]] = {
    "Token": TOKEN_SLOTS,
    "Staking": {"Token": TOKEN_SLOTS, "staked_token": 7},
}


def _vyper(vyper: str, fmt: str, source: Path) -> str:
    out = subprocess.run([vyper, "-f", fmt, source.name], cwd=source.parent, check=True,
                         capture_output=True, text=True)
    return out.stdout.strip()


def _slots(layout: dict[str, Any]) -> dict[str, Any]:
    """{name: slot}, nested for an initialized module (its entries have no "slot")."""
    return {name: entry["slot"] if "slot" in entry else _slots(entry)
            for name, entry in layout.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vyper", default=shutil.which("vyper") or "vyper")
    args = parser.parse_args()
    version = subprocess.run([args.vyper, "--version"], check=True, capture_output=True,
                             text=True).stdout.strip()
    for name, expected in EXPECTED_SLOTS.items():
        source = CONTRACTS / f"{name}.vy"
        slots = _slots(json.loads(_vyper(args.vyper, "layout", source))["storage_layout"])
        if slots != expected:
            print(f"{name}: storage layout changed: {slots} != {expected}", file=sys.stderr)
            return 1
        runtime = _vyper(args.vyper, "bytecode_runtime", source)
        abi = json.loads(_vyper(args.vyper, "abi", source))
        (CONTRACTS / f"{name}.bin-runtime").write_text(runtime + "\n")
        (CONTRACTS / f"{name}.abi.json").write_text(json.dumps(abi, indent=1) + "\n")
        print(f"compiled {name}.vy with vyper {version}: {len(runtime) // 2 - 1} bytes runtime")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
