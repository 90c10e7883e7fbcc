"""Both examples run as real subprocesses against the sandbox (loopback emulator + anvil)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.harness import untraced

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _run(script: str, env: dict[str, str], *args: str,
         cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("VENICE_", "BASE_RPC"))}
    clean.update(env)
    # untraced: the facade calls an example makes are measured by the in-process tests
    return subprocess.run([sys.executable, str(EXAMPLES / script), *args], env=untraced(clean),
                          capture_output=True, text=True, timeout=90, cwd=cwd, check=False)


def test_mint_with_wallet(venice_sandbox: Any, tmp_path: Path) -> None:
    _address, pk = venice_sandbox.new_wallet()
    out = tmp_path / "key.txt"
    proc = _run("mint_with_wallet.py", venice_sandbox.env(pk), "--out", str(out),
                "--usd-limit", "5", "--expires", "30d", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    secret = out.read_text().strip()
    assert secret.startswith("VENICE_INFERENCE_KEY_") and result["last6"] == secret[-6:]
    assert result["sink"] == {"kind": "file", "location": str(out)}
    assert secret not in proc.stdout + proc.stderr
    assert "sVVV 100" in proc.stderr


def test_mint_with_wallet_without_stake_exits_3(venice_sandbox: Any, tmp_path: Path) -> None:
    _address, pk = venice_sandbox.new_wallet(svvv=0)
    out = tmp_path / "key.txt"
    proc = _run("mint_with_wallet.py", venice_sandbox.env(pk), "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 3 and "stake" in proc.stderr.lower()
    assert not out.exists()


def test_dapp_backend(venice_sandbox: Any, tmp_path: Path) -> None:
    # No admin key configured: the example mints its ADMIN key with the wallet first.
    _address, pk = venice_sandbox.new_wallet()
    proc = _run("dapp_backend.py", venice_sandbox.env(pk), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    alice, bob = report["onboarded"]
    assert alice["description"] == "cust:alice" and alice["consumptionLimits"]["usd"] == 5
    rotated = report["rotated"]
    assert rotated["revokedKeyId"] == alice["id"] and rotated["verified"] is True
    assert report["churned"] == {"bob": [bob["id"]]}
    assert report["active"] == {"alice": [rotated["newKey"]["id"]], "bob": []}
    assert report["aliceVaultLast6"] == rotated["newKey"]["last6"]
    assert "VENICE_INFERENCE_KEY_" not in proc.stdout + proc.stderr
    assert "VENICE_ADMIN_KEY_" not in proc.stdout + proc.stderr
