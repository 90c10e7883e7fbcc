"""Ctrl-C and bare commands: `--json` still prints exactly one object; the exit code says why."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import BIN, Run, clean_env
from tests.fakes import fake_key


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
    env = clean_env({"VENICE_API_BASE_URL": f"http://127.0.0.1:{port}/api/v1",
                     "VENICE_ADMIN_KEY": fake_key("ADMIN", "canary_interrupt")})
    proc = subprocess.Popen([str(BIN), *args], env=env, cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        conn, _ = sock.accept()  # the request is in flight now
        with conn:
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=30)
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
def test_bare_group_prints_its_help_not_an_error(run: Run, args: list[str]) -> None:
    res = run(*args)
    assert res.code == 2
    assert res.stdout == ""
    assert res.stderr.startswith("Usage: venice-keys"), res.stderr[:200]
    assert "error:" not in res.stderr
    as_json = run("--json", *args)
    assert as_json.code == 2
    assert as_json.json()["error"]["type"] == "UsageError"


def test_help_lists_commands_in_workflow_order(run: Run) -> None:
    out = run("--help").stdout
    commands = out.split("Commands:")[1].split("\n\n")[0]
    names = [line.split()[0] for line in commands.strip().splitlines()]
    assert names == ["wallet", "mint", "keys", "limits", "billing", "sandbox", "demo",
                     "completion"]
    assert "..." not in commands and "e.g." not in commands, "a truncated command summary"
    keys = run("keys", "--help").stdout.split("Commands:")[1]
    assert [line.split()[0] for line in keys.strip().splitlines()] == [
        "list", "get", "create", "update", "revoke", "rotate", "provision"]
