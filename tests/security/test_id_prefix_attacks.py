"""Attacks on id prefixes (`keys revoke deadbeef`): the one list call that resolves a prefix is
server data. Held, kept as regressions: a listed id that is not a UUID never reaches a request
path or a DELETE, and a list that repeats one key cannot make a prefix look unique twice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import request_log
from tests.harness import CliRunner
from venice_web3_keys.sandbox.emulator.faults import Fault

REAL = "deadbeef-0000-4000-8000-00000000000a"


def _listed(*ids: str) -> dict[str, Any]:
    return {"object": "list", "data": [
        {"id": key_id, "apiKeyType": "ADMIN", "description": "listed",
         "createdAt": "2026-01-01T00:00:00.000Z", "last6Chars": "abcdef"} for key_id in ids]}


@pytest.mark.parametrize("ids", [
    ("deadbeef/../../api_keys?id=" + REAL,),  # a path (and query) hidden in an id
    (REAL, REAL),  # the same key listed twice
    (REAL.upper(), REAL),  # case games: one key, two spellings
])
def test_a_hostile_list_cannot_steer_a_prefix_revoke(
        cli: CliRunner, admin_env: dict[str, str], venice_sandbox: Any, tmp_path: Path,
        ids: tuple[str, ...]) -> None:
    venice_sandbox.emulator.faults.add("GET /api_keys", Fault.error(200, _listed(*ids)))
    before = request_log(venice_sandbox)
    res = cli("--json", "keys", "revoke", "deadbeef", "--yes", env=admin_env)
    assert res.code == 2, res.stdout  # refused: a bad id, or "ambiguous" (never a guess)
    assert res.json()["error"]["type"] in ("InvalidInputError", "AmbiguousKeyIdError")
    assert [r.method for r in request_log(venice_sandbox)[len(before):]] == ["GET"]
