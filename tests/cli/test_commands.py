"""Every command through the real `venice-keys` entry point against the sandbox."""

from __future__ import annotations

import json
import re
import stat
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.cli.conftest import create_key, request_log
from tests.fakes import fake_key
from tests.harness import CLI_SCRIPT, CliRunner

UUID = "e28e82dc-9df2-4b47-b726-d0a222ef2ab5"
PUBLIC_KEY_FIELDS = {"id", "apiKeyType", "description", "last6", "fingerprint", "sink"}
ANSI = re.compile(r"\x1b\[")


def _wallet_env(sandbox: Any, private_key: Any) -> dict[str, str]:
    return dict(sandbox.env(private_key))


def test_wallet_status_json_shape(cli: CliRunner, venice_sandbox: Any, venice_wallet: Any) -> None:
    address, key = venice_wallet
    res = cli("--json", "wallet", "status", env=_wallet_env(venice_sandbox, key))
    assert res.code == 0, res.stderr
    data = res.json()
    assert data == {"address": address, "chainId": 8453,
                    "balances": {"ETH": "1", "VVV": "0", "sVVV": "100", "DIEM": "0"},
                    "eligible": True}


def test_wallet_status_of_other_address_human(cli: CliRunner, venice_sandbox: Any) -> None:
    address, _ = venice_sandbox.new_wallet(eth=2, vvv=5, svvv=0, diem=Decimal("1.5"))
    res = cli("wallet", "status", "--address", address.lower(), env=venice_sandbox.env())
    assert res.code == 0, res.stderr
    assert address in res.stdout
    assert "1.5" in res.stdout and "sVVV" in res.stdout
    assert "no sVVV on Base: stake VVV at 0x321b7ff75154472B18EDb199033fF4D116F340Ff" \
        in res.stdout
    assert not ANSI.search(res.stdout), "colour codes when stdout is not a terminal"


def test_wallet_new_then_status_from_keystore(cli: CliRunner, venice_sandbox: Any,
                                              tmp_path: Path) -> None:
    pw = tmp_path / "pw"
    pw.write_text("correct horse battery staple\n")
    ks = tmp_path / "wallet.json"
    res = cli("--json", "wallet", "new", "--keystore", str(ks), "--password-file", str(pw))
    assert res.code == 0, res.stderr
    data = res.json()
    assert set(data) == {"address", "keystore"} and data["keystore"] == str(ks)
    assert re.fullmatch(r"0x[0-9a-fA-F]{40}", data["address"])
    assert stat.S_IMODE(ks.stat().st_mode) == 0o600
    assert "correct horse" not in ks.read_text()

    again = cli("wallet", "new", "--keystore", str(ks), "--password-file", str(pw))
    assert again.code == 2 and "never overwritten" in again.stderr

    env = dict(venice_sandbox.env(), VENICE_WALLET_KEYSTORE=str(ks),
               VENICE_WALLET_PASSWORD_FILE=str(pw))
    status = cli("--json", "wallet", "status", env=env)
    assert status.code == 0, status.stderr
    assert status.json()["address"] == data["address"]
    assert status.json()["eligible"] is False


def test_wallet_new_without_password_off_a_tty_exits_4(cli: CliRunner, tmp_path: Path) -> None:
    """No password from any source is a missing credential (4), with the way to give one."""
    res = cli("wallet", "new", "--keystore", str(tmp_path / "k.json"), input="")
    assert res.code == 4
    assert "--password-file" in res.stderr
    assert not (tmp_path / "k.json").exists()


def test_mint_admin_key_then_manage_with_it(cli: CliRunner, venice_sandbox: Any, venice_wallet: Any,
                                            tmp_path: Path) -> None:
    out = tmp_path / "admin.key"
    res = cli("--json", "mint", "--type", "ADMIN", "--description", "cli admin",
              "--expires", "7d", "--out", str(out),
              env=_wallet_env(venice_sandbox, venice_wallet[1]))
    assert res.code == 0, res.stderr
    data = res.json()
    assert set(data) >= PUBLIC_KEY_FIELDS
    assert data["apiKeyType"] == "ADMIN"
    assert data["sink"] == {"kind": "file", "location": str(out)}
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    secret = out.read_text().strip()
    assert secret.endswith(data["last6"])
    assert secret not in res.stdout + res.stderr

    listed = cli("--json", "keys", "list", env=dict(venice_sandbox.env(),
                                                     VENICE_ADMIN_KEY=secret))
    assert listed.code == 0, listed.stderr
    assert [k["id"] for k in listed.json()["data"]] == [data["id"]]


