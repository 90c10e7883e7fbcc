"""The pytest plugin, used the way a user would: a separate pytest run that only names fixtures."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.harness import untraced

USER_TESTS = '''
from datetime import UTC, datetime

import httpx
from eth_account import Account

from venice_web3_keys.sandbox.emulator import Fault

SEEN = {}


def test_fixtures(venice_sandbox, venice_chain, venice_wallet, venice_sandbox_session):
    assert venice_sandbox is venice_sandbox_session
    assert venice_chain is venice_sandbox.chain
    address, key = venice_wallet
    assert "0x" not in repr(key)
    assert Account.from_key(key.reveal()).address == address
    assert venice_chain.balance_of("sVVV", address) > 0
    env = venice_sandbox.env(key)
    assert env["VENICE_CHAIN_ID"] == "8453"
    reply = httpx.post(env["BASE_RPC_URL"], json={"jsonrpc": "2.0", "id": 1,
                                                   "method": "eth_chainId", "params": []})
    assert reply.json()["result"] == "0x2105"
    assert httpx.get(env["VENICE_API_BASE_URL"] + "/api_keys").status_code == 402
    assert venice_sandbox.emulator.mint_variant == "{variant}"
    SEEN["pid"] = venice_chain.pid


def test_dirties_the_emulator(venice_sandbox, venice_wallet):
    venice_sandbox.emulator.faults.add("GET /billing/balance", Fault.error(503))
    venice_sandbox.emulator.faults.set_latency(0.5)
    venice_sandbox.emulator.mint_variant = "{other}"
    venice_sandbox.emulator.clock.advance(7200)
    SEEN["wallet"] = venice_wallet[0]


def test_admin_key_fixture_is_in_the_wallets_account(venice_sandbox, venice_wallet,
                                                      venice_admin_key):
    assert "VENICE_ADMIN_KEY_" not in repr(venice_admin_key)
    headers = {"Authorization": f"Bearer {venice_admin_key.reveal()}"}
    api = venice_sandbox.api_base_url
    assert httpx.get(api + "/api_keys", headers=headers).status_code == 200
    created = httpx.post(api + "/api_keys", headers=headers,
                         json={"apiKeyType": "INFERENCE", "description": "user test"})
    key_id = created.json()["data"]["id"]
    assert venice_sandbox.emulator.keys[key_id].account == venice_wallet[0]
    limits = httpx.get(api + "/api_keys/rate_limits", headers=headers).json()["data"]
    assert limits["accessPermitted"] is True  # a fresh sandbox account has credit


def test_next_test_gets_a_clean_sandbox(venice_sandbox, venice_chain, venice_wallet):
    assert venice_chain.pid == SEEN["pid"]  # one anvil for the session
    assert venice_wallet[0] != SEEN["wallet"]  # a fresh wallet per test
    assert venice_sandbox.emulator.faults.pending() == {}
    assert venice_sandbox.emulator.faults.latency == 0
    assert venice_sandbox.emulator.mint_variant == "{variant}"
    drift = venice_sandbox.emulator.clock.now() - datetime.now(UTC)
    assert abs(drift.total_seconds()) < 60  # the real clock is back
    url = venice_sandbox.api_base_url + "/api_keys/generate_web3_key"
    reply = httpx.get(url, params={"address": venice_wallet[0]})
    assert reply.status_code == 200
    assert ("token" if "{variant}" == "jwt" else "message") in reply.json()["data"]


MARKED = "0x" + "c3" * 20


def test_isolated_chain_may_be_changed(venice_isolated_chain, venice_chain):
    assert venice_isolated_chain is venice_chain
    venice_isolated_chain.fund(MARKED, svvv=5)
    venice_isolated_chain.rpc("anvil_setCode", [MARKED, "0x00"])
    assert venice_isolated_chain.balance_of("sVVV", MARKED) == 5 * 10**18


def test_isolated_chain_changes_are_gone_after_the_test(venice_chain):
    assert venice_chain.balance_of("sVVV", MARKED) == 0
    assert venice_chain.rpc("eth_getCode", [MARKED, "latest"]) == "0x"
'''


def run_user_suite(tmp_path: Path, variant: str, *args: str) -> subprocess.CompletedProcess[str]:
    other = "siwe" if variant == "jwt" else "jwt"
    source = USER_TESTS.replace("{variant}", variant).replace("{other}", other)
    (tmp_path / "test_user.py").write_text(source)
    # untraced: the plugin's own lines are measured by this suite, which uses it in-process
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "test_user.py", *args],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env=untraced(os.environ))


def test_fixtures_work_in_a_user_project(tmp_path: Path) -> None:
    result = run_user_suite(tmp_path, "jwt")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 passed" in result.stdout


def test_variant_option(tmp_path: Path) -> None:
    result = run_user_suite(tmp_path, "siwe", "--venice-sandbox-variant", "siwe")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 passed" in result.stdout


def test_a_failing_user_test_is_reported(tmp_path: Path) -> None:
    # Guards the two runs above: a wrong expectation inside the user suite must fail it.
    result = run_user_suite(tmp_path, "siwe")
    assert result.returncode == 1
    assert "2 failed" in result.stdout


def test_importing_the_plugin_is_cheap() -> None:
    code = textwrap.dedent("""
        import sys, time
        t = time.perf_counter()
        import venice_web3_keys.sandbox.pytest_plugin
        elapsed = time.perf_counter() - t
        heavy = [m for m in ("web3", "eth_account", "uvicorn", "starlette")
                 if m in sys.modules]
        print(heavy, elapsed)
        assert not heavy, heavy
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
