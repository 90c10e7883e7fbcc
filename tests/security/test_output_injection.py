"""Output injection: every string a server sends is shown as inert text in human output.

Attacks (all reproduced before the fix):
- rich markup in a description (`[/x] build bot`) crashed `keys rotate --print` with a MarkupError
  AFTER the old key was revoked, so the new key's secret was never shown to anyone;
- markup (`[bold red]`, `[link=...]`, `:emoji:` codes) in server text restyled the output;
- ESC / OSC / C1 sequences reached the terminal (window title, screen clear, colours), and bidi
  controls reordered what the user read.
Every human renderer is run over a table of hostile strings; the end-to-end tests drive the real
console script against the sandbox.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import create_key
from tests.harness import CliRunner
from venice_web3_keys.cli.render import Output
from venice_web3_keys.models import ApiKey, BillingBalance, RateLimitLogEntry, RateLimits
from venice_web3_keys.serialize import to_jsonable

#: C0 controls except the newline rich itself writes, DEL, C1, bidi controls, line separators
FORBIDDEN = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e"
                       "\u2066-\u2069\u2028\u2029]")

#: (name, what the server sends, a part that must still be visible, literally)
HOSTILE: list[tuple[str, str, str]] = [
    ("markup close tag", "[/x] build bot", "[/x] build bot"),
    ("markup style", "[bold red]pwned[/]", "[bold red]pwned[/]"),
    ("markup link", "[link=https://evil.example]click[/link]",
     "[link=https://evil.example]click[/link]"),
    ("emoji code", ":cross_mark: done", ":cross_mark: done"),
    ("trailing backslash", "dir\\", "dir\\"),
    ("OSC window title", "\x1b]0;owned\x07title", "owned"),
    ("clear screen", "\x1b[2J\x1b[Hcleared", "cleared"),
    ("CSI colour", "\x1b[31mred", "red"),
    ("C1 CSI", "\x9b2Jc1text", "c1text"),
    ("bidi override", "\u202eevil\u202c", "evil"),
    ("bidi isolates", "a\u2066b\u2069c", "abc"),
    ("LRM RLM ALM", "x\u200e\u200f\u061cy", "xy"),
    ("line breaks", "one\ntwo\rthree", "one two three"),
    ("NUL DEL BEL", "a\x00b\x7fc\x07d", "abcd"),
    ("NEL and LS", "p\x85q\u2028r", "p q r"),
]


def _key(text: str) -> ApiKey:
    """A listed key whose every server-chosen string is `text`."""
    return ApiKey.model_validate({
        "id": text, "apiKeyType": text, "description": text, "createdAt": text,
        "expiresAt": text, "lastUsedAt": text, "last6Chars": text,
        "consumptionLimits": {"usd": 5}, "limitPeriod": text, "modelPrivacy": text,
    })


def _new_key_info(text: str) -> dict[str, Any]:
    return {"id": text, "apiKeyType": text, "description": text, "last6": text,
            "fingerprint": text, "sink": {"kind": "file", "location": text},
            "expiresAt": text, "consumptionLimits": {"usd": text, "diem": None},
            "limitPeriod": text, "modelPrivacy": text}


def _rate_limits(text: str) -> dict[str, Any]:
    data: dict[str, Any] = to_jsonable(RateLimits.model_validate({
        "accessPermitted": True, "apiTier": {"id": text}, "balances": {text: 1},
        "keyExpiration": text, "nextEpochBegins": text,
        "rateLimits": [{"apiModelId": text, "rateLimits": [{"amount": 5, "type": text}]}]}))
    return data


def _log_entries(text: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = to_jsonable([RateLimitLogEntry.model_validate({
        "apiKeyId": text, "modelId": text, "rateLimitTier": text, "rateLimitType": text,
        "timestamp": text})])
    return entries


def _billing(text: str) -> dict[str, Any]:
    data: dict[str, Any] = to_jsonable(BillingBalance.model_validate({
        "canConsume": True, "consumptionCurrency": text, "balances": {"usd": 1}}))
    return data


def _stake_plan(text: str) -> dict[str, Any]:
    """A stake plan whose every value came from a hostile RPC node (or a tampered setting)."""
    return {"amount": text, "address": text, "chainId": text,
            "contracts": {"VVV": text, "staking": text}, "approveNeeded": True,
            "allowanceBefore": text, "gasEstimate": {text: text}, "maxFeePerGasGwei": text,
            "feeEstimateETH": text, "balancesBefore": {"ETH": text},
            "balancesAfter": {"VVV": text, "sVVV": text}, "simulation": text, "dryRun": True}


def _stake_result(text: str) -> dict[str, Any]:
    return {"amount": text, "sVVVBefore": text, "sVVVAfter": text, "approveTx": text,
            "stakeTx": text, "gasUsed": {"approve": text, "stake": text}, "feesPaidETH": text}


RENDERERS: dict[str, Callable[[Output, str], None]] = {
    "keys_table": lambda out, t: out.keys_table([_key(t)]),
    "key_detail": lambda out, t: out.key_detail(_key(t)),
    "new_key": lambda out, t: out.new_key(_new_key_info(t), verb="Created", notes=[t]),
    "wallet_status": lambda out, t: out.wallet_status(
        {"address": t, "chainId": t, "balances": {t: t}, "eligible": False},
        staking_contract=t),
    "rate_limits": lambda out, t: out.rate_limits(_rate_limits(t)),
    "rate_limit_log": lambda out, t: out.rate_limit_log(_log_entries(t)),
    "billing": lambda out, t: out.billing(_billing(t)),
    "stake_plan": lambda out, t: out.stake_plan(_stake_plan(t)),
    "stake_result": lambda out, t: out.stake_result(_stake_result(t)),
    "error": lambda out, t: out.error("APIError", t, t),
    "warn": lambda out, t: out.warn(t),
}


@pytest.mark.parametrize("renderer", list(RENDERERS))
@pytest.mark.parametrize(("name", "text", "visible"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_every_human_renderer_shows_server_text_inert(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, renderer: str,
        name: str, text: str, visible: str) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # wide enough that no cell is folded
    out = Output(json_mode=False)
    RENDERERS[renderer](out, text)  # a MarkupError here is the crash the attack caused
    shown = capsys.readouterr()
    screen = shown.out + shown.err
    bad = sorted({f"U+{ord(c):04X}" for c in FORBIDDEN.findall(screen)})
    assert not bad, f"{renderer} passed {bad} through to the terminal"
    assert visible in screen, f"{renderer} did not show {visible!r} literally: {screen!r}"


@pytest.mark.parametrize(("name", "text", "visible"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_library_warnings_on_stderr_are_inert(name: str, text: str, visible: str) -> None:
    """Library log records (e.g. an orphan key named by its description) reach the terminal."""
    from venice_web3_keys.cli.app import stderr_log_handler

    stream = io.StringIO()
    handler = stderr_log_handler(stream)
    record = logging.LogRecord("venice_web3_keys.flows", logging.WARNING, __file__, 1,
                               "orphan key %s revoked", (text,), None)
    handler.handle(record)
    assert not FORBIDDEN.findall(stream.getvalue())
    assert visible in stream.getvalue()


def _hostile_description(sandbox: Any, key_id: str, text: str) -> None:
    """What a hostile or compromised server would send as this key's description."""
    sandbox.emulator.keys[key_id].description = text


