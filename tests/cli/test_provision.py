"""`venice-keys keys provision` through the real console script, against the sandbox."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import request_log
from tests.fakes import fake_key
from tests.harness import CLI_SCRIPT, CliRunner, clean_env, start_cli
from venice_web3_keys.sandbox.emulator.faults import Fault

PROVISION = ["keys", "provision", "--customers", "customers.txt", "--usd-limit", "2"]


def _customers(tmp_path: Path, *ids: str) -> None:
    (tmp_path / "customers.txt").write_text("".join(f"{c}\n" for c in ids))


def _posts(before: list[Any], after: list[Any]) -> int:
    return sum(1 for r in after[len(before):] if r.method == "POST")


def _keys_by_customer(sandbox: Any, admin_env: dict[str, str]) -> Counter[str]:
    from venice_web3_keys import VeniceKeys
    from venice_web3_keys.settings import load_settings

    with VeniceKeys(load_settings(environ=admin_env)) as vk:
        return Counter(k.description for k in vk.list_keys() if k.description.startswith("cust:"))


def test_provision_json_then_rerun_sends_no_post(cli: CliRunner, admin_env: dict[str, str],
                                                 venice_sandbox: Any, tmp_path: Path) -> None:
    (tmp_path / "customers.txt").write_text("# batch 1\nacme\n\nglobex\r\ninitech\nacme\n")
    res = cli("--json", *PROVISION, "--out-dir", "secrets", env=admin_env)
    assert res.code == 0, res.stderr
    data = res.json()["data"]
    assert [(d["customer"], d["status"]) for d in data] == [
        ("acme", "created"), ("globex", "created"), ("initech", "created")]
    secrets = tmp_path / "secrets"
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o700
    for item in data:
        path = secrets / f"{item['customer']}.key"
        assert set(item) == {"customer", "status", "id", "last6", "sink", "error"}
        assert item["sink"] == {"kind": "file", "location": str(Path("secrets") / path.name)}
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        secret = path.read_text().strip()
        assert secret.endswith(item["last6"]) and secret not in res.stdout + res.stderr
    assert "[3/3]" in res.stderr and "ETA" in res.stderr  # progress on stderr

    before = request_log(venice_sandbox)
    again = cli("--json", *PROVISION, "--out-dir", "secrets", env=admin_env)
    assert again.code == 0, again.stderr
    assert [(d["customer"], d["status"], d["id"]) for d in again.json()["data"]] == [
        (d["customer"], "exists", d["id"]) for d in data]
    assert _posts(before, request_log(venice_sandbox)) == 0
    assert _keys_by_customer(venice_sandbox, admin_env) == Counter(
        {"cust:acme": 1, "cust:globex": 1, "cust:initech": 1})


def test_provision_human_output_and_stdin(cli: CliRunner, admin_env: dict[str, str],
                                          tmp_path: Path) -> None:
    res = cli("keys", "provision", "--customers", "-", "--diem-limit", "1", "--limit-period",
              "lifetime", "--out-dir", "s", input="stdin1\nstdin2\n", env=admin_env)
    assert res.code == 0, res.stderr
    assert "Customer keys" in res.stdout and "2 created, 0 already had a key, 0 failed" in \
        res.stdout
    assert "file: s/stdin1.key" in res.stdout


@pytest.mark.parametrize(("lines", "argv", "needle"), [
    ("ok\nnot valid\n", [], "line 2"),
    ("ok\n" + "x" * 49 + "\n", [], "line 2"),
    ("# only a comment\n\n", [], "holds no customer ids"),
    ("ok\n", ["--usd-limit", "-1"], "--usd-limit"),
    ("ok\n", ["--no-cap"], "spend cap"),
    ("ok\n", ["--no-sink"], "exactly one of --out-dir DIR or --keyring SERVICE"),
    ("ok\n", ["--keyring", "svc"], "exactly one of --out-dir DIR or --keyring SERVICE"),
    ("ok\n", ["--expires", "yesterday"], "invalid expiry"),
])
def test_bad_input_exits_2_and_sends_nothing(cli: CliRunner, admin_env: dict[str, str],
                                             venice_sandbox: Any, tmp_path: Path, lines: str,
                                             argv: list[str], needle: str) -> None:
    (tmp_path / "customers.txt").write_text(lines)
    cap = [] if "--no-cap" in argv or "--usd-limit" in argv else ["--usd-limit", "1"]
    sink = [] if "--no-sink" in argv else ["--out-dir", "out"]
    extra = [a for a in argv if a not in ("--no-cap", "--no-sink")]
    before = request_log(venice_sandbox)
    res = cli("--json", "keys", "provision", "--customers", "customers.txt", *cap, *sink,
              *extra, env=admin_env)
    assert res.code == 2, (res.stdout, res.stderr)
    error = res.json()["error"]
    assert needle in error["message"], error
    assert request_log(venice_sandbox) == before
    if "--no-sink" in argv or "--keyring" in argv:
        assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_pasted_secret_in_the_file_is_refused_and_never_shown(
        cli: CliRunner, admin_env: dict[str, str], venice_sandbox: Any, tmp_path: Path) -> None:
    secret = fake_key("ADMIN", "in_file")
    (tmp_path / "customers.txt").write_text(f"acme\n{secret}\n{secret[:40]}\n")
    before = request_log(venice_sandbox)
    res = cli("--json", *PROVISION, "--out-dir", "out", env=admin_env)
    assert res.code == 2
    assert "line 2" in res.stdout and "line 3" in res.stdout
    assert secret[:20] not in res.stdout + res.stderr and secret[-6:] not in res.stderr
    assert request_log(venice_sandbox) == before


def test_a_shared_out_dir_is_refused(cli: CliRunner, admin_env: dict[str, str], venice_sandbox: Any,
                                     tmp_path: Path) -> None:
    _customers(tmp_path, "acme")
    (tmp_path / "open").mkdir(mode=0o755)
    os.chmod(tmp_path / "open", 0o755)
    before = request_log(venice_sandbox)
    res = cli("--json", *PROVISION, "--out-dir", "open", env=admin_env)
    assert res.code == 2 and "not private" in res.json()["error"]["message"]
    (tmp_path / "target").mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(tmp_path / "target")
    res = cli("--json", *PROVISION, "--out-dir", "link", env=admin_env)
    assert res.code == 2 and "not a directory" in res.json()["error"]["message"]
    assert request_log(venice_sandbox) == before


def test_an_existing_key_file_is_never_overwritten(cli: CliRunner, admin_env: dict[str, str],
                                                   venice_sandbox: Any, tmp_path: Path) -> None:
    _customers(tmp_path, "kept", "fresh")
    (tmp_path / "out").mkdir(mode=0o700)
    (tmp_path / "out" / "kept.key").write_text("do not touch\n")
    before = request_log(venice_sandbox)
    res = cli("--json", *PROVISION, "--out-dir", "out", env=admin_env)
    assert res.code == 1, res.stderr  # a customer failed
    statuses = {d["customer"]: (d["status"], d["error"]) for d in res.json()["data"]}
    assert statuses["fresh"] == ("created", None)
    assert statuses["kept"][0] == "failed" and "already exists" in statuses["kept"][1]
    assert (tmp_path / "out" / "kept.key").read_text() == "do not touch\n"
    assert _posts(before, request_log(venice_sandbox)) == 1


def test_ctrl_c_finishes_the_create_in_flight_prints_it_and_exits_130(
        admin_env: dict[str, str], venice_sandbox: Any, tmp_path: Path) -> None:
    _customers(tmp_path, "c1", "c2", "c3")
    venice_sandbox.emulator.faults.add("POST /api_keys", Fault.slow(0))
    venice_sandbox.emulator.faults.add("POST /api_keys", Fault.slow(2.0))  # c2's create
    before = request_log(venice_sandbox)
    proc = start_cli("--json", *PROVISION, "--out-dir", "out", env=admin_env, cwd=tmp_path)
    try:
        assert proc.stderr is not None
        lines = [proc.stderr.readline(), proc.stderr.readline()]  # the plan, then [1/3]
        assert lines[1].startswith("[1/3] c1: created"), lines
        time.sleep(0.7)  # c2's POST is in flight
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    body = json.loads(out)  # still exactly one JSON object
    assert [(d["customer"], d["status"]) for d in body["data"]] == [("c1", "created"),
                                                                    ("c2", "created")]
    assert body["error"]["type"] == "Interrupted" and "again" in body["error"]["hint"]
    assert (tmp_path / "out" / "c2.key").read_text().strip().endswith(body["data"][1]["last6"])
    assert not (tmp_path / "out" / "c3.key").exists()
    assert _posts(before, request_log(venice_sandbox)) == 2

    rerun = subprocess.run([str(CLI_SCRIPT), "--json", *PROVISION, "--out-dir", "out"],
                           env=clean_env(admin_env), cwd=tmp_path, capture_output=True,
                           text=True, timeout=60)
    assert rerun.returncode == 0, rerun.stderr
    assert [d["status"] for d in json.loads(rerun.stdout)["data"]] == ["exists", "exists",
                                                                       "created"]
    assert _keys_by_customer(venice_sandbox, admin_env) == Counter(
        {"cust:c1": 1, "cust:c2": 1, "cust:c3": 1})


def test_keyring_sink_stores_one_entry_per_customer(
        admin_env: dict[str, str], memory_keyring: Any, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import logging

    from venice_web3_keys.cli.app import main

    # main() sets up the package logger for a CLI run: put it back for the tests after this one.
    logger = logging.getLogger("venice_web3_keys")
    monkeypatch.setattr(logger, "handlers", list(logger.handlers))
    monkeypatch.setattr(logger, "level", logger.level)
    _customers(tmp_path, "k1", "k2")
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("VENICE_", "BASE_RPC")):
            monkeypatch.delenv(name)
    for name, value in admin_env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exited:
        main(["--json", *PROVISION, "--keyring", "venice-customers"])
    out = capsys.readouterr().out
    assert exited.value.code == 0, out
    data = json.loads(out)["data"]
    assert [d["sink"]["kind"] for d in data] == ["keyring", "keyring"]
    stored = {user: value for (service, user), value in memory_keyring.store.items()
              if service == "venice-customers"}
    assert set(stored) == {"k1", "k2"}
    assert all(value.endswith(d["last6"]) for d, value in zip(data, stored.values(),
                                                              strict=True))
    assert not any(value in out for value in stored.values())


def test_an_unreachable_shared_budget_stops_the_run_and_shows_what_was_done(
        cli: CliRunner, admin_env: dict[str, str], venice_sandbox: Any, tmp_path: Path) -> None:
    import socket

    _customers(tmp_path, "there")
    assert cli("--json", *PROVISION, "--out-dir", "out", env=admin_env).code == 0
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"redis://:hunter2@127.0.0.1:{sock.getsockname()[1]}/0"
    _customers(tmp_path, "there", "new")
    before = request_log(venice_sandbox)
    res = cli("--json", *PROVISION, "--out-dir", "out",
              env={**admin_env, "VENICE_BUDGET_URL": dead, "VENICE_TIMEOUT": "2"})
    assert res.code == 1, res.stderr
    body = res.json()
    assert [(d["customer"], d["status"]) for d in body["data"]] == [("there", "exists")]
    assert body["error"]["type"] == "BudgetError" and "nothing was sent" in \
        body["error"]["message"]
    assert "hunter2" not in res.stdout + res.stderr
    assert _posts(before, request_log(venice_sandbox)) == 0
    assert not (tmp_path / "out" / "new.key").exists()
