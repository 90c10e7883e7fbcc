"""Ctrl-C and bare commands: `--json` still prints exactly one object; the exit code says why."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import create_key
from tests.fakes import fake_key
from tests.harness import CliRunner, start_cli


@pytest.fixture
def silent_api() -> Iterator[socket.socket]:
    """A loopback port that accepts connections and never answers (a hung API)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(30)
    try:
        yield sock
    finally:
        sock.close()


def _interrupt_mid_request(sock: socket.socket, args: list[str], cwd: Path) -> tuple[int, str,
                                                                                     str]:
    """Run the CLI against `sock`, send SIGINT once its request has arrived, return the result."""
    port = sock.getsockname()[1]
    env = {"VENICE_API_BASE_URL": f"http://127.0.0.1:{port}/api/v1",
           "VENICE_ADMIN_KEY": fake_key("ADMIN", "canary_interrupt")}

    held: list[socket.socket] = []

    def in_flight() -> None:
        held.append(sock.accept()[0])  # the request is in flight now; keep it unanswered

    try:
        return _ctrl_c(args, env, cwd, in_flight)
    finally:
        for conn in held:
            conn.close()


def _ctrl_c(args: list[str], env: dict[str, str], cwd: Path,
            wait_until_busy: Callable[[], None]) -> tuple[int, str, str]:
    """Run the console script, SIGINT it once `wait_until_busy` returns; (code, stdout, stderr)."""
    proc = start_cli(*args, env=env, cwd=cwd)
    try:
        wait_until_busy()
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:  # show where the CLI was stuck (faulthandler)
            proc.send_signal(signal.SIGABRT)
            out, err = proc.communicate(timeout=30)
            raise AssertionError(f"Ctrl-C did not stop the CLI:\n{err[-4000:]}") from None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, out, err


def test_ctrl_c_during_create_json(silent_api: socket.socket, tmp_path: Path) -> None:
    out_file = tmp_path / "k.key"
    code, out, err = _interrupt_mid_request(
        silent_api, ["--json", "keys", "create", "--type", "INFERENCE", "--description", "c",
                     "--out", str(out_file)], tmp_path)
    assert code == 130, err
    error = json.loads(out)["error"]  # the whole stdout is the one object
    assert error["type"] == "Interrupted"
    assert "keys list" in error["hint"], "a key may exist: the user must be told to check"
    assert error["message"] in err and "Traceback" not in err
    assert not out_file.exists(), "the empty --out file is removed"
    assert "canary_interrupt" not in out + err


def test_ctrl_c_during_a_read_says_nothing_changed(silent_api: socket.socket,
                                                   tmp_path: Path) -> None:
    code, out, err = _interrupt_mid_request(silent_api, ["keys", "list"], tmp_path)
    assert code == 130
    assert out == ""
    assert "interrupted: nothing was changed" in err and "Traceback" not in err


@pytest.mark.parametrize("args", [[], ["keys"], ["wallet"]])
def test_bare_group_prints_its_help_not_an_error(cli: CliRunner, args: list[str]) -> None:
    res = cli(*args)
    assert res.code == 2
    assert res.stdout == ""
    assert res.stderr.startswith("Usage: venice-keys"), res.stderr[:200]
    assert "error:" not in res.stderr
    as_json = cli("--json", *args)
    assert as_json.code == 2
    assert as_json.json()["error"]["type"] == "UsageError"


def test_help_lists_commands_in_workflow_order(cli: CliRunner) -> None:
    out = cli("--help").stdout
    commands = out.split("Commands:")[1].split("\n\n")[0]
    names = [line.split()[0] for line in commands.strip().splitlines()]
    assert names == ["wallet", "mint", "keys", "limits", "billing", "sandbox", "demo",
                     "completion"]
    assert "..." not in commands and "e.g." not in commands, "a truncated command summary"
    keys = cli("keys", "--help").stdout.split("Commands:")[1]
    assert [line.split()[0] for line in keys.strip().splitlines()] == [
        "list", "get", "create", "update", "revoke", "rotate", "provision"]


def _interrupt_rotation(sandbox: Any, env: dict[str, str], route: str, key_id: str,
                        out_file: Path, cwd: Path) -> tuple[int, str, str]:
    """`keys rotate` with `route` hanging; SIGINT once that request is held open."""
    import time

    from venice_web3_keys.sandbox.emulator import Fault

    sandbox.emulator.faults.add(route, Fault(hang=30))

    def held_open() -> None:
        deadline = time.monotonic() + 30
        while sandbox.emulator.faults.pending() and time.monotonic() < deadline:
            time.sleep(0.05)  # the fault is taken when the request arrives
        assert not sandbox.emulator.faults.pending(), "the rotation never reached " + route
        time.sleep(0.3)

    return _ctrl_c(["keys", "rotate", key_id, "--out", str(out_file)], env, cwd, held_open)


def _listed(cli: CliRunner, env: dict[str, str]) -> list[str]:
    return [k["id"] for k in cli("--json", "keys", "list", env=env).json()["data"]]


def test_ctrl_c_while_revoking_the_old_key_says_what_exists(
        cli: CliRunner, venice_sandbox: Any, admin_env: dict[str, str], tmp_path: Path) -> None:
    old = create_key(cli, admin_env, tmp_path / "old.key")
    new_file = tmp_path / "new.key"
    code, _, err = _interrupt_rotation(venice_sandbox, admin_env, "DELETE /api_keys",
                                         old["id"], new_file, tmp_path)
    assert code == 130, err
    new_id = next(k for k in _listed(cli, admin_env) if k != old["id"])
    message = " ".join(err.split())
    assert f"the new key {new_id}" in message and f"secret → {new_file}" in message
    assert f"the old key {old['id']} may still be live" in message
    assert f"venice-keys keys revoke {old['id']} --yes" in message
    assert new_file.read_text().startswith("VENICE_INFERENCE_KEY_"), "the secret was kept"
    assert "Traceback" not in err


def test_ctrl_c_while_checking_the_new_key_says_it_was_revoked(
        cli: CliRunner, venice_sandbox: Any, admin_env: dict[str, str], tmp_path: Path) -> None:
    old = create_key(cli, admin_env, tmp_path / "old.key")
    code, _, err = _interrupt_rotation(venice_sandbox, admin_env, "GET /api_keys/rate_limits",
                                       old["id"], tmp_path / "new.key", tmp_path)
    assert code == 130, err
    listed = _listed(cli, admin_env)
    assert old["id"] in listed and len(listed) == 2, "the old key and the ADMIN key, no successor"
    message = " ".join(err.split())
    assert "it was not checked yet, so it was revoked again" in message
    assert f"the old key {old['id']} is unchanged and still works" in message
