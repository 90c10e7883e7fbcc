"""The CLI: entry points, commands, options and choices, one JSON object per `--json` run,
sinks, WHEN forms, and exit codes (README.md, "Wallet holders: the `venice-keys` CLI";
docs/ARCHITECTURE.md, "Errors and exit codes")."""

from __future__ import annotations

import hashlib
import json
import os
import queue
import re
import signal
import stat
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import pytest
from dotenv import dotenv_values

from tests.contract.conftest import ADDR_A, PY, REPO, VENV_BIN
from tests.harness import CliResult, CliRunner, SandboxAccount, clean_env

if TYPE_CHECKING:
    from venice_web3_keys.sandbox.runner import Sandbox

UUID0 = "00000000-0000-4000-8000-000000000000"
SEND_FORM = re.compile(r"\d{4}-\d{2}-\d{2}|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


def run_exe(argv: list[str], *, env: Mapping[str, str] | None = None, cwd: Path,
            timeout: float = 60) -> CliResult:
    """Any executable (a console script, `python -m ...`), as a user's shell would run it."""
    proc = subprocess.run(argv, env=clean_env(env), cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, check=False)
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


# Distribution and entry points


def test_distribution_and_console_scripts() -> None:
    dist = metadata.distribution("venice-web3-keys")
    assert dist.metadata["Name"] == "venice-web3-keys"
    assert dist.metadata["Requires-Python"] == ">=3.11"
    scripts = {ep.name: ep.value for ep in dist.entry_points if ep.group == "console_scripts"}
    assert scripts["venice-keys"] == "venice_web3_keys.cli.app:main"
    assert scripts["venice-keys-mcp"] == "venice_web3_keys.mcp.entry:main"
    import venice_web3_keys

    assert venice_web3_keys.__name__ == "venice_web3_keys"
    assert (REPO / "mcp_server.py").is_file()


@pytest.mark.parametrize("script", ["venice-keys", "venice-keys-mcp"])
def test_checkout_venv_has_the_console_scripts(script: str) -> None:
    path = VENV_BIN / script
    assert path.is_file() and os.access(path, os.X_OK), path


TOP_COMMANDS = ("wallet", "mint", "keys", "limits", "billing", "sandbox", "demo")


@pytest.mark.parametrize("argv", [[str(VENV_BIN / "venice-keys")], [PY, "-m", "venice_web3_keys"]],
                         ids=["console-script", "python-m"])
def test_cli_entry_points(argv: list[str], tmp_path: Path) -> None:
    helped = run_exe([*argv, "--help"], cwd=tmp_path)
    assert helped.code == 0, helped.stderr
    for name in (*TOP_COMMANDS, "--env-file", "--json", "--api-base", "--rpc-url"):
        assert name in helped.stdout, name
    # a failure through the real entry point: one JSON object, message on stderr, exit 4
    failed = run_exe([*argv, "--json", "keys", "list"], cwd=tmp_path)
    assert failed.code == 4, failed
    assert failed.error()["type"] == "MissingCredentialsError"


def _read_env_lines(proc: subprocess.Popen[str], timeout: float = 60) -> dict[str, str]:
    """The `NAME=value` lines the sandbox prints before its `# Ctrl-C` line."""
    stream = proc.stdout
    assert stream is not None
    found: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        for line in stream:
            found.put(line)
        found.put(None)

    threading.Thread(target=pump, daemon=True).start()
    lines: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    while (line := found.get(timeout=max(deadline - time.monotonic(), 0.01))) is not None:
        if line.startswith("# Ctrl-C"):
            return lines
        if "=" in line and not line.startswith("#"):
            name, _, value = line.strip().partition("=")
            lines[name] = value
    raise AssertionError(f"no complete .env block from the sandbox: {lines}")


def test_python_m_sandbox_prints_env_lines_of_a_funded_wallet(tmp_path: Path) -> None:
    from venice_web3_keys import VeniceKeys

    proc = subprocess.Popen([PY, "-m", "venice_web3_keys.sandbox"], env=clean_env(),
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    try:
        env = _read_env_lines(proc)
        assert {"VENICE_API_BASE_URL", "BASE_RPC_URL", "VENICE_WALLET_PRIVATE_KEY"} <= set(env)
        env_file = tmp_path / ".env"
        env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
        with VeniceKeys.from_env(env_file) as vk:
            status = vk.wallet_status()
            assert status.eligible is True
            assert status.balances["VVV"] > 0  # some unstaked VVV, to try staking
            minted = vk.mint_key(api_key_type="INFERENCE", description="sandbox check")
            assert minted.id
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            assert proc.wait(timeout=15) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()



# CLI: commands, options, choices

KEY_OPTIONS = {"--expires", "--usd-limit", "--diem-limit", "--limit-period", "--model-privacy"}
SINKS = {"--out", "--env-out", "--keyring", "--print"}
NEW_KEY = {"--type", "--description"} | KEY_OPTIONS | SINKS

# command path: (arguments, options, required options, flags)
CLI_COMMANDS: dict[str, tuple[list[str], set[str], set[str], set[str]]] = {
    "": ([], {"--env-file", "--json", "--api-base", "--rpc-url"}, set(), {"--json"}),
    "wallet new": ([], {"--keystore", "--password-file"}, {"--keystore"}, set()),
    "wallet import": ([], {"--keystore", "--password-file"}, {"--keystore"}, set()),
    "wallet status": ([], {"--address"}, set(), set()),
    "wallet stake": (["AMOUNT|all"], {"--dry-run", "--yes"}, set(), {"--dry-run", "--yes"}),
    "mint": ([], NEW_KEY, {"--type", "--description"}, {"--print"}),
    "keys list": ([], {"--wide"}, set(), {"--wide"}),
    "keys get": (["ID"], set(), set(), set()),
    "keys create": ([], NEW_KEY, {"--type", "--description"}, {"--print"}),
    "keys update": (["ID"], {"--description", "--expires", "--no-expiry", "--usd-limit",
                             "--diem-limit", "--limit-period", "--model-privacy"},
                    set(), {"--no-expiry"}),
    "keys revoke": (["ID"], {"--yes"}, set(), {"--yes"}),
    "keys rotate": (["ID"], SINKS, set(), {"--print"}),
    "limits": ([], set(), set(), set()),
    "limits log": ([], set(), set(), set()),
    "billing": ([], set(), set(), set()),
    "sandbox": ([], set(), set(), set()),
    "sandbox fund": (["ADDRESS"], {"--eth", "--vvv", "--svvv", "--diem"}, set(), set()),
    "demo": ([], set(), set(), set()),
}

CHOICES = {
    "--type": ("INFERENCE", "ADMIN"),
    "--limit-period": ("EPOCH", "MONTH", "LIFETIME"),
    "--model-privacy": ("ALL", "PRIVATE_TEXT", "PRIVATE_ONLY"),
}


def _command(path: str) -> click.Command:
    from venice_web3_keys.cli.app import cli as root

    command: click.Command = root
    for part in path.split():
        assert isinstance(command, click.Group)
        command = command.commands[part]
    return command


@pytest.mark.parametrize("path", list(CLI_COMMANDS), ids=[p or "venice-keys" for p in CLI_COMMANDS])
def test_cli_command_and_options(path: str, cli: CliRunner) -> None:
    arguments, options, required, flags = CLI_COMMANDS[path]
    command = _command(path)
    by_opt = {opt: p for p in command.params for opt in p.opts}
    assert options <= set(by_opt), (path, options - set(by_opt))
    for opt in options:
        param = by_opt[opt]
        assert param.required == (opt in required), (path, opt)
        assert isinstance(param, click.Option) and param.is_flag == (opt in flags), (path, opt)
        if opt in CHOICES:
            assert isinstance(param.type, click.Choice), (path, opt)
            assert tuple(param.type.choices) == CHOICES[opt], (path, opt)
    if path == "sandbox":  # its arguments go to `python -m venice_web3_keys.sandbox`
        return
    args = [p for p in command.params if isinstance(p, click.Argument)]
    assert [p.make_metavar(click.Context(command)) for p in args] == arguments
    helped = cli(*path.split(), "--help")
    assert helped.code == 0, helped
    for opt in options:
        assert opt in helped.stdout, (path, opt)
    for name in arguments:
        assert name in helped.stdout


def test_cli_sandbox_command_runs_the_sandbox_module(cli: CliRunner) -> None:
    helped = cli("sandbox", "--help")
    text = " ".join(helped.stdout.split())
    assert helped.code == 0 and "python -m venice_web3_keys.sandbox" in text
    assert helped.stdout.startswith("Usage: venice-keys sandbox"), "its own usage line"


# CLI: JSON output of every command

NEW_KEY_FIELDS = {"id", "apiKeyType", "description", "last6", "fingerprint", "sink"}


def _check_new_key(obj: dict[str, Any], kind: str, secret: str | None = None) -> None:
    assert set(obj) >= NEW_KEY_FIELDS, obj
    assert set(obj["sink"]) == {"kind", "location"} and obj["sink"]["kind"] == kind
    assert re.fullmatch(r"[0-9a-f]{64}", obj["fingerprint"])
    if secret is not None:
        assert obj["fingerprint"] == hashlib.sha256(secret.encode()).hexdigest()
        assert obj["last6"] == secret[-6:]


def test_every_command_prints_exactly_one_json_object(cli: CliRunner, account: SandboxAccount,
                                                      tmp_path: Path) -> None:
    env = account.env
    (tmp_path / "pw").write_text("a-password\n")
    # wallet new / wallet status
    made = cli("--json", "wallet", "new", "--keystore", "w.json", "--password-file", "pw")
    assert made.code == 0, made
    assert set(made.json()) == {"address", "keystore"}
    assert Path(made.json()["keystore"]).name == "w.json"
    keystore = json.loads((tmp_path / "w.json").read_text())
    assert keystore["version"] == 3
    assert made.json()["address"].lower().endswith(keystore["address"].lower())
    status = cli("--json", "wallet", "status", env=env)
    assert status.code == 0 and set(status.json()) == {"address", "chainId", "balances", "eligible"}
    # mint (wallet) and the admin commands
    minted = cli("--json", "mint", "--type", "INFERENCE", "--description", "m", "--usd-limit", "1",
                 "--out", "m.key", env=env)
    assert minted.code == 0, minted
    _check_new_key(minted.json(), "file", (tmp_path / "m.key").read_text().strip())
    created = cli("--json", "keys", "create", "--type", "INFERENCE", "--description", "c",
                  "--usd-limit", "2", "--limit-period", "MONTH", "--model-privacy", "PRIVATE_TEXT",
                  "--expires", "7d", "--out", "c.key", env=env)
    assert created.code == 0, created
    key_id = created.json()["id"]
    _check_new_key(created.json(), "file", (tmp_path / "c.key").read_text().strip())

    listed = cli("--json", "keys", "list", env=env)
    assert listed.code == 0 and set(listed.json()) == {"data"}
    assert key_id in {k["id"] for k in listed.json()["data"]}
    got = cli("--json", "keys", "get", key_id, env=env)
    assert got.code == 0 and got.json()["id"] == key_id  # the key object itself
    assert (got.json()["limitPeriod"], got.json()["modelPrivacy"]) == ("MONTH", "PRIVATE_TEXT")
    updated = cli("--json", "keys", "update", key_id, "--description", "c2", env=env)
    assert updated.code == 0 and updated.json()["description"] == "c2"
    rotated = cli("--json", "keys", "rotate", key_id, "--env-out", "r.env", env=env)
    assert rotated.code == 0, rotated
    _check_new_key(rotated.json(), "env", dotenv_values(tmp_path / "r.env")["VENICE_API_KEY"])
    revoked = cli("--json", "keys", "revoke", rotated.json()["id"], "--yes", env=env)
    assert revoked.code == 0 and isinstance(revoked.json(), dict)
    for argv, as_list in ((["limits"], False), (["limits", "log"], True), (["billing"], False)):
        result = cli("--json", *argv, env=env)
        assert result.code == 0, (argv, result)
        if as_list:
            assert set(result.json()) == {"data"} and isinstance(result.json()["data"], list)
        else:
            assert result.json()
    # human mode: tables, not JSON
    human = cli("keys", "list", env=env)
    assert human.code == 0 and not human.stdout.lstrip().startswith("{")


# sink argv, sink.kind, how to read the delivered secret back
SINK_ROWS: list[tuple[list[str], str, Callable[[Path, Any, str], str]]] = [
    (["--out", "k.key"], "file", lambda tmp, kr, out: (tmp / "k.key").read_text().strip()),
    (["--env-out", "x.env:MY_KEY"], "env",
     lambda tmp, kr, out: str(dotenv_values(tmp / "x.env")["MY_KEY"])),
    (["--env-out", "d.env"], "env",
     lambda tmp, kr, out: str(dotenv_values(tmp / "d.env")["VENICE_API_KEY"])),
    (["--keyring", "venice-conf"], "keyring",
     lambda tmp, kr, out: next(v for (s, _), v in kr.store.items() if s == "venice-conf")),
    (["--print"], "stdout", lambda tmp, kr, out: out),
]


@pytest.mark.parametrize("json_mode", [True, False], ids=["json", "human"])
@pytest.mark.parametrize(("sink", "kind", "read_back"), SINK_ROWS,
                         ids=["out", "env-out-var", "env-out-default", "keyring", "print"])
def test_new_key_sinks(sink: list[str], kind: str, read_back: Callable[[Path, Any, str], str],
                       json_mode: bool, cli: CliRunner, account: SandboxAccount, tmp_path: Path,
                       memory_keyring: Any) -> None:
    argv = ["keys", "create", "--type", "INFERENCE", "--description", "s", "--usd-limit", "1",
            *sink]
    result = cli(*(["--json"] if json_mode else []), *argv, env=account.env)
    assert result.code == 0, result
    printed = ""
    if kind == "stdout":
        printed = result.json()["apiKey"] if json_mode else result.stdout.strip().splitlines()[-1]
    secret = read_back(tmp_path, memory_keyring, printed)
    assert secret.startswith("VENICE_")
    assert secret not in result.stderr
    if kind == "stdout":
        assert secret in result.stdout
    else:
        assert secret not in result.stdout
    if json_mode:
        _check_new_key(result.json(), kind, secret)
        assert ("apiKey" in result.json()) == (kind == "stdout")
    if kind in ("file", "env"):
        written = tmp_path / sink[1].split(":")[0]
        assert stat.S_IMODE(written.stat().st_mode) == 0o600


def test_out_never_overwrites_and_env_out_keeps_other_lines(cli: CliRunner, account: SandboxAccount,
                                                            tmp_path: Path) -> None:
    (tmp_path / "taken.key").write_text("keep me")
    before = account.last_request()
    result = cli("--json", "keys", "create", "--type", "INFERENCE", "--description", "s",
                 "--out", "taken.key", env=account.env)
    assert result.code == 2 and result.error()
    assert (tmp_path / "taken.key").read_text() == "keep me"
    assert account.last_request() is before  # nothing was sent
    (tmp_path / "app.env").write_text("OTHER=1\nVENICE_API_KEY=old\n")
    result = cli("--json", "keys", "create", "--type", "INFERENCE", "--description", "s",
                 "--env-out", "app.env", env=account.env)
    assert result.code == 0, result
    values = dotenv_values(tmp_path / "app.env")
    assert values["OTHER"] == "1" and values["VENICE_API_KEY"] != "old"
    assert stat.S_IMODE((tmp_path / "app.env").stat().st_mode) == 0o600


def test_wallet_status_shape_and_decimal_string_balances(cli: CliRunner,
                                                         venice_sandbox: Sandbox) -> None:
    address, key = venice_sandbox.new_wallet(eth="0.5", vvv="1.25", svvv="100.5", diem="0.001")
    env = venice_sandbox.env(key)
    result = cli("--json", "wallet", "status", env=env)
    assert result.code == 0, result
    assert result.json() == {
        "address": address,
        "chainId": 8453,
        "balances": {"ETH": "0.5", "VVV": "1.25", "sVVV": "100.5", "DIEM": "0.001"},
        "eligible": True,
    }
    other = cli("--json", "wallet", "status", "--address", ADDR_A, env=env)
    assert other.code == 0 and other.json()["eligible"] is False
    assert other.json()["balances"] == {"ETH": "0", "VVV": "0", "sVVV": "0", "DIEM": "0"}


def test_wallet_new_keystore_is_used_by_the_keystore_settings(
        cli: CliRunner, account: SandboxAccount, tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("a-password\n")
    made = cli("--json", "wallet", "new", "--keystore", "k.json", "--password-file", "pw")
    assert made.code == 0, made
    env = {k: v for k, v in account.env.items() if k != "VENICE_WALLET_PRIVATE_KEY"}
    env.update({"VENICE_WALLET_KEYSTORE": "k.json", "VENICE_WALLET_PASSWORD_FILE": "pw"})
    status = cli("--json", "wallet", "status", env=env)
    assert status.code == 0 and status.json()["address"] == made.json()["address"]
    assert status.json()["eligible"] is False  # a new wallet holds no sVVV
    del env["VENICE_WALLET_PASSWORD_FILE"]
    status = cli("--json", "wallet", "status", env={**env, "VENICE_WALLET_PASSWORD": "a-password"})
    assert status.code == 0 and status.json()["address"] == made.json()["address"]


# CLI: WHEN, keys update


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + \
        f"{moment.microsecond // 1000:03d}Z"


NOW = datetime.now(UTC).replace(microsecond=0)
DAY = (NOW + timedelta(days=10)).date().isoformat()
NOON = (NOW + timedelta(days=3)).replace(hour=12, minute=0, second=0)

# WHEN as typed -> what must be sent (a string), or a timedelta from now (within a minute)
WHEN_VALID: list[tuple[str, str | timedelta]] = [
    (DAY, DAY),
    (NOON.strftime("%Y-%m-%dT%H:%M:%SZ"), _iso(NOON)),
    (NOON.strftime("%Y-%m-%dT%H:%M:%S") + "+02:00", _iso(NOON - timedelta(hours=2))),
    (NOON.strftime("%Y-%m-%dT%H:%M:%S") + "-05:30", _iso(NOON + timedelta(hours=5, minutes=30))),
    ("12h", timedelta(hours=12)),
    ("30d", timedelta(days=30)),
    ("6w", timedelta(weeks=6)),
]
# Test ids name the form, not the value: values made from the clock would differ between
# pytest-xdist workers, which must collect the very same tests.
WHEN_VALID_IDS = ["date", "utc-Z", "offset+02:00", "offset-05:30", "12h", "30d", "6w"]
WHEN_INVALID = [
    (NOW - timedelta(days=2)).date().isoformat(),            # past date
    (NOW - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),  # past time
    (NOW + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S"),  # no Z / offset
    "tomorrow", "30", "30y", "-5d", "0d", "2026-02-30", "",
    "90m", "30min",                                            # minutes: not a key lifetime
    (NOW + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),  # under an hour
]
WHEN_INVALID_IDS = ["past-date", "past-time", "no-offset", "tomorrow", "30", "30y", "-5d", "0d",
                    "2026-02-30", "empty", "90m", "30min", "under-an-hour"]


@pytest.mark.parametrize(("when", "sent"), WHEN_VALID, ids=WHEN_VALID_IDS)
def test_when_forms_are_converted_to_a_venice_form(when: str, sent: str | timedelta, cli: CliRunner,
                                                   account: SandboxAccount,
                                                   wire: list[tuple[str, str, Any]]) -> None:
    created = cli("--json", "keys", "create", "--type", "INFERENCE", "--description", "w",
                  "--usd-limit", "1", "--expires", when, "--print", env=account.env)
    assert created.code == 0, created
    posted = next(body for method, path, body in wire if (method, path) == ("POST", "/api_keys"))
    updated = cli("--json", "keys", "update", created.json()["id"], "--expires", when,
                  env=account.env)
    assert updated.code == 0, updated
    patched = next(body for method, path, body in wire if method == "PATCH")
    for value in (posted["expiresAt"], patched["expiresAt"]):
        assert SEND_FORM.fullmatch(value), value
        if isinstance(sent, str):
            assert value == sent
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            assert abs(moment - (datetime.now(UTC) + sent)) < timedelta(minutes=1)


@pytest.mark.parametrize("when", WHEN_INVALID, ids=WHEN_INVALID_IDS)
def test_invalid_when_is_invalid_input_and_nothing_is_sent(
        when: str, cli: CliRunner, account: SandboxAccount,
        wire: list[tuple[str, str, Any]]) -> None:
    for argv in (["keys", "create", "--type", "INFERENCE", "--description", "w", "--print"],
                 ["mint", "--type", "INFERENCE", "--description", "w", "--print"],
                 ["keys", "update", UUID0]):
        result = cli("--json", *argv, "--expires", when, env=account.env)
        assert result.code == 2, (argv, result)
        assert result.error()["type"] == "InvalidInputError"
    assert wire == []


def test_keys_update_none_sends_null_and_no_expiry_removes_it(
        cli: CliRunner, account: SandboxAccount, wire: list[tuple[str, str, Any]]) -> None:
    created = cli("--json", "keys", "create", "--type", "INFERENCE", "--description", "u",
                  "--usd-limit", "5", "--diem-limit", "6", "--expires", "7d", "--print",
                  env=account.env)
    key_id = created.json()["id"]
    result = cli("--json", "keys", "update", key_id, "--usd-limit", "none", env=account.env)
    assert result.code == 0, result
    body = wire[-1][2]
    assert wire[-1][:2] == ("PATCH", "/api_keys")
    assert "usd" in body["consumptionLimit"] and body["consumptionLimit"]["usd"] is None
    assert result.json()["consumptionLimits"]["usd"] is None
    assert result.json()["consumptionLimits"]["diem"] == 6

    result = cli("--json", "keys", "update", key_id, "--diem-limit", "none", "--no-expiry",
                 env=account.env)
    assert result.code == 0, result
    body = wire[-1][2]
    assert "diem" in body["consumptionLimit"] and body["consumptionLimit"]["diem"] is None
    assert "expiresAt" in body and not body["expiresAt"]
    assert result.json()["consumptionLimits"]["diem"] is None and result.json()["expiresAt"] is None

    sent = len(wire)
    both = cli("--json", "keys", "update", key_id, "--expires", "7d", "--no-expiry",
               env=account.env)
    assert both.code == 2 and both.error()
    assert len(wire) == sent


# CLI: exit codes (and the one JSON error object)

CREATE = ["keys", "create", "--type", "INFERENCE", "--description", "x", "--usd-limit", "1"]
NO_KEY = {"VENICE_ADMIN_KEY": ""}

# name, argv, env overrides (from the account), exit code, error type (None: success)
EnvOverrides = Callable[[SandboxAccount], dict[str, str]]
EXIT_CODES: list[tuple[str, list[str], EnvOverrides, int, str | None]] = [
    ("ok", ["keys", "list"], lambda acc: {}, 0, None),
    ("unknown option", ["keys", "list", "--nope"], lambda acc: {}, 2, "NoSuchOption"),
    ("missing command", ["keys"], lambda acc: {}, 2, "UsageError"),
    ("missing argument", ["keys", "get"], lambda acc: {}, 2, "MissingParameter"),
    ("bad choice", [*CREATE[:3], "FOO", *CREATE[4:], "--print"], lambda acc: {}, 2, "BadParameter"),
    ("missing required", ["mint", "--type", "INFERENCE", "--print"], lambda acc: {}, 2,
     "MissingParameter"),
    ("no sink", CREATE, lambda acc: {}, 2, "InvalidInputError"),
    ("two sinks", [*CREATE, "--print", "--out", "f"], lambda acc: {}, 2, "InvalidInputError"),
    ("bad key id", ["keys", "get", "not-an-id"], lambda acc: {}, 2, "InvalidInputError"),
    ("bad limit", [*CREATE[:-1], "lots", "--print"], lambda acc: {}, 2, "InvalidInputError"),
    ("revoke unconfirmed", ["keys", "revoke", UUID0], lambda acc: {}, 2, "InvalidInputError"),
    ("bad setting", ["keys", "list"], lambda acc: {"VENICE_CHAIN_ID": "abc"}, 2, "ConfigError"),
    ("no sVVV", ["mint", "--type", "INFERENCE", "--description", "x", "--print"],
     lambda acc: {"VENICE_WALLET_PRIVATE_KEY": "0x" + "42" * 32}, 3, "NotEligibleError"),
    ("key refused", ["keys", "list"], lambda acc: {"VENICE_ADMIN_KEY": "wrong"}, 4,
     "AuthenticationError"),
    ("permission refused", ["billing"], lambda acc: {"VENICE_ADMIN_KEY": acc.inference_key()}, 4,
     None),
    ("no admin key", ["keys", "list"], lambda acc: NO_KEY, 4, "MissingCredentialsError"),
    ("no wallet", ["mint", "--type", "INFERENCE", "--description", "x", "--print"],
     lambda acc: {"VENICE_WALLET_PRIVATE_KEY": ""}, 4, "MissingCredentialsError"),
    ("not found", ["keys", "get", UUID0], lambda acc: {}, 1, "KeyNotFoundError"),
    ("API unreachable", ["keys", "list"],
     lambda acc: {"VENICE_API_BASE_URL": "http://127.0.0.1:9/api/v1"}, 1, "APIConnectionError"),
    ("wrong chain", ["wallet", "status"], lambda acc: {"VENICE_CHAIN_ID": "1"}, 1,
     "WrongChainError"),
]


@pytest.mark.parametrize(("name", "argv", "extra", "code", "error_type"), EXIT_CODES,
                         ids=[row[0] for row in EXIT_CODES])
def test_exit_codes(name: str, argv: list[str], extra: EnvOverrides, code: int,
                    error_type: str | None, cli: CliRunner, account: SandboxAccount) -> None:
    env = {**account.env, **extra(account)}
    env = {k: v for k, v in env.items() if v}
    before = account.last_request()
    result = cli("--json", *argv, env=env)
    assert result.code == code, result
    if code == 0:
        assert "error" not in result.json()
        return
    err = result.error()
    if error_type is not None:
        assert err["type"] == error_type, err
    if code == 2:
        assert account.last_request() is before, "bad input must be refused before any request"
    human = cli(*argv, env=env)
    assert human.code == code and human.stdout == "", human  # messages go to stderr


@pytest.mark.parametrize(("command", "route"), [("keys create", "POST /api_keys"),
                                              ("mint", "POST /api_keys/generate_web3_key")])
def test_ambiguous_create_names_the_orphan_and_leaves_no_second_key(
        command: str, route: str, cli: CliRunner, account: SandboxAccount, tmp_path: Path) -> None:
    from venice_web3_keys.sandbox.emulator import Fault

    account.sandbox.emulator.faults.add(route, Fault.commit_then_fail())
    before = {k["id"] for k in cli("--json", "keys", "list", env=account.env).json()["data"]}
    result = cli("--json", *command.split(), "--type", "INFERENCE", "--description", "amb",
                 "--usd-limit", "1", "--out", "amb.key", env=account.env)
    assert result.code == 1, result
    err = result.error()
    after = {k["id"] for k in cli("--json", "keys", "list", env=account.env).json()["data"]}
    assert after == before  # the orphan was revoked: no usable key left behind
    (orphan,) = err["orphanIds"]
    assert orphan in err["message"] and "revoked" in err["message"]
    assert err["revokedIds"] == [orphan]
    assert not (tmp_path / "amb.key").exists()


def test_demo_and_sandbox_commands_in_json_mode(cli: CliRunner) -> None:
    demo = cli("--json", "demo")
    assert demo.code == 0, demo
    assert demo.json()
    sandbox = cli("--json", "sandbox")  # runs until stopped: no one object to print
    assert sandbox.code == 2 and sandbox.error()


