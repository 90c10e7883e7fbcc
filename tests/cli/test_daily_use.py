"""What a new user hits first (issue 13): pipes, expiry input, defaults, narrow terminals, id
prefixes, revoking, keystores and a sandbox wallet funded from the CLI; all through the real
console script against the sandbox."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import create_key, request_log
from tests.cli.test_prompts import run_on_tty
from tests.harness import CliRunner, clean_env

CREATE = ["keys", "create", "--type", "INFERENCE", "--description"]


@pytest.fixture
def admin(venice_sandbox: Any) -> tuple[str, dict[str, str]]:
    """(the ADMIN key's id, settings authenticated with that key) on a fresh account."""
    key_id, key = venice_sandbox.emulator.create_account_with_admin_key()
    return key_id, dict(venice_sandbox.env(), VENICE_ADMIN_KEY=key.reveal())


def _ids(cli: CliRunner, env: dict[str, str]) -> list[str]:
    return [k["id"] for k in cli("--json", "keys", "list", env=env).json()["data"]]


# ---- --print in a pipe ---------------------------------------------------------------------


def test_print_in_a_pipe_is_the_secret_alone(cli: CliRunner, admin_env: dict[str, str]) -> None:
    """KEY=$(venice-keys keys create ... --print) captures exactly the secret."""
    res = cli(*CREATE, "piped", "--print", env=admin_env)
    assert res.code == 0, res.stderr
    assert res.stdout.count("\n") == 1 and res.stdout.startswith("VENICE_INFERENCE_KEY_")
    secret = res.stdout.strip()
    assert "Created INFERENCE key" in res.stderr and "piped" in res.stderr
    assert secret not in res.stderr and secret[-6:] in res.stderr  # the summary names it by last6

    as_json = cli("--json", *CREATE, "piped json", "--print", env=admin_env)
    data = json.loads(as_json.stdout)  # still exactly one JSON object on stdout
    assert data["apiKey"].startswith("VENICE_INFERENCE_KEY_") and data["apiKey"] not in \
        as_json.stderr


# ---- expiry, defaults -----------------------------------------------------------------------


@pytest.mark.parametrize("when", ["1m", "30min", "90 minutes"])
def test_minutes_are_invalid_input_with_a_hint(cli: CliRunner, venice_sandbox: Any,
                                               admin_env: dict[str, str], when: str) -> None:
    before = request_log(venice_sandbox)
    res = cli(*CREATE, "m", "--expires", when, "--print", env=admin_env)
    assert res.code == 2, res.stderr
    assert "--expires" in res.stderr and "minutes are not a key lifetime" in res.stderr
    assert "30d" in res.stderr and "date" in res.stderr
    assert request_log(venice_sandbox) == before


def test_a_lifetime_under_an_hour_is_refused(cli: CliRunner, admin_env: dict[str, str]) -> None:
    soon = (datetime.now(UTC) + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    res = cli("--json", *CREATE, "soon", "--expires", soon, "--print", env=admin_env)
    assert res.code == 2
    assert "at least an hour" in res.json()["error"]["message"]


def test_defaults_are_stated_in_help(cli: CliRunner) -> None:
    text = " ".join(cli("keys", "create", "--help").stdout.split())
    assert "Omitted: Venice applies EPOCH" in text and "a cap is per day" in text
    assert "Omitted: it never expires" in text and "Omitted: no USD cap" in text


def test_new_key_output_states_period_and_expiry(cli: CliRunner, admin_env: dict[str, str],
                                                 tmp_path: Path) -> None:
    plain = cli(*CREATE, "defaults", "--out", str(tmp_path / "a.key"), env=admin_env)
    assert plain.code == 0, plain.stderr
    assert "expires: never" in plain.stdout
    assert "period:  EPOCH (caps reset every day at 00:00 UTC)" in plain.stdout
    capped = cli(*CREATE, "capped", "--usd-limit", "5", "--limit-period", "MONTH",
                 "--expires", "30d", "--out", str(tmp_path / "b.key"), env=admin_env)
    assert "period:  MONTH (caps reset at 00:00 UTC on the 1st" in capped.stdout
    assert "expires: in 30d (" in capped.stdout


# ---- narrow terminals and id prefixes -----------------------------------------------------------


@pytest.mark.timeout(240)  # several runs of the console script
def test_keys_list_fits_80_columns(cli: CliRunner, admin_env: dict[str, str],
                                   tmp_path: Path) -> None:
    made = [create_key(cli, admin_env, tmp_path / f"k{i}", "--usd-limit", "25", "--diem-limit",
                       "5", "--limit-period", "MONTH", "--expires", "30d") for i in range(2)]
    cli("keys", "update", made[0]["id"], "--description",
        "customer acme production backend eu-west", env=admin_env)
    narrow = cli("keys", "list", env={**admin_env, "COLUMNS": "80"})
    assert narrow.code == 0, narrow.stderr
    lines = narrow.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, narrow.stdout
    for key in made:
        assert key["id"][:8] in narrow.stdout and key["id"] not in narrow.stdout
        assert f"…{key['last6']}" in narrow.stdout
    assert "$25 + 5 DIEM / MONTH" in narrow.stdout.replace("\n", " ") or \
        "$25 + 5 DIEM" in narrow.stdout
    assert "customer acme" in narrow.stdout, "words are wrapped whole, never letter by letter"
    wide = cli("keys", "list", "--wide", env={**admin_env, "COLUMNS": "200"})
    assert all(key["id"] in wide.stdout for key in made)


@pytest.mark.timeout(240)  # several runs of the console script
def test_any_id_argument_takes_a_unique_prefix(cli: CliRunner, admin_env: dict[str, str],
                                               tmp_path: Path) -> None:
    key = create_key(cli, admin_env, tmp_path / "k")
    prefix = key["id"][:8]
    got = cli("--json", "keys", "get", prefix, env=admin_env)
    assert got.code == 0 and got.json()["id"] == key["id"]
    upd = cli("--json", "keys", "update", key["id"][:13].upper(), "--usd-limit", "3",
              env=admin_env)
    assert upd.code == 0 and upd.json()["consumptionLimits"]["usd"] == 3
    rot = cli("--json", "keys", "rotate", prefix, "--out", str(tmp_path / "r"), env=admin_env)
    assert rot.code == 0 and rot.json()["revokedKeyId"] == key["id"]
    rev = cli("--json", "keys", "revoke", rot.json()["id"][:8], "--yes", env=admin_env)
    assert rev.code == 0 and rev.json()["id"] == rot.json()["id"]
    assert rot.json()["id"] not in _ids(cli, admin_env)
    short = cli("--json", "keys", "get", prefix[:7], env=admin_env)
    assert short.code == 2 and "at least its first 8 characters" in short.json()["error"]["message"]
    unknown = cli("--json", "keys", "get", "00000000", env=admin_env)
    assert unknown.code == 1 and unknown.json()["error"]["type"] == "KeyNotFoundError"


def test_an_ambiguous_prefix_exits_2_listing_the_keys(cli: CliRunner, venice_sandbox: Any,
                                                      admin_env: dict[str, str],
                                                      tmp_path: Path) -> None:
    keys = [create_key(cli, admin_env, tmp_path / f"k{i}") for i in range(2)]
    # Give the second key an id sharing the first one's 8-character prefix (as Venice could).
    state = venice_sandbox.emulator
    twin = keys[0]["id"][:8] + keys[1]["id"][8:]
    with state.lock:
        stored = state.keys.pop(keys[1]["id"])
        stored.id = twin
        state.keys[twin] = stored
    before = len(request_log(venice_sandbox))
    res = cli("--json", "keys", "revoke", keys[0]["id"][:8], "--yes", env=admin_env)
    assert res.code == 2, res.stdout
    error = res.json()["error"]
    assert error["type"] == "AmbiguousKeyIdError"
    assert sorted(error["matches"]) == sorted([keys[0]["id"], twin])
    assert keys[0]["id"] in res.stderr and twin in res.stderr
    sent = [r for r in request_log(venice_sandbox)[before:] if r.method != "GET"]
    assert sent == [], "nothing was revoked"


# ---- revoking ---------------------------------------------------------------------------------


def test_revoking_an_already_revoked_key_is_idempotent(cli: CliRunner, admin_env: dict[str, str],
                                                       tmp_path: Path) -> None:
    key = create_key(cli, admin_env, tmp_path / "k")
    first = cli("--json", "keys", "revoke", key["id"], "--yes", env=admin_env)
    assert first.json() == {"id": key["id"], "revoked": True, "alreadyRevoked": False}
    again = cli("--json", "keys", "revoke", key["id"], "--yes", env=admin_env)
    assert again.code == 0, again.stderr
    assert again.json() == {"id": key["id"], "revoked": True, "alreadyRevoked": True}
    human = cli("keys", "revoke", key["id"], "--yes", env=admin_env)
    assert human.code == 0 and "already revoked" in human.stdout


def test_revoke_prompt_describes_the_key(admin_env: dict[str, str], cli: CliRunner,
                                         tmp_path: Path) -> None:
    key = create_key(cli, admin_env, tmp_path / "k")
    cli("keys", "update", key["id"], "--description", "billing worker", env=admin_env)
    code, screen = run_on_tty(["keys", "revoke", key["id"][:8]], clean_env(admin_env), tmp_path,
                              [("[y/N]", "n")])
    assert code == 1
    question = screen.split("Revoke", 1)[1]
    for part in ("INFERENCE", key["id"], '"billing worker"', f"…{key['last6']}"):
        assert part in question, (part, screen)
    assert "WARNING" not in screen, "not the key this command authenticates with"


@pytest.mark.timeout(240)  # several runs of the console script
def test_revoking_the_calling_key_warns_loudly(cli: CliRunner, admin: tuple[str, dict[str, str]],
                                               tmp_path: Path) -> None:
    key_id, env = admin
    other = create_key(cli, env, tmp_path / "other")
    quiet = cli("keys", "revoke", other["id"], "--yes", env=env)
    assert quiet.code == 0 and "WARNING" not in quiet.stderr
    rotated = cli("keys", "rotate", key_id, "--out", str(tmp_path / "new-admin.key"), env=env)
    assert rotated.code == 0, rotated.stderr
    assert "WARNING" in rotated.stderr and "authenticates with" in rotated.stderr
    assert str(tmp_path / "new-admin.key") in rotated.stderr  # where the key to switch to is
    env = dict(env, VENICE_ADMIN_KEY=(tmp_path / "new-admin.key").read_text().strip())
    new_id = next(k for k in _ids(cli, env) if k != key_id)
    res = cli("keys", "revoke", new_id, "--yes", env=env)
    assert res.code == 0, res.stderr
    assert "WARNING" in res.stderr and "locks you out" in res.stderr


# ---- keystores ----------------------------------------------------------------------------------


def _keystore(cli: CliRunner, tmp_path: Path,
              password: str = "right horse") -> tuple[str, Path, Path]:
    pw = tmp_path / "pw"
    pw.write_text(password + "\n")
    pw.chmod(0o600)
    ks = tmp_path / "wallet.json"
    made = cli("--json", "wallet", "new", "--keystore", str(ks), "--password-file", str(pw))
    assert made.code == 0, made.stderr
    return made.json()["address"], ks, pw


def test_wrong_keystore_password_exits_4_with_a_hint(cli: CliRunner, venice_sandbox: Any,
                                                      tmp_path: Path) -> None:
    _, ks, _ = _keystore(cli, tmp_path)
    wrong = tmp_path / "wrong"
    wrong.write_text("wrong horse\n")
    wrong.chmod(0o600)
    env = dict(venice_sandbox.env(), VENICE_WALLET_KEYSTORE=str(ks),
               VENICE_WALLET_PASSWORD_FILE=str(wrong))
    before = request_log(venice_sandbox)
    res = cli("--json", "mint", "--type", "INFERENCE", "--description", "x", "--out",
              str(tmp_path / "k"), env=env)
    assert res.code == 4, res.stderr
    error = res.json()["error"]
    assert error["type"] == "KeystorePasswordError" and "wrong password" in error["message"]
    assert "VENICE_WALLET_PASSWORD_FILE" in error["hint"] and "configure a wallet" not in \
        error["hint"]
    assert request_log(venice_sandbox) == before
    assert not (tmp_path / "k").exists()


def test_a_password_file_others_can_read_gets_a_warning(cli: CliRunner, venice_sandbox: Any,
                                                        tmp_path: Path) -> None:
    _, ks, pw = _keystore(cli, tmp_path)
    env = dict(venice_sandbox.env(), VENICE_WALLET_KEYSTORE=str(ks),
               VENICE_WALLET_PASSWORD_FILE=str(pw))
    private = cli("wallet", "status", env=env)
    assert private.code == 0 and "warning" not in private.stderr
    pw.chmod(0o644)
    shared = cli("wallet", "status", env=env)
    assert shared.code == 0, shared.stderr
    assert "warning:" in shared.stderr and "chmod 600" in shared.stderr and str(pw) in \
        shared.stderr


def test_wallet_import_from_stdin(cli: CliRunner, venice_sandbox: Any, tmp_path: Path) -> None:
    from venice_web3_keys.secret import SecretValue
    from venice_web3_keys.signer import KeystoreSigner

    address, key = venice_sandbox.new_wallet(svvv=1)
    pw = tmp_path / "pw"
    pw.write_text("import me\n")
    pw.chmod(0o600)
    ks = tmp_path / "imported.json"
    res = cli("--json", "wallet", "import", "--keystore", str(ks), "--password-file", str(pw),
              input=key.reveal() + "\n")
    assert res.code == 0, res.stderr
    assert res.json() == {"address": address, "keystore": str(ks)}
    assert stat.S_IMODE(ks.stat().st_mode) == 0o600
    for text in (res.stdout, res.stderr, ks.read_text()):
        assert key.reveal().removeprefix("0x") not in text
    assert KeystoreSigner.from_file(ks, SecretValue("import me")).address == address

    again = cli("wallet", "import", "--keystore", str(ks), "--password-file", str(pw),
                input=key.reveal() + "\n")
    assert again.code == 2 and "never overwritten" in again.stderr
    bad = cli("wallet", "import", "--keystore", str(tmp_path / "bad.json"), "--password-file",
              str(pw), input="0xnot-a-key\n")
    assert bad.code == 2 and "not 64 hex digits" in bad.stderr and "not-a-key" not in bad.stderr
    assert not (tmp_path / "bad.json").exists()


def test_wallet_import_prompts_hidden_on_a_terminal(venice_sandbox: Any, tmp_path: Path) -> None:
    address, key = venice_sandbox.new_wallet(svvv=1)
    ks = tmp_path / "typed.json"
    code, screen = run_on_tty(
        ["--json", "wallet", "import", "--keystore", str(ks)], clean_env(), tmp_path,
        [("Private key", key.reveal()), ("New keystore password", "typed pw"),
         ("Repeat for confirmation", "typed pw")])
    assert code == 0, screen
    assert key.reveal().removeprefix("0x") not in screen and "typed pw" not in screen
    assert address in screen


# ---- the sandbox from the CLI -----------------------------------------------------------------


@pytest.mark.timeout(240)  # several runs of the console script
def test_sandbox_fund_then_mint_with_a_keystore(cli: CliRunner, venice_sandbox: Any,
                                                tmp_path: Path) -> None:
    """A keystore wallet tried end to end: new, funded on the running sandbox, minting."""
    address, ks, pw = _keystore(cli, tmp_path)
    env = dict(venice_sandbox.env(), VENICE_WALLET_KEYSTORE=str(ks),
               VENICE_WALLET_PASSWORD_FILE=str(pw))
    funded = cli("--json", "sandbox", "fund", address, "--eth", "1", "--svvv", "2.5",
                 "--diem", "3", env=env)
    assert funded.code == 0, funded.stderr
    assert funded.json()["balances"] == {"ETH": "1", "VVV": "0", "sVVV": "2.5", "DIEM": "3"}
    assert venice_sandbox.chain.balance_of("sVVV", address) == 25 * 10**17
    minted = cli("--json", "mint", "--type", "INFERENCE", "--description", "from keystore",
                 "--out", str(tmp_path / "minted.key"), env=env)
    assert minted.code == 0, minted.stderr
    human = cli("sandbox", "fund", address.lower(), "--vvv", "7", env=env)
    assert human.code == 0 and "VVV 7" in human.stdout and address in human.stdout


def test_sandbox_fund_refuses_what_is_not_a_local_sandbox(cli: CliRunner, venice_sandbox: Any,
                                                          tmp_path: Path) -> None:
    address = "0x" + "11" * 20
    nothing = cli("sandbox", "fund", address, env=venice_sandbox.env())
    assert nothing.code == 2 and "--eth, --vvv, --svvv or --diem" in nothing.stderr
    remote = cli("sandbox", "fund", address, "--eth", "1",
                 env=dict(venice_sandbox.env(), BASE_RPC_URL="https://mainnet.base.org"))
    assert remote.code == 2 and "loopback" in remote.stderr
    # the emulator is loopback HTTP, but no sandbox chain
    api = venice_sandbox.api_base_url
    wrong = cli("--rpc-url", api, "sandbox", "fund", address, "--eth", "1",
                env=venice_sandbox.env())
    assert wrong.code == 1 and "is `venice-keys sandbox` running?" in wrong.stderr
    bad = cli("sandbox", "fund", address, "--svvv", "-1", env=venice_sandbox.env())
    assert bad.code == 2 and "--svvv" in bad.stderr


# ---- messages ---------------------------------------------------------------------------------


def test_input_errors_name_the_flag_and_choices_read_as_typed(cli: CliRunner,
                                                              admin_env: dict[str, str]) -> None:
    limit = cli("--json", *CREATE, "x", "--usd-limit", "-1", "--print", env=admin_env)
    assert limit.json()["error"]["message"].startswith("--usd-limit must be")
    assert limit.json()["error"]["field"] == "usd_limit"
    when = cli(*CREATE, "x", "--expires", "soonish", "--print", env=admin_env)
    assert "error: --expires: invalid expiry" in when.stderr
    choice = cli(*CREATE[:3], "inferencee", "--description", "x", "--print", env=admin_env)
    assert choice.code == 2
    assert "'inferencee' is not one of 'INFERENCE', 'ADMIN'" in choice.stderr


def test_an_unreadable_success_body_reads_as_such(cli: CliRunner, venice_sandbox: Any,
                                                  admin_env: dict[str, str],
                                                  tmp_path: Path) -> None:
    from venice_web3_keys.sandbox.emulator import Fault

    venice_sandbox.emulator.faults.add("POST /api_keys", Fault(malformed=True, commit=True))
    res = cli(*CREATE, "garbled", "--out", str(tmp_path / "k"), env=admin_env)
    assert res.code == 1
    assert "an unreadable response" in res.stderr
    assert "InternalServerError 200" not in res.stderr
    assert "an ambiguous creating" not in res.stderr  # the warning reads as a sentence
    assert "revoked" in res.stderr


def test_top_level_help_lists_every_exit_code(cli: CliRunner) -> None:
    text = " ".join(cli("--help").stdout.split())
    for code in ("0 ok", "2 invalid input", "3 the wallet cannot mint", "4 a credential",
                 "130 interrupted", "1 any other failure"):
        assert code in text, code


@pytest.mark.timeout(240)  # several runs of the console script
def test_demo_prints_exactly_what_it_ran(cli: CliRunner) -> None:
    """Every printed command parses with the real CLI, with the values the step used."""
    import shlex

    import click

    from venice_web3_keys.cli.app import cli as group

    res = cli("--json", "demo")
    assert res.code == 0, res.stderr
    steps = res.json()["steps"]
    for step in steps:
        if "command" not in step:
            continue
        argv = shlex.split(step["command"])
        assert argv[0] == "venice-keys"
        command: click.Command = group
        words = argv[1:]
        # the demo uses no group-level options: words name sub-commands until a leaf
        while isinstance(command, click.Group) and words and words[0] in command.commands:
            command = command.commands[words.pop(0)]
        ctx = command.make_context(str(command.name), words)  # raises on a bad option or value
        assert ctx.args == [], step["command"]
    create = next(s for s in steps if s["title"].startswith("Create a capped"))
    assert "--expires 30d" in create["command"]
    assert "--usd-limit 25 --diem-limit 5 --limit-period MONTH" in create["command"]
    expires = datetime.fromisoformat(create["key"]["expiresAt"].replace("Z", "+00:00"))
    assert abs(expires - (datetime.now(UTC) + timedelta(days=30))) < timedelta(minutes=5)
    assert create["key"]["consumptionLimits"] == {"usd": 25, "diem": 5}
    rotate = next(s for s in steps if s["title"].startswith("Rotate"))
    assert rotate["command"].endswith(f"keys rotate {create['key']['id']} --out acme-rotated.key")

