"""Canary: no secret reaches stdout or stderr, except a new key's secret through --print."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import create_key
from tests.harness import CLI_SCRIPT, CliResult, CliRunner


def _no_leak(results: list[CliResult], *secrets: str) -> None:
    for res in results:
        for secret in secrets:
            for piece in (secret, secret.removeprefix("0x")):
                assert piece not in res.stdout, "secret on stdout"
                assert piece not in res.stderr, "secret on stderr"


@pytest.mark.timeout(360)  # about twenty runs of the CLI, on a shared machine
def test_no_secret_leaks_from_any_command(cli: CliRunner, venice_sandbox: Any, venice_wallet: Any,
                                          tmp_path: Path) -> None:
    private_key = venice_wallet[1].reveal()
    env = dict(venice_sandbox.env(venice_wallet[1]))
    results: list[CliResult] = []

    def run_and_keep(*args: str, extra: dict[str, str] | None = None) -> CliResult:
        """One CLI run with the wallet's env (+ `extra`), kept for the final leak check."""
        res = cli(*args, env={**env, **(extra or {})})
        results.append(res)
        return res

    run_and_keep("wallet", "status")
    run_and_keep("--json", "wallet", "status")
    admin_file = tmp_path / "admin.key"
    minted = run_and_keep("mint", "--type", "ADMIN", "--description", "a", "--out", str(admin_file))
    assert minted.code == 0
    admin = admin_file.read_text().strip()
    with_admin = {"VENICE_ADMIN_KEY": admin}
    env_file = tmp_path / "keys.env"
    made = run_and_keep("--json", "keys", "create", "--type", "INFERENCE", "--description", "c",
                        "--env-out", str(env_file), extra=with_admin)
    assert made.code == 0, made.stderr
    inference = env_file.read_text().split("=", 1)[1].strip()
    key_id = made.json()["id"]
    for args in (["keys", "list"], ["--json", "keys", "list"], ["keys", "get", key_id],
                 ["--json", "keys", "get", key_id], ["limits"], ["billing"],
                 ["keys", "update", key_id, "--usd-limit", "3"],
                 ["keys", "create", "--type", "INFERENCE", "--description", "d",
                  "--out", str(tmp_path / "d.key")],
                 ["keys", "rotate", key_id, "--out", str(tmp_path / "r.key")]):
        res = run_and_keep(*args, extra=with_admin)
        assert res.code == 0, (args, res.stderr)
    rotated = (tmp_path / "r.key").read_text().strip()
    # failures too: a wrong key, a secret pasted where an id belongs, a bad --out
    run_and_keep("keys", "list", extra={"VENICE_ADMIN_KEY": admin + "x"})
    run_and_keep("--json", "keys", "get", admin, extra=with_admin)
    run_and_keep("keys", "revoke", inference, "--yes", extra=with_admin)
    run_and_keep("keys", "create", "--type", "INFERENCE", "--description", "e",
                 "--out", str(admin_file), extra=with_admin)
    _no_leak(results, private_key, admin, inference, rotated,
             (tmp_path / "d.key").read_text().strip())


def test_print_is_the_one_way_to_stdout(cli: CliRunner, admin_env: dict[str, str],
                                        tmp_path: Path) -> None:
    res = cli("--json", "keys", "create", "--type", "INFERENCE", "--description", "p",
              "--print", env=admin_env)
    assert res.code == 0, res.stderr
    data = json.loads(res.stdout)
    secret = data["apiKey"]
    assert secret.startswith("VENICE_INFERENCE_KEY_") and secret.endswith(data["last6"])
    assert data["sink"] == {"kind": "stdout", "location": "stdout"}
    assert secret not in res.stderr
    # no TTY on stdout here, so no warning; the secret appears exactly once
    assert res.stdout.count(secret) == 1

    human = cli("keys", "create", "--type", "INFERENCE", "--description", "p2", "--print",
                env=admin_env)
    assert human.code == 0
    last = human.stdout.strip().splitlines()[-1]
    assert last.startswith("VENICE_INFERENCE_KEY_")
    assert last not in human.stderr

    quiet = create_key(cli, admin_env, tmp_path / "q")
    assert "apiKey" not in quiet


def test_print_to_a_terminal_warns_on_stderr(admin_env: dict[str, str], tmp_path: Path) -> None:
    import os
    import pty
    import subprocess

    from tests.harness import clean_env

    master, slave = pty.openpty()
    proc = subprocess.Popen([str(CLI_SCRIPT), "keys", "create", "--type", "INFERENCE",
                             "--description", "tty", "--print"], stdin=subprocess.DEVNULL,
                            stdout=slave, stderr=subprocess.PIPE, env=clean_env(admin_env),
                            cwd=tmp_path)
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    assert proc.stderr is not None
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=30) == 0
    assert "warning" in err and "once" in err
    assert b"VENICE_INFERENCE_KEY_" in shown
    assert "VENICE_INFERENCE_KEY_" not in err


@pytest.mark.timeout(240)  # two rotations through the console script
def test_a_printed_secret_survives_a_failure_after_delivery(cli: CliRunner, venice_sandbox: Any,
                                                            admin_env: dict[str, str],
                                                            tmp_path: Path) -> None:
    """Rotation made and delivered the new key, then revoking the old one failed: both keys
    are live, so the --print secret must still reach the user (stdout, or the JSON error)."""
    from venice_web3_keys.sandbox.emulator import Fault

    for json_mode in (False, True):
        old = create_key(cli, admin_env, tmp_path / f"old{json_mode}")
        venice_sandbox.emulator.faults.add("DELETE /api_keys", Fault(status=500))
        res = cli(*(["--json"] if json_mode else []), "keys", "rotate", old["id"], "--print",
                  env=admin_env)
        assert res.code == 1, res.stderr
        secret = res.json()["error"]["apiKey"] if json_mode else res.stdout.strip()
        assert secret.startswith("VENICE_INFERENCE_KEY_"), res.stdout
        assert secret not in res.stderr
        assert f"revoke {old['id']} yourself" in res.stderr
        listed = cli("--json", "keys", "list", env=admin_env).json()["data"]
        new = [k for k in listed if k["id"] != old["id"] and k["description"] == "t"
               and secret.endswith(k["last6Chars"])]
        assert len(new) == 1, "the printed secret is the live successor's"