def test_mint_without_svvv_exits_3_with_next_step(cli: CliRunner, venice_sandbox: Any,
                                                  tmp_path: Path) -> None:
    _, key = venice_sandbox.new_wallet(svvv=0)
    out = tmp_path / "k"
    res = cli("mint", "--type", "INFERENCE", "--description", "x", "--out", str(out),
              env=_wallet_env(venice_sandbox, key))
    assert res.code == 3, res.stderr
    assert "0x321b7ff75154472B18EDb199033fF4D116F340Ff" in res.stderr
    assert "wallet status" in res.stderr
    assert not out.exists(), "the prepared --out file must be removed when no key was made"


def test_keys_create_list_get_update_json(cli: CliRunner, admin_env: dict[str, str],
                                          tmp_path: Path) -> None:
    created = create_key(cli, admin_env, tmp_path / "k", "--usd-limit", "12.5",
                         "--diem-limit", "3", "--limit-period", "month", "--expires", "30d",
                         "--model-privacy", "PRIVATE_ONLY")
    assert set(created) >= PUBLIC_KEY_FIELDS
    assert created["consumptionLimits"] == {"usd": 12.5, "diem": 3}
    assert created["limitPeriod"] == "MONTH" and created["modelPrivacy"] == "PRIVATE_ONLY"
    assert re.fullmatch(r"[0-9a-f]{64}", created["fingerprint"])

    listed = cli("--json", "keys", "list", env=admin_env).json()
    assert set(listed) == {"data"}
    assert created["id"] in [k["id"] for k in listed["data"]]

    got = cli("--json", "keys", "get", created["id"], env=admin_env)
    assert got.code == 0, got.stderr
    key = got.json()
    assert key["id"] == created["id"] and key["last6Chars"] == created["last6"]
    assert key["consumptionLimits"]["usd"] == 12.5

    upd = cli("--json", "keys", "update", created["id"], "--usd-limit", "none",
              "--no-expiry", "--description", "renamed", env=admin_env)
    assert upd.code == 0, upd.stderr
    after = upd.json()
    assert after["description"] == "renamed"
    assert after["expiresAt"] in (None, "")
    assert after["consumptionLimits"]["usd"] is None
    assert after["consumptionLimits"]["diem"] == 3


def test_keys_list_and_get_human(cli: CliRunner, admin_env: dict[str, str], tmp_path: Path) -> None:
    created = create_key(cli, admin_env, tmp_path / "k", "--usd-limit", "25",
                         "--limit-period", "MONTH", "--expires", "30d")
    res = cli("keys", "list", env=admin_env)
    assert res.code == 0, res.stderr
    assert created["id"][:8] in res.stdout and created["id"] not in res.stdout
    assert f"…{created['last6']}" in res.stdout
    assert "$25 / MONTH" in res.stdout
    assert re.search(r"in (29|30)d", res.stdout)
    assert not ANSI.search(res.stdout)
    wide = cli("keys", "list", "--wide", env=admin_env)
    assert created["id"] in wide.stdout
    assert re.search(r"in (29|30)d \(\d{4}-\d\d-\d\d \d\d:\d\d UTC\)", wide.stdout)
    secret = (tmp_path / "k").read_text().strip()
    assert secret not in res.stdout

    detail = cli("keys", "get", created["id"], env=admin_env)
    assert detail.code == 0 and "usage" in detail.stdout and "model privacy" in detail.stdout


def test_rotate_then_revoke(cli: CliRunner, admin_env: dict[str, str], tmp_path: Path) -> None:
    old = create_key(cli, admin_env, tmp_path / "old")
    env_file = tmp_path / "app.env"
    env_file.write_text("OTHER=1\n")
    rot = cli("--json", "keys", "rotate", old["id"], "--env-out", f"{env_file}:APP_KEY",
              env=admin_env)
    assert rot.code == 0, rot.stderr
    data = rot.json()
    assert data["revokedKeyId"] == old["id"] and data["verified"] is True
    assert data["sink"] == {"kind": "env", "location": f"{env_file}:APP_KEY"}
    assert data["id"] != old["id"]
    lines = env_file.read_text().splitlines()
    assert lines[0] == "OTHER=1" and lines[1].startswith("APP_KEY='VENICE_INFERENCE_KEY_")
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600

    ids = [k["id"] for k in cli("--json", "keys", "list", env=admin_env).json()["data"]]
    assert old["id"] not in ids and data["id"] in ids

    rev = cli("--json", "keys", "revoke", data["id"], "--yes", env=admin_env)
    assert rev.code == 0, rev.stderr
    assert rev.json() == {"id": data["id"], "revoked": True, "alreadyRevoked": False}
    ids = [k["id"] for k in cli("--json", "keys", "list", env=admin_env).json()["data"]]
    assert data["id"] not in ids

    gone = cli("--json", "keys", "get", data["id"], env=admin_env)
    assert gone.code == 1
    assert "keys list" in gone.json()["error"]["hint"]


