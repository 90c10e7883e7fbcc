"""Each command's import budget (what it must not load); --help, --version and completion work."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import create_key
from tests.harness import CLI_SCRIPT, CliRunner, clean_env, console_script_probe, untraced

UUID = "e28e82dc-9df2-4b47-b726-d0a222ef2ab5"

# The import budget of each command: packages (or modules) it must not import. A command that
# neither signs nor reads the chain loads no web3/eth_account; no command loads the MCP server's
# stack; `--json` runs load no rich (nor httpx's own CLI, which would bring rich and pygments).
SIGNING = ("web3", "eth_account", "eth_keyfile", "coincurve")
SERVERS = ("mcp", "uvicorn", "starlette")
RICH = ("rich", "pygments", "httpx._main")
#: a request command needs no .env parser when there is no .env file (the tests' cwd has none),
#: nor the flows' result types (api.py loads them with the first flow that makes one)
REQUEST_BUDGET = (*SIGNING, *SERVERS, *RICH, "dotenv", "venice_web3_keys.flows._result")
#: nor, when it only talks to Venice, the installed packages' metadata (pydantic's plugin lookup
#: would read it: lean_imports.skip_pydantic_plugins); eth_hash reads it for `wallet status`
VENICE_ONLY_BUDGET = (*REQUEST_BUDGET, "importlib.metadata")
HELP_BUDGET = (*SIGNING, *SERVERS, *RICH, "dotenv", "pydantic", "httpx", "asyncio")


#: lists the modules a real run of the console script loaded (at exit; not lean_imports'
#: stand-ins, which hold a module's place without loading it)
PROBE = console_script_probe('"\\n".join(k for k, v in sys.modules.items() '
                             'if v is not None and type(v).__name__ != "_StandIn")')


def _imported(args: list[str], env: dict[str, str], cwd: Path, *,
              expect_ok: bool = True) -> set[str]:
    """Every module loaded by a real run of the console script (dotted names)."""
    listing = cwd / "modules.txt"
    # untraced: the coverage tracer would add its own modules to the list
    proc = subprocess.run([sys.executable, "-c", PROBE, str(listing), str(CLI_SCRIPT), *args],
                          env=untraced(clean_env(env)), cwd=cwd, capture_output=True, text=True,
                          check=False, timeout=60)
    assert (proc.returncode == 0) == expect_ok, proc.stderr[-2000:]
    names = set(listing.read_text().splitlines())
    assert "click.core" in names, "the module list was not written"
    return names


def _loaded_models(imported: set[str]) -> set[str]:
    """The resource modules of `venice_web3_keys.models` a run loaded (not its shared bases)."""
    prefix = "venice_web3_keys.models."
    return {name.removeprefix(prefix) for name in imported
            if name.startswith(prefix) and not name.removeprefix(prefix).startswith("_")}


def _over_budget(imported: set[str], budget: tuple[str, ...]) -> set[str]:
    return {name for name in imported for banned in budget
            if name == banned or name.startswith(banned + ".")}


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["keys", "--help"],
                                  ["mint", "--help"], ["wallet", "stake", "--help"]])
def test_help_and_version_stay_within_their_import_budget(tmp_path: Path,
                                                          args: list[str]) -> None:
    assert not _over_budget(_imported(args, {}, tmp_path), HELP_BUDGET)


def test_read_commands_stay_within_their_import_budget(
        venice_sandbox: Any, admin_env: dict[str, str], cli: CliRunner, tmp_path: Path) -> None:
    key = create_key(cli, admin_env, tmp_path / "k")
    address = venice_sandbox.new_wallet(vvv=5)[0]
    for args, models in ((["--json", "keys", "list"], "keys"),
                         (["--json", "keys", "get", key["id"]], "keys"),
                         (["--json", "limits"], "limits"), (["--json", "limits", "log"], "limits"),
                         (["--json", "billing"], "billing"),
                         (["--json", "wallet", "status", "--address", address], "wallet")):
        imported = _imported(args, admin_env, tmp_path)
        budget = REQUEST_BUDGET if models == "wallet" else VENICE_ONLY_BUDGET
        assert not _over_budget(imported, budget), args
        # each builds its own resource's models and no other's (models/__init__.py)
        assert _loaded_models(imported) == {models}, args
    # Tables are rich's job, so a human-readable run may load it, but nothing heavier.
    human = _imported(["keys", "list"], admin_env, tmp_path)
    assert not _over_budget(human, (*SIGNING, *SERVERS, "httpx._main", "pygments"))
    assert "rich.table" in human  # the probe sees a package when it is imported


def test_a_failing_json_run_stays_within_the_budget(admin_env: dict[str, str],
                                                    tmp_path: Path) -> None:
    """The error path of `--json` (a JSON object, plain stderr) loads no rich either."""
    names = _imported(["--json", "keys", "get", UUID], admin_env, tmp_path, expect_ok=False)
    assert not _over_budget(names, VENICE_ONLY_BUDGET)


def test_importtime_check_can_fail(venice_sandbox: Any, venice_wallet: Any,
                                   tmp_path: Path) -> None:
    """The same probe does see eth_account when a command really signs; py_ecc's BLS12-381
    tables (eth_keyfile's, for keystores this package never uses) stay unbuilt even then."""
    env = dict(venice_sandbox.env(venice_wallet[1]))
    names = _imported(["--json", "mint", "--type", "INFERENCE", "--description", "x",
                       "--out", str(tmp_path / "k")], env, tmp_path)
    assert _over_budget(names, SIGNING) >= {"eth_account"}
    assert not _over_budget(names, ("py_ecc.optimized_bls12_381",
                                    "py_ecc.bls12_381.bls12_381_pairing"))


def test_user_agent_version_is_the_installed_version() -> None:
    """The client names `__version__` (cheaper than reading metadata on every start): the two
    must not drift apart."""
    import venice_web3_keys
    from venice_web3_keys.client import USER_AGENT

    installed = importlib.metadata.version("venice-web3-keys")
    assert venice_web3_keys.__version__ == installed
    assert f"venice-web3-keys/{installed}" == USER_AGENT


def test_help_lists_every_command(cli: CliRunner) -> None:
    res = cli("--help")
    assert res.code == 0
    for word in ("wallet", "mint", "keys", "limits", "billing", "sandbox", "demo",
                 "--env-file", "--json", "--api-base", "--rpc-url", "--version",
                 "_VENICE_KEYS_COMPLETE"):
        assert word in res.stdout, word
    keys = cli("keys", "--help").stdout
    for sub in ("list", "get", "create", "update", "revoke", "rotate"):
        assert sub in keys
    for opt in ("--out", "--env-out", "--keyring", "--print", "--expires", "--usd-limit",
                "--diem-limit", "--limit-period", "--model-privacy"):
        assert opt in cli("keys", "create", "--help").stdout, opt


def test_version(cli: CliRunner) -> None:
    res = cli("--version")
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
    proc = subprocess.run([str(CLI_SCRIPT)], env=env, cwd=tmp_path, capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0
    assert f"plain,{expect}" in proc.stdout.splitlines()


def test_completion_command_prints_script(cli: CliRunner) -> None:
    res = cli("completion", "bash")
    assert res.code == 0
    assert "_VENICE_KEYS_COMPLETE=bash_complete" in res.stdout
    assert "complete " in res.stdout


@pytest.mark.parametrize("args", [("--json", "--version"), ("--version", "--json")])
def test_version_as_json(cli: CliRunner, args: tuple[str, ...]) -> None:
    res = cli(*args)
    assert res.code == 0, res.stderr
    assert res.json() == {"version": importlib.metadata.version("venice-web3-keys")}
    assert res.stderr == ""


@pytest.mark.parametrize("args", [("--json", "completion", "zsh"), ("completion", "zsh", "--json")])
def test_completion_as_json_wraps_the_script(cli: CliRunner, args: tuple[str, ...]) -> None:
    res = cli(*args)
    assert res.code == 0, res.stderr
    data = res.json()
    assert data["shell"] == "zsh"
    assert data["script"] + "\n" == cli("completion", "zsh").stdout
    assert "#compdef venice-keys" in data["script"]


@pytest.mark.parametrize("args", [("--json", "sandbox"), ("sandbox", "--json")])
def test_sandbox_refuses_json_with_a_json_usage_error(cli: CliRunner,
                                                      args: tuple[str, ...]) -> None:
    res = cli(*args)  # the sandbox would run until stopped had it started
    assert res.code == 2
    error = res.json()["error"]
    assert error["type"] == "UsageError" and "--json" in error["message"]
    assert "VENICE_API_BASE_URL" not in res.stdout


#: what the cycle collector still sees as a real run of the console script leaves
EXIT_PROBE = console_script_probe(
    'f"{gc.get_freeze_count()} {len(gc.get_objects())}"', setup="import gc")


@pytest.mark.parametrize("args", [["--json", "keys", "list"], ["--json", "keys", "get", UUID],
                                  ["--help"]])
def test_the_console_script_spares_its_exit_the_cycle_collection(
        admin_env: dict[str, str], tmp_path: Path, args: list[str]) -> None:
    """At exit CPython collects cycles over every live object (twice), as long as a whole
    request on a loaded interpreter: the process's own run freezes them out of sight first.
    Exit handlers still run (this probe is one), stdout is complete, the exit code kept."""
    record = tmp_path / "gc.txt"
    proc = subprocess.run([sys.executable, "-c", EXIT_PROBE, str(record), str(CLI_SCRIPT), *args],
                          env=untraced(clean_env(admin_env)), cwd=tmp_path, capture_output=True,
                          text=True, check=False, timeout=60)
    frozen, tracked = map(int, record.read_text().split())
    assert frozen > 10_000 and tracked < frozen / 10, (frozen, tracked)
    if args[-1] == UUID:  # a failure takes the same way out, with its code and its JSON
        assert proc.returncode != 0 and '"error"' in proc.stdout, proc.stderr[-2000:]
    elif args[0] == "--json":
        assert proc.returncode == 0 and "data" in json.loads(proc.stdout), proc.stderr[-2000:]
    else:
        assert proc.returncode == 0 and "Commands:" in proc.stdout


def test_main_called_in_a_process_that_goes_on_freezes_nothing(cli: CliRunner,
                                                               admin_env: dict[str, str]) -> None:
    """`main(argv)` from a test or a user's script leaves the collector as it was: the freeze
    is for the process whose command line it is, which ends right after."""
    import gc

    before = gc.get_freeze_count()
    assert cli("--json", "keys", "list", env=admin_env).code == 0
    assert gc.get_freeze_count() == before


def test_main_without_argv_caught_in_a_process_that_goes_on_freezes_nothing(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """`main()` reading sys.argv (a user's test, a wrapper that catches SystemExit) is not
    always the end of the process: everything alive then (garbage cycles included) would stay
    frozen, uncollectable, once per call. The freeze waits for the exit itself (an exit handler)."""
    import atexit
    import gc
    import logging
    import os

    from venice_web3_keys.cli.app import main

    monkeypatch.setattr(sys, "argv", ["venice-keys", "--version"])
    # main() sets up the package logger and a variable of its own for a CLI run: put them back
    # for the tests after this one in the worker (as tests/harness.CliRunner does)
    logger = logging.getLogger("venice_web3_keys")
    handlers, level, environ = list(logger.handlers), logger.level, dict(os.environ)
    before = gc.get_freeze_count()
    try:
        with pytest.raises(SystemExit) as exited:
            main()
        assert exited.value.code == 0 and "venice-keys" in capsys.readouterr().out
        assert gc.get_freeze_count() == before
    finally:
        gc.unfreeze()  # without the fix: don't leave the rest of the session frozen
        atexit.unregister(gc.freeze)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        os.environ.clear()
        os.environ.update(environ)
