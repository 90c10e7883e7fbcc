"""Fast paths import no web3/eth_account/mcp; --help, --version and shell completion work."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import BIN, Run, clean_env, create_key

HEAVY = ("web3", "eth_account", "eth_keyfile", "mcp", "uvicorn", "starlette")
UUID = "e28e82dc-9df2-4b47-b726-d0a222ef2ab5"


def _imported(args: list[str], env: dict[str, str], cwd: Path) -> set[str]:
    """Top-level module names imported by a real run of the console script (-X importtime)."""
    proc = subprocess.run([sys.executable, "-X", "importtime", str(BIN), *args],
                          env=clean_env(env), cwd=cwd, capture_output=True, text=True,
                          check=False, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    names = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    assert "click" in names, "importtime output was not parsed"
    return names


def test_help_and_version_import_nothing_heavy(tmp_path: Path) -> None:
    for args in (["--help"], ["--version"], ["keys", "--help"], ["mint", "--help"],
                 ["wallet", "stake", "--help"]):
        heavy = _imported(args, {}, tmp_path) & set(HEAVY)
        assert not heavy, (args, heavy)


def test_read_commands_import_nothing_heavy(venice_sandbox: Any, admin_env: dict[str, str],
                                            run: Run, tmp_path: Path) -> None:
    key = create_key(run, admin_env, tmp_path / "k")
    address = venice_sandbox.new_wallet(vvv=5)[0]
    for args in (["--json", "keys", "list"], ["--json", "keys", "get", key["id"]],
                 ["--json", "limits"], ["--json", "limits", "log"], ["--json", "billing"],
                 ["keys", "list"], ["--json", "wallet", "status", "--address", address]):
        heavy = _imported(args, admin_env, tmp_path) & set(HEAVY)
        assert not heavy, (args, heavy)


def test_importtime_check_can_fail(venice_sandbox: Any, venice_wallet: Any,
                                   tmp_path: Path) -> None:
    """The same probe does see eth_account when a command really signs."""
    env = dict(venice_sandbox.env(venice_wallet[1]))
    names = _imported(["--json", "mint", "--type", "INFERENCE", "--description", "x",
                       "--out", str(tmp_path / "k")], env, tmp_path)
    assert "eth_account" in names


def test_help_lists_every_command(run: Run) -> None:
    res = run("--help")
    assert res.code == 0
    for word in ("wallet", "mint", "keys", "limits", "billing", "sandbox", "demo",
                 "--env-file", "--json", "--api-base", "--rpc-url", "--version",
                 "_VENICE_KEYS_COMPLETE"):
        assert word in res.stdout, word
    keys = run("keys", "--help").stdout
    for sub in ("list", "get", "create", "update", "revoke", "rotate"):
        assert sub in keys
    for opt in ("--out", "--env-out", "--keyring", "--print", "--expires", "--usd-limit",
                "--diem-limit", "--limit-period", "--model-privacy"):
        assert opt in run("keys", "create", "--help").stdout, opt


def test_version(run: Run) -> None:
    res = run("--version")
    assert res.code == 0
    assert res.stdout.strip() == f"venice-keys {importlib.metadata.version('venice-web3-keys')}"


def test_python_dash_m_is_the_cli(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "venice_web3_keys", "--version"],
                          env=clean_env(), cwd=tmp_path, capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0 and proc.stdout.startswith("venice-keys ")


@pytest.mark.parametrize(("words", "cword", "expect"), [
    ("venice-keys ke", 1, "keys"),
    ("venice-keys keys ro", 2, "rotate"),
    ("venice-keys keys create --limit-period ", 4, "MONTH"),
])
def test_shell_completion(tmp_path: Path, words: str, cword: int, expect: str) -> None:
    env = clean_env({"_VENICE_KEYS_COMPLETE": "bash_complete", "COMP_WORDS": words,
                     "COMP_CWORD": str(cword)})
    proc = subprocess.run([str(BIN)], env=env, cwd=tmp_path, capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0
    assert f"plain,{expect}" in proc.stdout.splitlines()


def test_completion_command_prints_script(run: Run) -> None:
    res = run("completion", "bash")
    assert res.code == 0
    assert "_VENICE_KEYS_COMPLETE=bash_complete" in res.stdout
    assert "complete " in res.stdout


@pytest.mark.parametrize("args", [("--json", "--version"), ("--version", "--json")])
def test_version_as_json(run: Run, args: tuple[str, ...]) -> None:
    res = run(*args)
    assert res.code == 0, res.stderr
    assert res.json() == {"version": importlib.metadata.version("venice-web3-keys")}
    assert res.stderr == ""


@pytest.mark.parametrize("args", [("--json", "completion", "zsh"), ("completion", "zsh", "--json")])
def test_completion_as_json_wraps_the_script(run: Run, args: tuple[str, ...]) -> None:
    res = run(*args)
    assert res.code == 0, res.stderr
    data = res.json()
    assert data["shell"] == "zsh"
    assert data["script"] + "\n" == run("completion", "zsh").stdout
    assert "#compdef venice-keys" in data["script"]


@pytest.mark.parametrize("args", [("--json", "sandbox"), ("sandbox", "--json"),
                                  ("--json", "sandbox", "--help")])
def test_sandbox_refuses_json_with_a_json_usage_error(run: Run, args: tuple[str, ...]) -> None:
    res = run(*args, timeout=30)  # would stream .env lines until killed if it started
    assert res.code == 2
    error = res.json()["error"]
    assert error["type"] == "UsageError" and "--json" in error["message"]
    assert "VENICE_API_BASE_URL" not in res.stdout