def test_limits_log_and_billing(cli: CliRunner, admin_env: dict[str, str]) -> None:
    lim = cli("--json", "limits", env=admin_env)
    assert lim.code == 0, lim.stderr
    assert {"accessPermitted", "balances", "rateLimits"} <= set(lim.json())
    log = cli("--json", "limits", "log", env=admin_env)
    assert log.code == 0 and isinstance(log.json()["data"], list)
    bill = cli("--json", "billing", env=admin_env)
    assert bill.code == 0 and "balances" in bill.json()
    for args in (["limits"], ["limits", "log"], ["billing"]):
        human = cli(*args, env=admin_env)
        assert human.code == 0 and human.stdout.strip(), (args, human.stderr)


def test_limits_of_an_inference_key(cli: CliRunner, admin_env: dict[str, str],
                                    tmp_path: Path) -> None:
    create_key(cli, admin_env, tmp_path / "inf", "--usd-limit", "5")
    env = dict(admin_env, VENICE_API_KEY=(tmp_path / "inf").read_text().strip())
    del env["VENICE_ADMIN_KEY"]
    res = cli("--json", "limits", env=env)
    assert res.code == 0, res.stderr
    assert "accessPermitted" in res.json()


def test_refused_key_exits_4(cli: CliRunner, venice_sandbox: Any) -> None:
    env = dict(venice_sandbox.env(), VENICE_ADMIN_KEY=fake_key("ADMIN", "notarealkey"))
    res = cli("--json", "keys", "list", env=env)
    assert res.code == 4
    err = res.json()["error"]
    assert err["type"] == "AuthenticationError"
    assert err["message"] in res.stderr
    assert "notarealkey" not in res.stdout + res.stderr


def test_inference_key_on_admin_route_exits_4(cli: CliRunner, admin_env: dict[str, str],
                                              tmp_path: Path) -> None:
    create_key(cli, admin_env, tmp_path / "inf")
    env = dict(admin_env, VENICE_ADMIN_KEY=(tmp_path / "inf").read_text().strip())
    res = cli("billing", env=env)
    assert res.code == 4, res.stderr
    assert "ADMIN" in res.stderr


def test_missing_admin_key_exits_4_and_says_how(cli: CliRunner, venice_sandbox: Any) -> None:
    """No credential to send is an authentication failure (4), found before any request."""
    before = request_log(venice_sandbox)
    res = cli("keys", "list", env=venice_sandbox.env())
    assert res.code == 4, res.stderr
    assert "VENICE_ADMIN_KEY" in res.stderr and "mint --type ADMIN" in res.stderr
    for args in (["billing"], ["limits"], ["limits", "log"], ["keys", "revoke", UUID, "--yes"]):
        res = cli("--json", *args, env=venice_sandbox.env())
        assert res.code == 4, (args, res.stderr)
        assert res.json()["error"]["type"] == "MissingCredentialsError"
    assert request_log(venice_sandbox) == before


def test_mint_without_a_wallet_exits_4(cli: CliRunner, venice_sandbox: Any, tmp_path: Path) -> None:
    before = request_log(venice_sandbox)
    res = cli("--json", "mint", "--type", "INFERENCE", "--description", "x", "--out",
              str(tmp_path / "k"), env=venice_sandbox.env())
    assert res.code == 4, res.stderr
    assert "VENICE_WALLET_KEYSTORE" in res.json()["error"]["message"]
    assert request_log(venice_sandbox) == before
    assert not (tmp_path / "k").exists()


def test_billing_and_limits_read_as_plain_words(cli: CliRunner, admin_env: dict[str, str]) -> None:
    bill = cli("billing", env=admin_env)
    assert bill.code == 0, bill.stderr
    for label in ("Account balance", "can consume", "USD", "DIEM per epoch"):
        assert label in bill.stdout, label
    assert "bundledCredits" not in bill.stdout and "0.0 " not in bill.stdout
    lim = cli("limits", env=admin_env)
    assert lim.code == 0, lim.stderr
    assert re.search(r"balances\s+│ USD \d", lim.stdout), lim.stdout
    assert "USD: " not in lim.stdout
    for line in (bill.stdout + lim.stdout).splitlines():
        assert line == line.rstrip(), f"trailing spaces in {line!r}"


