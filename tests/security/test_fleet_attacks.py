"""Attacks on fleet provisioning (`keys provision`, `provision_customer_keys`) and on the shared
create budget (`VENICE_BUDGET_URL`), each reproduced against the sandbox over real loopback HTTP:

- a hostile key list whose `cust:<id>` key carries rich markup / terminal escapes in its id and
  last6 crashed the progress line with a MarkupError mid-run and reached the terminal raw;
- an --out-dir swapped for a symlink while the run goes on made the next customer's secret land
  in the directory the link points to (the checks ran once, on the path, before the run);
- a Redis password (`:p@ss@`, `?password=`) leaked through `repr(Settings)`;
- hostile customer ids (traversal, NUL, lookalikes, over-long) and an unreachable Redis: held
  (invalid input / BudgetError before any POST), kept as regressions.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import request_log
from tests.harness import CliRunner, SandboxAccount
from venice_web3_keys.sandbox.emulator.faults import Fault

PROVISION = ["keys", "provision", "--customers", "customers.txt", "--usd-limit", "2"]
#: rich markup that crashes a markup parse, an OSC window title, a screen clear, a C1 CSI
HOSTILE = "[/x]\x1b]0;owned\x07\x1b[2J\x9b31m"


def _customers(tmp_path: Path, *ids: str) -> None:
    (tmp_path / "customers.txt").write_text("".join(f"{c}\n" for c in ids))


def _posts(before: list[Any], after: list[Any]) -> int:
    return sum(1 for r in after[len(before):] if r.method == "POST")


def _hostile_list(*customers: str) -> dict[str, Any]:
    return {"object": "list", "data": [
        {"id": f"{HOSTILE}-{c}", "apiKeyType": "INFERENCE", "description": f"cust:{c}",
         "createdAt": "2026-01-01T00:00:00.000Z", "last6Chars": "[bold]\x1b[31m",
         "consumptionLimits": {"usd": 2}} for c in customers]}


# --- output -------------------------------------------------------------------------------------
def test_a_hostile_key_list_cannot_crash_or_restyle_provision_output(
        cli: CliRunner, admin_env: dict[str, str], venice_sandbox: Any, tmp_path: Path) -> None:
    _customers(tmp_path, "acme", "globex")
    venice_sandbox.emulator.faults.add("GET /api_keys",
                                       Fault.error(200, _hostile_list("acme", "globex")))
    before = request_log(venice_sandbox)
    res = cli(*PROVISION, "--out-dir", "out", env=admin_env)
    assert res.code == 0, (res.stdout, res.stderr)
    both = res.stdout + res.stderr
    for raw in ("\x1b", "\x07", "\x9b"):
        assert raw not in both, repr(both)
    assert "[/x]" in res.stdout and "[bold]" in res.stderr  # shown literally, not parsed
    assert "2 already had a key" in res.stdout
    assert _posts(before, request_log(venice_sandbox)) == 0


# --- a hostile 429 ------------------------------------------------------------------------------
@pytest.mark.parametrize(("retry_after", "status"), [(1e9, "failed"), (-5.0, "created")])
def test_a_hostile_retry_after_neither_stalls_the_run_nor_doubles_a_key(
        cli: CliRunner, admin_env: dict[str, str], venice_sandbox: Any, tmp_path: Path,
        retry_after: float, status: str) -> None:
    """Held: a Retry-After past 15 minutes fails the customer (nothing was created) at once; a
    negative one is read as 0 and the create is sent again, once."""
    _customers(tmp_path, "throttled")
    venice_sandbox.emulator.faults.add("POST /api_keys", Fault.rate_limited(retry_after))
    before = request_log(venice_sandbox)
    res = cli("--json", *PROVISION, "--out-dir", "out", env=admin_env)
    [item] = res.json()["data"]
    assert item["status"] == status, item
    posts = _posts(before, request_log(venice_sandbox))
    if status == "failed":
        assert res.code == 1 and "nothing was created" in item["error"] and posts == 1
        assert not (tmp_path / "out" / "throttled.key").exists()
    else:
        assert res.code == 0 and posts == 2


# --- the secrets directory ----------------------------------------------------------------------
async def test_an_out_dir_swapped_for_a_symlink_mid_run_receives_no_secret(
        account: SandboxAccount, tmp_path: Path) -> None:
    from venice_web3_keys import AsyncVeniceKeys
    from venice_web3_keys.cli.commands.provision import sink_factory

    out, moved, trap = tmp_path / "out", tmp_path / "moved", tmp_path / "trap"
    trap.mkdir(mode=0o700)
    factory = sink_factory(str(out), None)  # the checks `keys provision` makes, then the run
    statuses: list[str] = []
    async with AsyncVeniceKeys(account.settings) as vk:
        async for result in vk.provision_customer_keys(["swap1", "swap2"], sink_factory=factory,
                                                       usd_limit=1):
            statuses.append(result.status)
            if len(statuses) == 1:  # the attacker swaps the directory for a link
                os.rename(out, moved)
                out.symlink_to(trap)
    assert list(trap.iterdir()) == [], "a secret went through the planted symlink"
    assert statuses[0] == "created"
    if statuses[1] == "created":  # written where the run's checked directory really is
        assert sorted(p.name for p in moved.iterdir()) == ["swap1.key", "swap2.key"]
    else:
        assert statuses[1] == "failed"


@pytest.mark.parametrize("bad", [
    "../escape", "/etc/passwd", "a/b", "x\x00y", "ac\u0430me", "acme\u200b", "a" * 49,
    "VENICE_INFERENCE_KEY_x", "cust:acme", "sp ace", "back\\slash",
])
def test_hostile_customer_ids_are_refused_before_anything_is_sent(
        cli: CliRunner, admin_env: dict[str, str], venice_sandbox: Any, tmp_path: Path,
        bad: str) -> None:
    """Held: every id is checked against a short ASCII alphabet before the list call."""
    (tmp_path / "customers.txt").write_text(f"fine\n{bad}\n", encoding="utf-8")
    before = request_log(venice_sandbox)
    res = cli("--json", *PROVISION, "--out-dir", "out", env=admin_env)
    assert res.code == 2, res.stdout
    assert "line 2" in res.json()["error"]["message"]
    assert request_log(venice_sandbox) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["customers.txt"]  # no file anywhere


def test_dot_ids_and_a_leading_dash_stay_inside_the_out_dir(
        cli: CliRunner, admin_env: dict[str, str], tmp_path: Path) -> None:
    """Held: `.`, `..` and `-rf` are valid ids; their files are `<id>.key` inside the dir."""
    _customers(tmp_path, ".", "..", "-rf", "dup", "dup")
    res = cli("--json", *PROVISION, "--out-dir", "out", env=admin_env)
    assert res.code == 0, res.stderr
    assert [d["customer"] for d in res.json()["data"]] == [".", "..", "-rf", "dup"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "-rf.key", "...key", "..key", "dup.key"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["customers.txt", "out"]


# --- VENICE_BUDGET_URL --------------------------------------------------------------------------
PASSWORD = "Hunter2-s3cret"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _budget_urls(port: int) -> list[str]:
    return [
        f"redis://:p@{PASSWORD}@127.0.0.1:{port}/0",  # an unencoded '@' in the password
        f"redis://user:{PASSWORD}@127.0.0.1:{port}/0",
        f"redis://127.0.0.1:{port}/0?password={PASSWORD}",
        f"rediss://{PASSWORD}@127.0.0.1:{port}/1",
    ]


@pytest.mark.parametrize("form", range(4))
def test_a_redis_password_never_appears_in_the_settings_repr(form: int) -> None:
    from venice_web3_keys.budget import BudgetStorage
    from venice_web3_keys.settings import load_settings

    url = _budget_urls(6379)[form]
    settings = load_settings(environ={"VENICE_BUDGET_URL": url})
    assert settings.budget_url == url  # kept whole for the driver
    for shown in (repr(settings), str(settings), repr(BudgetStorage(url)),
                  BudgetStorage(url).location):
        assert "s3cret" not in shown and "Hunter2" not in shown, shown


@pytest.mark.parametrize("form", range(4))
def test_an_unreachable_redis_stops_provisioning_before_any_post_without_its_password(
        cli: CliRunner, admin_env: dict[str, str], venice_sandbox: Any, tmp_path: Path,
        form: int) -> None:
    _customers(tmp_path, "r1", "r2")
    env = {**admin_env, "VENICE_BUDGET_URL": _budget_urls(_closed_port())[form]}
    before = request_log(venice_sandbox)
    res = cli("--json", *PROVISION, "--out-dir", "out", env=env)
    assert res.code != 0
    assert "BudgetError" in res.stdout and "nothing was sent" in res.stdout
    assert "s3cret" not in res.stdout + res.stderr and "Hunter2" not in res.stdout + res.stderr
    assert _posts(before, request_log(venice_sandbox)) == 0
    assert not any((tmp_path / "out").iterdir())  # the prepared files were taken back
