"""A secret from the server is data: checked against Venice's key shape before any sink sees it,
and written so that no later reader (python-dotenv, a shell, our own rewrite) interprets it.

Reproduced attacks: a "secret" `${VENICE_WALLET_PRIVATE_KEY}` that python-dotenv expanded on the
next run (the wallet key went out as a bearer token), and a secret with `\\r` that a later rewrite
of the .env split into a planted `VENICE_API_BASE_URL` line.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import fake_key
from tests.harness import CliRunner
from venice_web3_keys.api import AsyncVeniceKeys
from venice_web3_keys.errors import MalformedSecretError, SinkError
from venice_web3_keys.sandbox.emulator.faults import Fault
from venice_web3_keys.secret import ApiKeySecret, looks_like_venice_key
from venice_web3_keys.settings import load_settings
from venice_web3_keys.sinks import EnvFileSink, FileSink

GEN = "/api_keys/generate_web3_key"
EVIL_BASE = "http://evil.example/api/v1"
#: every character str.splitlines() splits on
LINE_BREAKS = ["\n", "\r", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


def _account_keys(sandbox: Any, account: str) -> set[str]:
    return {k.id for k in sandbox.emulator.live_keys(account)}


def _admin_account(sandbox: Any) -> tuple[str, str]:
    """(account address, ADMIN key secret) of a fresh account."""
    address = "0x" + secrets.token_hex(20)
    _key_id, admin = sandbox.emulator.create_account_with_admin_key(address)
    return address, admin.reveal()


def test_env_injection_via_dollar_brace_secret(venice_sandbox: Any, cli: CliRunner,
                                               tmp_path: Path) -> None:
    account, admin = _admin_account(venice_sandbox)
    wallet_key = venice_sandbox.new_wallet()[1].reveal()
    env = {**venice_sandbox.env(), "VENICE_ADMIN_KEY": admin}
    before = _account_keys(venice_sandbox, account)
    assert before  # the admin key itself: the comparison below is not vacuous
    venice_sandbox.emulator.faults.add(
        "POST /api_keys", Fault.forge_secret("${VENICE_WALLET_PRIVATE_KEY}"))
    dotenv = tmp_path / ".env.keys"
    res = cli("--json", "keys", "create", "--type", "INFERENCE", "--description", "inject",
              "--env-out", f"{dotenv}:VENICE_API_KEY", env=env)
    assert res.code == 1, res.stderr
    error = res.json()["error"]
    assert error["type"] == "MalformedSecretError"
    assert "revoked" in error["message"]
    assert _account_keys(venice_sandbox, account) == before  # the key made was revoked
    assert not dotenv.exists()
    # and the .env, had it been written, would not hand the wallet key to the next run
    settings = load_settings(dotenv if dotenv.exists() else None,
                             environ={"VENICE_WALLET_PRIVATE_KEY": wallet_key})
    assert settings.api_key is None or settings.api_key.reveal() != wallet_key


def test_env_rewrite_injection_via_carriage_return_secret(venice_sandbox: Any, cli: CliRunner,
                                                          tmp_path: Path) -> None:
    account, admin = _admin_account(venice_sandbox)
    env = {**venice_sandbox.env(), "VENICE_ADMIN_KEY": admin}
    dotenv = tmp_path / "app.env"
    dotenv.write_text("APP_NAME=demo\n")
    before = _account_keys(venice_sandbox, account)
    venice_sandbox.emulator.faults.add("POST /api_keys", Fault.forge_secret(
        f"{fake_key()}\rVENICE_API_BASE_URL={EVIL_BASE}"))
    first = cli("keys", "create", "--type", "INFERENCE", "--description", "cr",
                "--env-out", f"{dotenv}:FIRST_KEY", env=env)
    second = cli("keys", "create", "--type", "INFERENCE", "--description", "rewrite",
                 "--env-out", f"{dotenv}:SECOND_KEY", env=env)  # the rewrite that split lines
    assert first.code == 1 and "revoked" in first.stderr, first.stderr
    assert second.code == 0, second.stderr
    assert EVIL_BASE not in dotenv.read_text()
    assert load_settings(dotenv, environ={}).api_base_url != EVIL_BASE
    assert len(_account_keys(venice_sandbox, account) - before) == 1  # only the second key


@pytest.mark.parametrize("forged", [
    "${VENICE_WALLET_PRIVATE_KEY}", "VENICE_INFERENCE_KEY_ok\nVENICE_API_BASE_URL=x",
    "VENICE_INFERENCE_KEY_\x1b]0;pwned\x07abcdefghijklmnop", "sk-live-not-a-venice-key",
    "VENICE_INFERENCE_KEY_" + "a" * 5000, "VENICE_INFERENCE_KEY_a'b$c d",
])
async def test_malformed_secret_from_mint_is_revoked_and_never_delivered(
        venice_sandbox: Any, tmp_path: Path, forged: str) -> None:
    address, key = venice_sandbox.new_wallet()
    _account, admin = venice_sandbox.emulator.create_account_with_admin_key(address)
    env = {**venice_sandbox.env(key), "VENICE_ADMIN_KEY": admin.reveal()}
    before = _account_keys(venice_sandbox, address)
    assert before  # the admin key itself
    venice_sandbox.emulator.faults.add(f"POST {GEN}", Fault.forge_secret(forged))
    out = tmp_path / "minted.key"
    async with AsyncVeniceKeys(load_settings(environ=env)) as vk:
        with pytest.raises(MalformedSecretError) as info:
            await vk.mint_key(description="forged", sink=FileSink(out))
    assert info.value.revoked is True and info.value.key_id
    assert "revoked" in str(info.value) and forged not in str(info.value)
    assert _account_keys(venice_sandbox, address) == before
    assert not out.exists()


async def test_malformed_secret_without_admin_key_is_named_not_hidden(
        venice_sandbox: Any, tmp_path: Path) -> None:
    address, key = venice_sandbox.new_wallet()
    venice_sandbox.emulator.faults.add(f"POST {GEN}", Fault.forge_secret("${HOME}"))
    out = tmp_path / "minted.key"
    async with AsyncVeniceKeys(load_settings(environ=venice_sandbox.env(key))) as vk:
        with pytest.raises(MalformedSecretError) as info:
            await vk.mint_key(description="forged", sink=FileSink(out))
    assert info.value.revoked is False
    assert info.value.key_id in str(info.value) and "NOT revoked" in str(info.value)
    assert info.value.created_key_ids == (info.value.key_id,)
    assert not out.exists()
    assert address


@pytest.mark.parametrize("char", LINE_BREAKS, ids=[f"U+{ord(c):04X}" for c in LINE_BREAKS])
def test_env_sink_refuses_every_line_break_in_a_value(tmp_path: Path, char: str) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("KEEP=1\n")
    sink = EnvFileSink(dotenv, "VENICE_API_KEY")
    sink.prepare()
    with pytest.raises(SinkError, match="line break"):
        sink.deliver(ApiKeySecret(f"VENICE_INFERENCE_KEY_abc{char}EVIL=1"), key_id="k")
    assert dotenv.read_text() == "KEEP=1\n"


def test_env_sink_single_quotes_and_keeps_other_lines_verbatim(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    original = ("# comment\nexport VENICE_API_KEY=old\nMULTI=\"a\nVENICE_API_KEY=inside\"\n"
                "VENICE_API_KEY=dup\nOTHER='x\\'y'\n")
    dotenv.write_text(original)
    secret = fake_key()
    EnvFileSink(dotenv).deliver(ApiKeySecret(secret), key_id="k")
    assert dotenv.read_text() == ("# comment\nexport VENICE_API_KEY='" + secret + "'\n"
                                  "MULTI=\"a\nVENICE_API_KEY=inside\"\nOTHER='x\\'y'\n")
    values = load_settings(dotenv, environ={})
    assert values.api_key is not None and values.api_key.reveal() == secret


@pytest.mark.parametrize("text", [
    "VENICE_INFERENCE_KEY_" + "A1b2-_" * 6, "VENICE_ADMIN_KEY_" + "x" * 40,
    fake_key(), fake_key("ADMIN"),
])
def test_venice_key_shape_accepts_real_shapes(text: str) -> None:
    assert looks_like_venice_key(text)


@pytest.mark.parametrize("text", [
    "", "VENICE_INFERENCE_KEY_", "VENICE__KEY_" + "a" * 30, "venice_inference_key_" + "a" * 30,
    "VENICE_INFERENCE_KEY_" + "a" * 30 + "\n", "VENICE_INFERENCE_KEY_" + "a" * 30 + "=",
    "VENICE_INFERENCE_KEY_" + "a" * 300, "Bearer VENICE_INFERENCE_KEY_" + "a" * 30,
    "VENICE_INFERENCE_KEY_" + "a" * 30 + "\u2028", "VENICE_INFERENCE_KEY_${X}" + "a" * 30,
])
def test_venice_key_shape_refuses_everything_else(text: str) -> None:
    assert not looks_like_venice_key(text)
