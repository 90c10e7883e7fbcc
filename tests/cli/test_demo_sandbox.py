"""`demo` runs end to end; `sandbox` runs in the foreground and stops cleanly on Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path

from tests.harness import CLI_SCRIPT, CliRunner, clean_env


def test_demo_runs_to_completion(cli: CliRunner) -> None:
    res = cli("demo")
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


def test_demo_json_is_one_object(cli: CliRunner) -> None:
    res = cli("--json", "demo")
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
    proc = subprocess.Popen([str(CLI_SCRIPT), "sandbox"], env=clean_env(), cwd=tmp_path,
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


def _start_sandbox(tmp_path: Path) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """`venice-keys sandbox` in the background; returns it and the .env values it printed."""
    proc = subprocess.Popen([str(CLI_SCRIPT), "sandbox"], env=clean_env(), cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    values: dict[str, str] = {}
    for line in proc.stdout:
        if "=" in line and not line.startswith("#"):
            name, value = line.strip().split("=", 1)
            values[name] = value
        if line.startswith("VENICE_WALLET_PRIVATE_KEY="):
            break
    return proc, values


def _stop(proc: subprocess.Popen[str]) -> str:
    """Ctrl-C the sandbox; its stderr."""
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return err


def test_sandbox_has_its_own_usage_line(cli: CliRunner) -> None:
    res = cli("sandbox", "--help")
    assert res.code == 0, res.stderr
    assert res.stdout.startswith("Usage: venice-keys sandbox ")
    for word in ("--variant", "--port", "--persist", "fund"):
        assert word in res.stdout, word
    fund = cli("sandbox", "fund", "--help")
    assert fund.stdout.startswith("Usage: venice-keys sandbox fund [OPTIONS] ADDRESS")
    for flag in ("--eth", "--vvv", "--svvv", "--diem"):
        assert flag in fund.stdout, flag


def test_a_client_that_disconnects_is_no_traceback(tmp_path: Path) -> None:
    import socket
    import time
    from urllib.parse import urlsplit

    proc, values = _start_sandbox(tmp_path)
    try:
        port = urlsplit(values["VENICE_API_BASE_URL"]).port
        for path in ("/api/v1/api_keys", "/_sandbox/faults"):
            with socket.create_connection(("127.0.0.1", port)) as conn:
                conn.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                             "Content-Type: application/json\r\nContent-Length: 500\r\n"
                             "Authorization: Bearer x\r\n\r\n{\"apiKeyType\": \"IN".encode())
                time.sleep(0.3)  # the handler is now waiting for the rest of the body
        time.sleep(0.5)
    finally:
        err = _stop(proc)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "ClientDisconnect" not in err, err


def test_a_killed_sandbox_leaves_no_anvil_running(tmp_path: Path) -> None:
    import socket
    import time
    from urllib.parse import urlsplit

    proc, values = _start_sandbox(tmp_path)
    rpc_port = urlsplit(values["BASE_RPC_URL"]).port
    assert rpc_port is not None
    proc.kill()  # SIGKILL: no handler, no atexit, no clean-up runs
    proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", rpc_port), timeout=1).close()
        except OSError:
            return  # nothing listens: anvil went with its parent
        time.sleep(0.2)
    raise AssertionError(f"anvil still serves 127.0.0.1:{rpc_port} after its sandbox died")