def test_rotate_print_with_a_markup_description_delivers_the_secret(
        cli: CliRunner, admin_env: dict[str, str], tmp_path: Path) -> None:
    """The reported crash: the old key was revoked, then the summary raised MarkupError."""
    old = create_key(cli, admin_env, tmp_path / "old.key")
    upd = cli("keys", "update", old["id"], "--description", "[/x] build bot", env=admin_env)
    assert upd.code == 0, upd.stderr
    res = cli("keys", "rotate", old["id"], "--print", env=admin_env)
    assert res.code == 0, res.stderr
    secrets = [line for line in res.stdout.splitlines() if line.startswith("VENICE_")]
    assert len(secrets) == 1, res.stdout
    listed = cli("--json", "keys", "list", env=admin_env).json()["data"]
    successor = [k for k in listed if k["description"] == "[/x] build bot"]
    assert len(successor) == 1 and successor[0]["id"] != old["id"]
    assert secrets[0].endswith(successor[0]["last6Chars"])
    assert "[/x] build bot" in res.stdout + res.stderr


_SERVER_SIDE = [h for h in HOSTILE
                if h[0] in ("OSC window title", "clear screen", "bidi override", "markup style")]


@pytest.mark.parametrize(("name", "text", "visible"), _SERVER_SIDE,
                         ids=[h[0] for h in _SERVER_SIDE])
def test_hostile_descriptions_from_the_server_reach_no_terminal(
        cli: CliRunner, venice_sandbox: Any, admin_env: dict[str, str], tmp_path: Path,
        name: str, text: str, visible: str) -> None:
    key = create_key(cli, admin_env, tmp_path / "k.key")
    _hostile_description(venice_sandbox, key["id"], text)
    for args in (["keys", "list"], ["keys", "get", key["id"]],
                 ["keys", "update", key["id"], "--usd-limit", "3"]):
        res = cli(*args, env=admin_env)
        assert res.code == 0, (args, res.stderr)
        assert not FORBIDDEN.findall(res.stdout + res.stderr), (args, res.stdout)
        assert visible in res.stdout, (args, res.stdout)
    as_json = cli("--json", "keys", "get", key["id"], env=admin_env)
    assert as_json.json()["description"] == text, "JSON carries the data exactly (escaped)"


def test_hostile_server_error_text_reaches_no_terminal(
        cli: CliRunner, venice_sandbox: Any, admin_env: dict[str, str]) -> None:
    from venice_web3_keys.sandbox.emulator import Fault

    venice_sandbox.emulator.faults.add("GET /api_keys", Fault(
        status=400, body={"error": "\x1b]0;owned\x07\x1b[2Jbad [/x] request"}))
    res = cli("keys", "list", env=admin_env)
    assert res.code == 1, res.stderr
    assert not FORBIDDEN.findall(res.stdout + res.stderr), res.stderr
    assert "bad [/x] request" in res.stderr
