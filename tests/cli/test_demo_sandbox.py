"""`demo` runs end to end; `sandbox` runs in the foreground and stops cleanly on Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path

from tests.cli.conftest import BIN, Run, clean_env


def test_demo_runs_to_completion(run: Run) -> None:
    res = run("demo", timeout=120)
    assert res.code == 0, res.stderr
    out = res.stdout
    for text in ("Start a local Base chain", "Check the wallet on Base", "no sVVV on Base",
                 "Stake 10 VVV for sVVV", "$ venice-keys wallet stake 10",
                 "Staked 10 VVV: sVVV 0 → 10", "holds sVVV",
                 "Mint an ADMIN key", "Minted ADMIN key", "cust:acme", "$25 + 5 DIEM / MONTH",
                 "Rate limits", "The key list", "Rotated to INFERENCE key", "Revoke",
                 "(mode 0o600)", "Stop everything", "Demo complete",
                 "$ venice-keys keys rotate", "verified working"):
        assert text in out, text
    # the funded wallet's account can pay: limits show it permitted, with its DIEM
    assert re.search(r"access permitted\s+│ yes", out), out
    assert re.search(r"balances\s+│ USD \d+, DIEM 5", out), out
    assert "VENICE_ADMIN_KEY_" not in out + res.stderr
    assert "VENICE_INFERENCE_KEY_" not in out + res.stderr
    secret_file = next(line for line in out.splitlines()
                       if line.lstrip().startswith("secret file ")).split()[2]
    assert not Path(secret_file).parent.exists(), "the temporary secrets folder was kept"


def test_demo_json_is_one_object(run: Run) -> None:
    res = run("--json", "demo", timeout=120)
    assert res.code == 0, res.stderr
    import json

    data = json.loads(res.stdout)
    assert data["ok"] is True
    titles = [s["title"] for s in data["steps"]]
    assert len(titles) == 11 and titles[-1] == "Stop everything"
    stake = next(s for s in data["steps"] if s["title"].startswith("Stake"))
    assert stake["stakeTx"] and stake["sVVVAfter"] == "10" and stake["verified"] is True
    assert titles.index(stake["title"]) < titles.index("Mint an ADMIN key with the wallet")
    assert all(s["why"] for s in data["steps"]), "every step says why"
    limits = next(s for s in data["steps"] if s["title"].startswith("Rate limits"))["limits"]
    assert limits["accessPermitted"] is True
    rotate = next(s for s in data["steps"] if s["title"].startswith("Rotate"))
    assert rotate["verified"] is True


def test_sandbox_command_runs_until_interrupted(tmp_path: Path) -> None:
    proc = subprocess.Popen([str(BIN), "sandbox"], env=clean_env(), cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("VENICE_WALLET_PRIVATE_KEY="):
                break
        text = "".join(lines)
        assert "VENICE_API_BASE_URL=http://127.0.0.1:" in text
        assert "BASE_RPC_URL=http://127.0.0.1:" in text
        os.kill(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
