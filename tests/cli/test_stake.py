"""`venice-keys wallet stake` against the sandbox chain, checked with cast: through the console
script's `main()`, and the installed script itself for a terminal and Ctrl-C.

Exit codes are the interface: 2 bad amount or more than the wallet holds, 3 no ETH for gas,
1 a revert, 130 Ctrl-C; in each failure nothing (or exactly what the message says) was sent.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_prompts import run_on_tty
from tests.foundry import cast_nonce, cast_uint
from tests.harness import CLI_SCRIPT, CliRunner, clean_env, start_cli
from venice_web3_keys.sandbox.chain import (
    DIEM_TOKEN,
    SLOT_STAKED_TOKEN,
    STAKING_CONTRACT,
    VVV_TOKEN,
)

WEI = 10**18
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
INTERFACE_KEYS = {"address", "amount", "dryRun", "approveTx", "stakeTx", "sVVVBefore",
                  "sVVVAfter"}


def _wallet(sandbox: Any, **balances: Any) -> tuple[str, dict[str, str]]:
    address, key = sandbox.new_wallet(**{"svvv": 0, "vvv": 50, **balances})
    return address, dict(sandbox.env(key))


def _balances(sandbox: Any, address: str) -> tuple[int, int, int, int]:
    """(VVV, sVVV, allowance, nonce), read by cast."""
    rpc = sandbox.rpc_url
    return (cast_uint(rpc, VVV_TOKEN, "balanceOf(address)(uint256)", address),
            cast_uint(rpc, STAKING_CONTRACT, "balanceOf(address)(uint256)", address),
            cast_uint(rpc, VVV_TOKEN, "allowance(address,address)(uint256)", address,
                      STAKING_CONTRACT),
            cast_nonce(rpc, address))


def test_dry_run_then_stake_json(cli: CliRunner, venice_sandbox: Any) -> None:
    address, env = _wallet(venice_sandbox)
    plan = cli("--json", "wallet", "stake", "10", "--dry-run", env=env)
    assert plan.code == 0, plan.stderr
    data = plan.json()
    assert set(data) >= INTERFACE_KEYS
    assert data["dryRun"] is True and data["approveTx"] is None and data["stakeTx"] is None
    assert (data["amount"], data["sVVVBefore"], data["sVVVAfter"]) == ("10", "0", "10")
    assert data["approveNeeded"] is True and set(data["gasEstimate"]) == {"approve", "stake"}
    assert _balances(venice_sandbox, address) == (50 * WEI, 0, 0, 0)  # nothing signed

    done = cli("--json", "wallet", "stake", "10", "--yes", env=env)
    assert done.code == 0, done.stderr
    result = done.json()
    assert result["dryRun"] is False and result["address"] == address
    assert result["approveTx"].startswith("0x") and result["stakeTx"].startswith("0x")
    assert (result["sVVVBefore"], result["sVVVAfter"]) == ("0", "10")
    assert _balances(venice_sandbox, address) == (40 * WEI, 10 * WEI, 0, 2)


def test_human_output_names_the_transactions(cli: CliRunner, venice_sandbox: Any) -> None:
    address, env = _wallet(venice_sandbox, svvv=1)
    res = cli("wallet", "stake", "all", "--yes", env=env)
    assert res.code == 0, res.stderr
    assert "Staked 50 VVV: sVVV 1 → 51" in res.stdout
    assert "approve mined" in res.stderr and "stake mined" in res.stderr
    assert _balances(venice_sandbox, address)[:2] == (0, 51 * WEI)


def test_no_terminal_and_no_yes_is_refused_before_any_request(cli: CliRunner,
                                                              venice_sandbox: Any) -> None:
    address, env = _wallet(venice_sandbox)
    res = cli("--json", "wallet", "stake", "10", env=env, input="y\n")
    assert res.code == 2
    assert "--yes" in res.json()["error"]["message"]
    assert _balances(venice_sandbox, address) == (50 * WEI, 0, 0, 0)


@pytest.mark.parametrize(("amount", "balances", "code", "error_type"), [
    ("ten", {}, 2, "InvalidInputError"),
    ("+5", {}, 2, "InvalidInputError"),
    ("0", {}, 2, "InvalidInputError"),
    ("50.5", {}, 2, "AmountExceedsBalanceError"),
    ("10", {"eth": 0}, 3, "InsufficientGasError"),
    ("10", {"eth": "0.00001"}, 3, "InsufficientGasError"),
])
def test_failures_exit_with_the_documented_code_and_send_nothing(
        cli: CliRunner, venice_sandbox: Any, amount: str, balances: dict[str, Any], code: int,
        error_type: str) -> None:
    address, env = _wallet(venice_sandbox, **balances)
    res = cli("--json", "wallet", "stake", amount, "--yes", env=env)
    assert res.code == code, res.stderr
    error = res.json()["error"]
    assert error["type"] == error_type and error["message"] in res.stderr
    assert "hint" in error or code == 2
    assert _balances(venice_sandbox, address) == (50 * WEI, 0, 0, 0)


@pytest.fixture
def stake_pulls_diem(venice_sandbox: Any) -> Iterator[None]:
    """The staking contract pulls DIEM (never approved): every stake reverts."""
    chain = venice_sandbox.chain
    slot = "0x" + SLOT_STAKED_TOKEN.to_bytes(32, "big").hex()
    chain.rpc("anvil_setStorageAt", [STAKING_CONTRACT, slot, "0x" + DIEM_TOKEN[2:].rjust(64, "0")])
    try:
        yield
    finally:
        chain.rpc("anvil_setStorageAt",
                  [STAKING_CONTRACT, slot, "0x" + VVV_TOKEN[2:].rjust(64, "0")])


def test_a_revert_exits_1_and_sends_nothing(cli: CliRunner, venice_sandbox: Any,
                                            stake_pulls_diem: None) -> None:
    address, env = _wallet(venice_sandbox)
    res = cli("--json", "wallet", "stake", "10", "--yes", env=env)
    assert res.code == 1, res.stderr
    error = res.json()["error"]
    assert error["type"] == "SimulationRevertedError" and "allowance" in error["message"]
    assert _balances(venice_sandbox, address) == (50 * WEI, 0, 0, 0)


def test_terminal_shows_the_plan_and_asks(venice_sandbox: Any, tmp_path: Path) -> None:
    address, env = _wallet(venice_sandbox)
    code, screen = run_on_tty(["wallet", "stake", "10"], clean_env(env), tmp_path,
                              [("Sign and send the approve + stake of 10 VVV?", "n")])
    screen = ANSI.sub("", screen)
    assert code == 1 and "aborted: nothing was changed" in screen
    for shown in ("Stake 10 VVV", STAKING_CONTRACT, VVV_TOKEN, "gas:", "at most", "ETH"):
        assert shown in screen, shown
    assert _balances(venice_sandbox, address) == (50 * WEI, 0, 0, 0)

    code, screen = run_on_tty(["wallet", "stake", "10"], clean_env(env), tmp_path,
                              [("Sign and send the approve + stake of 10 VVV?", "y")])
    assert code == 0, screen
    assert "Staked 10 VVV: sVVV 0 → 10" in ANSI.sub("", screen)
    assert _balances(venice_sandbox, address) == (40 * WEI, 10 * WEI, 0, 2)


@pytest.fixture
def manual_mining(venice_sandbox: Any) -> Iterator[Any]:
    chain = venice_sandbox.chain
    chain.rpc("evm_setAutomine", [False])
    try:
        yield chain
    finally:
        chain.rpc("evm_setAutomine", [True])
        chain.rpc("evm_mine")


def test_ctrl_c_after_the_approve_says_so_and_a_rerun_finishes(
        venice_sandbox: Any, manual_mining: Any, tmp_path: Path) -> None:
    chain = manual_mining
    address, env = _wallet(venice_sandbox)
    proc = start_cli("--json", "wallet", "stake", "5", "--yes", env=env, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 90  # a guard, not a measure: CI machines can be busy
        while int(chain.rpc("eth_getTransactionCount", [address, "pending"]), 16) == 0:
            assert time.monotonic() < deadline and proc.poll() is None, "no approve was sent"
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)  # the approve is out, the stake is not
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    error = json.loads(out)["error"]
    assert error["type"] == "Interrupted" and "Traceback" not in err
    assert "The approve 0x" in error["hint"] and "the stake was not sent" in error["hint"]
    assert "run the same stake again" in error["hint"]

    chain.rpc("evm_mine")  # the approve lands after all
    chain.rpc("evm_setAutomine", [True])
    assert _balances(venice_sandbox, address) == (50 * WEI, 0, 5 * WEI, 1)
    again = subprocess.run([str(CLI_SCRIPT), "--json", "wallet", "stake", "5", "--yes"],
                           env=clean_env(env), cwd=tmp_path, capture_output=True, text=True,
                           timeout=60, check=False)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["approveTx"] is None  # the allowance was reused
    assert _balances(venice_sandbox, address) == (45 * WEI, 5 * WEI, 0, 2)


def test_mint_without_svvv_but_with_vvv_points_at_wallet_stake(cli: CliRunner,
                                                               venice_sandbox: Any) -> None:
    address, env = _wallet(venice_sandbox, vvv=3)
    res = cli("--json", "mint", "--type", "INFERENCE", "--description", "x", "--print", env=env)
    assert res.code == 3
    error = res.json()["error"]
    assert "3 VVV that is not staked" in error["message"]
    assert "venice-keys wallet stake" in error["message"]
    assert "--dry-run" in error["hint"]
    status = cli("wallet", "status", "--address", address, env=env)
    assert "venice-keys wallet stake AMOUNT" in status.stdout


def test_help_documents_the_command(cli: CliRunner) -> None:
    assert "stake" in cli("wallet", "--help").stdout
    text = cli("wallet", "stake", "--help").stdout
    for word in ("AMOUNT|all", "--dry-run", "--yes", "Exit 2", "3: not enough ETH"):
        assert word in text, word
