"""Invalid input exits 2 before any request: the emulator's request log does not move."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import request_log
from tests.fakes import fake_key
from tests.harness import CliRunner

UUID = "e28e82dc-9df2-4b47-b726-d0a222ef2ab5"
PASTED_SECRET = fake_key("ADMIN", "pasted")
CREATE = ["keys", "create", "--type", "INFERENCE", "--description", "ok"]

CASES: list[tuple[str, list[str]]] = [
    ("past date", [*CREATE, "--expires", "2001-01-01", "--out", "{new}"]),
    ("junk date", [*CREATE, "--expires", "next tuesday", "--out", "{new}"]),
    ("impossible date", [*CREATE, "--expires", "2031-13-45", "--out", "{new}"]),
    ("past duration", [*CREATE, "--expires", "-5d", "--out", "{new}"]),
    ("negative limit", [*CREATE, "--usd-limit", "-1", "--out", "{new}"]),
    ("limit too large", [*CREATE, "--usd-limit", "10000000000", "--out", "{new}"]),
    ("limit not a number", [*CREATE, "--diem-limit", "lots", "--out", "{new}"]),
    ("none on create", [*CREATE, "--usd-limit", "none", "--out", "{new}"]),
    ("empty description", ["keys", "create", "--type", "INFERENCE", "--description", " ",
                           "--out", "{new}"]),
    ("long description", ["keys", "create", "--type", "INFERENCE", "--description", "x" * 65,
                          "--out", "{new}"]),
    ("64 emoji description", ["keys", "create", "--type", "INFERENCE", "--description",
                              "\N{GRINNING FACE}" * 64, "--out", "{new}"]),
    ("bad type", ["keys", "create", "--type", "SUPER", "--description", "d", "--out", "{new}"]),
    ("bad period", [*CREATE, "--limit-period", "WEEK", "--out", "{new}"]),
    ("bad privacy", [*CREATE, "--model-privacy", "NONE", "--out", "{new}"]),
    ("no sink", CREATE),
    ("two sinks", [*CREATE, "--out", "{new}", "--print"]),
    ("three sinks", [*CREATE, "--out", "{new}", "--env-out", "{new}.env", "--keyring", "s"]),
    ("existing --out", [*CREATE, "--out", "{existing}"]),
    ("--out in missing folder", [*CREATE, "--out", "{missing_dir}/k"]),
    ("--env-out empty var", [*CREATE, "--env-out", "{new}.env:"]),
    ("get bad id", ["keys", "get", "not-a-uuid"]),
    ("get pasted secret", ["keys", "get", PASTED_SECRET]),
    ("revoke pasted secret", ["keys", "revoke", PASTED_SECRET, "--yes"]),
    ("revoke without --yes off a TTY", ["keys", "revoke", UUID]),
    ("update nothing", ["keys", "update", UUID]),
    ("update expires and no-expiry", ["keys", "update", UUID, "--expires", "30d",
                                      "--no-expiry"]),
    ("update bad limit", ["keys", "update", UUID, "--usd-limit", "-3"]),
    ("update past date", ["keys", "update", UUID, "--expires", "1999-12-31T00:00:00Z"]),
    ("rotate no sink", ["keys", "rotate", UUID]),
    ("rotate bad id", ["keys", "rotate", "123", "--out", "{new}"]),
    ("mint no sink", ["mint", "--type", "ADMIN", "--description", "d"]),
    ("mint past date", ["mint", "--type", "ADMIN", "--description", "d", "--expires",
                        "2020-01-01", "--out", "{new}"]),
    ("unknown option", ["keys", "list", "--admin-key", PASTED_SECRET]),
    ("unknown command", ["keys", "destroy"]),
    ("wallet status bad address", ["wallet", "status", "--address", "0x1234"]),
    ("wallet status bad checksum", ["wallet", "status", "--address",
                                    "0x321B7ff75154472B18EDb199033fF4D116F340Ff"]),
]


@pytest.mark.parametrize(("name", "args"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_exits_2_and_sends_nothing(cli: CliRunner, venice_sandbox: Any,
                                             admin_env: dict[str, str], venice_wallet: Any,
                                             tmp_path: Path, name: str, args: list[str]) -> None:
    existing = tmp_path / "existing.key"
    existing.write_text("keep me\n")
    env = dict(admin_env)
    env["VENICE_WALLET_PRIVATE_KEY"] = venice_wallet[1].reveal()
    values = {"new": str(tmp_path / "new.key"), "existing": str(existing),
              "missing_dir": str(tmp_path / "nope")}
    argv = [a.format(**values) for a in args]
    before = request_log(venice_sandbox)

    res = cli("--json", *argv, env=env)

    assert res.code == 2, (name, res.stdout, res.stderr)
    assert request_log(venice_sandbox) == before, "a request was sent for invalid input"
    error = res.json()["error"]
    assert set(error) >= {"type", "message"}
    assert error["message"] in res.stderr
    assert existing.read_text() == "keep me\n"
    assert not (tmp_path / "new.key").exists(), "an empty --out file was left behind"
    assert PASTED_SECRET not in res.stdout + res.stderr, "a pasted secret was echoed"


def test_bad_input_human_mode_says_what_to_do(cli: CliRunner, admin_env: dict[str, str],
                                              tmp_path: Path) -> None:
    res = cli(*CREATE, env=admin_env)
    assert res.code == 2
    assert res.stdout == ""
    assert "--out FILE" in res.stderr and "--print" in res.stderr


@pytest.mark.parametrize("command", [["keys", "create", "--type", "INFERENCE"],
                                     ["mint", "--type", "INFERENCE"], ["keys", "update", UUID]])
def test_an_emoji_description_too_long_for_venice_names_the_flag(
        cli: CliRunner, admin_env: dict[str, str], tmp_path: Path, command: list[str]) -> None:
    """64 emoji are 128 UTF-16 code units, as Venice counts: refused, naming --description and
    both counts, before anything is sent or any wallet is opened."""
    sink = [] if command[0:2] == ["keys", "update"] else ["--out", str(tmp_path / "k")]
    res = cli(*command, "--description", "\N{GRINNING FACE}" * 64, *sink, env=admin_env)
    assert res.code == 2, res.stderr
    assert "--description is 128 UTF-16 code units long" in res.stderr
    assert "64 characters" in res.stderr and "at most 64" in res.stderr
    assert not (tmp_path / "k").exists()
