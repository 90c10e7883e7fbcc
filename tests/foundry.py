"""Foundry's `cast` (Rust; `npm ci` installs it): an implementation independent of ours, used to
check what our code signed and what it left on chain."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

_FOUNDRY = Path(__file__).resolve().parents[1] / "node_modules" / "@foundry-rs"
CAST = next(iter(sorted(_FOUNDRY.glob("cast-*/bin/cast"))), _FOUNDRY / "cast-missing")


def cast(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    assert CAST.exists(), "run `npm ci` (./dev setup) to install Foundry's cast"
    out = subprocess.run([str(CAST), *args], capture_output=True, text=True, timeout=30)
    if check:
        assert out.returncode == 0, out.stderr
    return out


def cast_uint(rpc_url: str, to: str, signature: str, *args: str) -> int:
    """A view call returning one uint256, e.g. `balanceOf(address)(uint256)`."""
    out = cast("call", to, signature, *args, "--rpc-url", rpc_url).stdout
    return int(out.split()[0])  # "12000000000000000000 [1.2e19]"


def cast_nonce(rpc_url: str, address: str) -> int:
    return int(cast("nonce", address, "--rpc-url", rpc_url).stdout)


def cast_balance(rpc_url: str, address: str) -> int:
    """ETH balance in wei."""
    return int(cast("balance", address, "--rpc-url", rpc_url).stdout)


def cast_tx(rpc_url: str, tx_hash: str) -> dict[str, Any]:
    """A mined or pending transaction as the node reports it (hex quantities as strings)."""
    tx: dict[str, Any] = json.loads(cast("tx", tx_hash, "--json", "--rpc-url", rpc_url).stdout)
    return tx