def test_env_file_and_global_overrides(cli: CliRunner, venice_sandbox: Any,
                                       admin_env: dict[str, str], tmp_path: Path) -> None:
    env_file = tmp_path / "prod.env"
    env_file.write_text("VENICE_API_BASE_URL=http://127.0.0.1:9/api/v1\n"
                        f"VENICE_ADMIN_KEY={admin_env['VENICE_ADMIN_KEY']}\n")
    # The file alone points at a dead port: exit 1 with a connection hint.
    dead = cli("--env-file", str(env_file), "keys", "list")
    assert dead.code == 1 and "VENICE_API_BASE_URL" in dead.stderr
    # --api-base wins over the file.
    ok = cli("--env-file", str(env_file), "--api-base", venice_sandbox.api_base_url, "--json",
             "keys", "list")
    assert ok.code == 0, ok.stderr
    # ./.env in the working directory is read by default.
    (tmp_path / ".env").write_text(f"VENICE_API_BASE_URL={venice_sandbox.api_base_url}\n"
                                   f"VENICE_ADMIN_KEY={admin_env['VENICE_ADMIN_KEY']}\n")
    assert cli("--json", "keys", "list").code == 0


def test_rpc_url_override(cli: CliRunner, venice_sandbox: Any, venice_wallet: Any) -> None:
    address = venice_wallet[0]
    res = cli("--rpc-url", f"http://127.0.0.1:9,{venice_sandbox.rpc_url}", "--json",
              "wallet", "status", "--address", address)
    assert res.code == 0, res.stderr
    assert res.json()["balances"]["sVVV"] == "100"


def test_ambiguous_create_names_the_orphan(cli: CliRunner, venice_sandbox: Any,
                                           admin_env: dict[str, str], tmp_path: Path) -> None:
    from venice_web3_keys.sandbox.emulator import Fault

    venice_sandbox.emulator.faults.add("POST /api_keys", Fault(status=500, commit=True))
    before = len(request_log(venice_sandbox))
    out = tmp_path / "k"
    res = cli("--json", "keys", "create", "--type", "INFERENCE", "--description", "amb",
              "--out", str(out), env=admin_env)
    listed = cli("--json", "keys", "list", env=admin_env).json()["data"]
    posts = [r for r in request_log(venice_sandbox)[before:]
             if r.method == "POST" and r.path.endswith("/api_keys")]
    assert len(posts) == 1, "a key-creating POST was retried"
    assert res.code == 1, res.stderr
    err = res.json()["error"]
    assert err["type"] == "AmbiguousCreateError"
    assert err["orphanIds"] and err["orphanIds"] == err["revokedIds"]
    for orphan in err["orphanIds"]:
        assert orphan in err["message"] and orphan in res.stderr
        assert orphan not in [k["id"] for k in listed]
    assert "revoked" in err["message"]
    assert not out.exists(), "the empty --out file is removed when no key was delivered"


def _revoke_on_tty(key_id: str, answer: bytes, env: dict[str, str], cwd: Path) -> int:
    """Run `keys revoke ID` with stdin/stderr on a pseudo-terminal and answer its question."""
    import os
    import pty
    import subprocess

    from tests.harness import clean_env

    master, slave = pty.openpty()
    proc = subprocess.Popen([str(CLI_SCRIPT), "keys", "revoke", key_id], stdin=slave,
                            stdout=subprocess.PIPE, stderr=slave, env=clean_env(env), cwd=cwd)
    os.close(slave)
    buf = b""
    try:
        while b"[y/N]" not in buf:
            buf += os.read(master, 1024)
        os.write(master, answer + b"\n")
        return proc.wait(timeout=30)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()


def test_revoke_asks_on_a_tty(admin_env: dict[str, str], cli: CliRunner, tmp_path: Path) -> None:
    key = create_key(cli, admin_env, tmp_path / "k")
    assert _revoke_on_tty(key["id"], b"n", admin_env, tmp_path) == 1
    ids = [k["id"] for k in cli("--json", "keys", "list", env=admin_env).json()["data"]]
    assert key["id"] in ids, "answering no must keep the key"
    assert _revoke_on_tty(key["id"], b"y", admin_env, tmp_path) == 0
    ids = [k["id"] for k in cli("--json", "keys", "list", env=admin_env).json()["data"]]
    assert key["id"] not in ids


def test_json_mode_prints_exactly_one_object(cli: CliRunner, admin_env: dict[str, str],
                                             tmp_path: Path) -> None:
    res = cli("--json", "keys", "create", "--type", "INFERENCE", "--description", "one",
              "--print", env=admin_env)
    assert res.code == 0, res.stderr
    json.loads(res.stdout)  # the whole stdout is one JSON document
    assert res.stdout.count("\n{") == 0


def test_json_flag_after_the_command(cli: CliRunner, admin_env: dict[str, str]) -> None:
    res = cli("keys", "list", "--json", env=admin_env)
    assert res.code == 0, res.stderr
    assert isinstance(res.json()["data"], list)
    bad = cli("keys", "get", "nope", "--json", env=admin_env)
    assert bad.code == 2 and bad.json()["error"]["type"] == "InvalidInputError"
