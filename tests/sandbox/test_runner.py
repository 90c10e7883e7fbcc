"""Sandbox (chain + emulator) over real loopback HTTP, and `python -m venice_web3_keys.sandbox`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from venice_web3_keys.errors import ConfigError
from venice_web3_keys.sandbox.emulator import Fault
from venice_web3_keys.sandbox.runner import Sandbox
from venice_web3_keys.secret import SecretValue

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox.start() as s:
        yield s


def mint(api_base_url: str, address: str, key: SecretValue) -> httpx.Response:
    """The raw JWT mint flow, done by hand so it depends on nothing but httpx + eth_account."""
    challenge = httpx.get(f"{api_base_url}/api_keys/generate_web3_key", params={"address": address})
    assert challenge.status_code == 200, challenge.text
    token = challenge.json()["data"]["token"]
    signed = Account.sign_message(encode_defunct(text=token), private_key=key.reveal())
    body = {"address": address, "signature": signed.signature.to_0x_hex(), "token": token,
            "apiKeyType": "INFERENCE"}
    return httpx.post(f"{api_base_url}/api_keys/generate_web3_key", json=body)


def test_sandbox_serves_emulator_backed_by_the_chain(sandbox: Sandbox) -> None:
    assert sandbox.api_base_url.startswith("http://127.0.0.1:")
    assert sandbox.api_base_url.endswith("/api/v1")
    assert 0 < sandbox.ready_seconds < 15
    chain_id = httpx.post(sandbox.rpc_url, json={"jsonrpc": "2.0", "id": 1,
                                                 "method": "eth_chainId", "params": []})
    assert chain_id.json()["result"] == "0x2105"
    assert httpx.get(f"{sandbox.api_base_url}/api_keys").status_code == 402  # no credentials

    address, key = sandbox.new_wallet()
    minted = mint(sandbox.api_base_url, address, key)
    assert minted.status_code == 200, minted.text
    assert minted.json()["data"]["apiKey"]

    # Eligibility is read from the chain at mint time: take the sVVV away and minting stops.
    sandbox.chain.fund(address, svvv=0)
    refused = mint(sandbox.api_base_url, address, key)
    assert refused.status_code == 400
    assert "no staked VVV" in refused.json()["error"]


def test_env_holds_what_a_client_needs(sandbox: Sandbox) -> None:
    assert sandbox.env() == {"VENICE_API_BASE_URL": sandbox.api_base_url,
                             "BASE_RPC_URL": sandbox.rpc_url, "VENICE_CHAIN_ID": "8453"}
    _, key = sandbox.new_wallet()
    assert sandbox.env(key)["VENICE_WALLET_PRIVATE_KEY"] == key.reveal()


def test_reset_test_state_restores_defaults(sandbox: Sandbox) -> None:
    emulator = sandbox.emulator
    emulator.faults.add("GET /billing/balance", Fault.error(503))
    emulator.faults.set_latency(0.2)
    emulator.mint_variant = "siwe"
    real_clock = emulator.clock
    emulator.clock.advance(3600)
    sandbox.reset_test_state()
    assert emulator.faults.pending() == {}
    assert emulator.faults.latency == 0
    assert emulator.mint_variant == "jwt"
    assert abs((emulator.clock.now() - real_clock.now()).total_seconds()) > 3000  # offset gone
    address, key = sandbox.new_wallet()
    assert mint(sandbox.api_base_url, address, key).status_code == 200  # a jwt mint again


def test_stop_closes_both_servers() -> None:
    s = Sandbox.start(mint_variant="siwe")
    assert s.emulator.mint_variant == "siwe"
    api, pid = s.api_base_url, s.chain.pid
    assert httpx.get(f"{api}/api_keys").status_code == 402
    s.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{api}/api_keys")
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    s.stop()  # idempotent


def test_bad_variant_is_refused_before_starting_anything() -> None:
    with pytest.raises(ConfigError, match="variant"):
        Sandbox.start(mint_variant="oauth")
    with pytest.raises(ConfigError, match="starting USD"):
        Sandbox.start(starting_usd="-5")


def test_a_fresh_wallet_is_usable_for_inference(sandbox: Sandbox) -> None:
    address, key = sandbox.new_wallet(diem=3)
    secret = mint(sandbox.api_base_url, address, key).json()["data"]["apiKey"]
    limits = httpx.get(f"{sandbox.api_base_url}/api_keys/rate_limits",
                       headers={"Authorization": f"Bearer {secret}"}).json()["data"]
    assert limits["accessPermitted"] is True
    assert limits["balances"] == {"USD": 10.0, "DIEM": 3.0}  # starting credit + DIEM on chain


def test_an_unreadable_persist_file_is_a_config_error(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text("[]")
    with pytest.raises(ConfigError, match="not a readable emulator state file"):
        Sandbox.start(persist_path=state)


def _start_cli(*args: str) -> tuple[subprocess.Popen[str], dict[str, str], list[str]]:
    proc = subprocess.Popen([sys.executable, "-m", "venice_web3_keys.sandbox", *args], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    lines: list[str] = []
    values: dict[str, str] = {}
    # The block ends with "# Ctrl-C ..."; pytest's timeout guards a sandbox that never prints it
    # (a deadline here would only cut a slow start short on a busy machine).
    while "VENICE_WALLET_PRIVATE_KEY" not in values:
        line = proc.stdout.readline()
        if not line or line.startswith("# Ctrl-C"):
            break
        lines.append(line.rstrip("\n"))
        if "=" in line and not line.startswith("#"):
            name, _, value = line.strip().partition("=")
            values[name] = value
    return proc, values, lines


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_module_entry_point_prints_env_and_stops_cleanly(sig: signal.Signals) -> None:
    proc, values, lines = _start_cli("--variant", "siwe", "--diem", "2", "--starting-usd", "3.5")
    try:
        assert set(values) == {"VENICE_API_BASE_URL", "BASE_RPC_URL", "VENICE_CHAIN_ID",
                               "VENICE_WALLET_PRIVATE_KEY"}, lines
        assert any("SANDBOX ONLY — throwaway wallet, never fund it on a real chain" in line
                   for line in lines)
        assert values["VENICE_CHAIN_ID"] == "8453"
        api, rpc = values["VENICE_API_BASE_URL"], values["BASE_RPC_URL"]
        address = Account.from_key(values["VENICE_WALLET_PRIVATE_KEY"]).address
        assert address in "\n".join(lines)
        challenge = httpx.get(f"{api}/api_keys/generate_web3_key", params={"address": address})
        assert "message" in challenge.json()["data"]  # --variant siwe took effect
        balance = httpx.post(rpc, json={"jsonrpc": "2.0", "id": 1, "method": "eth_call", "params": [
            {"to": "0x321b7ff75154472B18EDb199033fF4D116F340Ff",
             "data": "0x70a08231" + address[2:].lower().rjust(64, "0")}, "latest"]})
        assert int(balance.json()["result"], 16) > 0  # the printed wallet is funded
        diem = httpx.post(rpc, json={"jsonrpc": "2.0", "id": 1, "method": "eth_call", "params": [
            {"to": "0xF4d97F2da56e8c3098f3a8D538DB630A2606a024",
             "data": "0x70a08231" + address[2:].lower().rjust(64, "0")}, "latest"]})
        assert int(diem.json()["result"], 16) == 2 * 10**18  # --diem 2
        assert httpx.get(f"{api.removesuffix('/api/v1')}/_sandbox/state").json()[
            "startingUsd"] == 3.5
        proc.send_signal(sig)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{api}/api_keys")
    with pytest.raises(httpx.ConnectError):
        httpx.post(rpc, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []})


def test_module_entry_point_reports_a_busy_port() -> None:
    with Sandbox.start() as s:
        proc = subprocess.run([sys.executable, "-m", "venice_web3_keys.sandbox", "--port",
                               str(s.port)], cwd=REPO, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert f"127.0.0.1:{s.port}" in proc.stderr
    assert "PRIVATE_KEY" not in proc.stdout


@pytest.mark.parametrize("args", [["--starting-usd", "lots"], ["--diem", "-1"]])
def test_module_entry_point_refuses_bad_amounts(args: list[str]) -> None:
    proc = subprocess.run([sys.executable, "-m", "venice_web3_keys.sandbox", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert args[0] in proc.stderr and "PRIVATE_KEY" not in proc.stdout
