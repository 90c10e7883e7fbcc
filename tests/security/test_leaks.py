"""Canary secrets must not leak through error paths: malformed keys, CLI, MCP over stdio."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import fake_key
from tests.harness import CliRunner, clean_env
from venice_web3_keys.client.async_client import AsyncVeniceClient
from venice_web3_keys.errors import ConfigError, VeniceKeysError
from venice_web3_keys.secret import SecretValue
from venice_web3_keys.settings import load_settings

CANARY = fake_key("ADMIN", "CANARY")
BAD_KEYS = [f"{CANARY}\nX-Injected: 1", f"{CANARY}\r\nX: y", f"{CANARY}\x00tail",
            f"{CANARY}\x1bEND"]


def _everything(exc: BaseException) -> str:
    """Message, notes, chained causes and the full formatted traceback."""
    return "".join(traceback.format_exception(exc)) + repr(exc) + repr(exc.args)


@pytest.mark.parametrize("bad", BAD_KEYS, ids=["LF-header", "CRLF-header", "NUL", "ESC"])
async def test_control_character_in_key_is_not_echoed(venice_sandbox: Any, bad: str) -> None:
    """h11 quotes an illegal header value in its error; the client must not pass it on."""
    before = len(venice_sandbox.emulator.requests())
    async with AsyncVeniceClient(venice_sandbox.api_base_url, admin_key=SecretValue(bad),
                                 max_retries=0, timeout=5) as client:
        with pytest.raises(VeniceKeysError) as info:
            await client.list_keys()
    assert CANARY not in _everything(info.value)
    if "\n" in bad or "\x00" in bad:  # illegal in HTTP: refused before anything is sent
        assert len(venice_sandbox.emulator.requests()) == before


@pytest.mark.parametrize("var", ["VENICE_ADMIN_KEY", "VENICE_API_KEY"])
def test_settings_refuse_a_key_with_a_control_character(var: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(environ={var: f"{CANARY}\nX: 1"})
    assert var in str(info.value)
    assert CANARY not in _everything(info.value)


def test_cli_with_a_broken_admin_key_in_dotenv(tmp_path: Path, venice_sandbox: Any,
                                               cli: CliRunner) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f'VENICE_ADMIN_KEY="{CANARY}\\nX-Injected: 1"\n')
    before = len(venice_sandbox.emulator.requests())
    res = cli("--env-file", str(env_file), "--json", "keys", "list", env=venice_sandbox.env())
    assert res.code != 0
    assert CANARY not in res.stdout + res.stderr
    assert "VENICE_ADMIN_KEY" in res.stdout + res.stderr
    assert len(venice_sandbox.emulator.requests()) == before


def test_cli_never_accepts_a_secret_on_argv(cli: CliRunner) -> None:
    for flag in ("--admin-key", "--private-key", "--password", "--api-key"):
        res = cli(flag, CANARY, "keys", "list")
        assert res.code == 2, (flag, res.stdout, res.stderr)
        assert CANARY not in res.stdout


def test_private_key_canary_never_leaves_the_cli(venice_sandbox: Any, cli: CliRunner) -> None:
    """A wrong-but-well-formed private key and a malformed one: errors never quote them."""
    good_shape = "0x" + "f" * 64  # above the curve order: not a valid secp256k1 key
    for key in (good_shape, "0x" + "e" * 63 + "Z"):
        env = dict(venice_sandbox.env())
        env["VENICE_WALLET_PRIVATE_KEY"] = key
        res = cli("--json", "wallet", "status", env=env)
        assert res.code != 0
        for fragment in (key, key[2:], key[2:34]):
            assert fragment not in res.stdout + res.stderr


MCP_SCRIPT = r"""
import asyncio, json, sys
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

async def main():
    params = StdioServerParameters(command=sys.argv[1], args=[], env=json.loads(sys.argv[2]))
    async with Client(stdio_client(params)) as client:
        result = await client.call_tool("venice_list_keys", {})
        print(json.dumps({"error": result.is_error,
                          "text": [getattr(b, "text", "") for b in result.content]}))

asyncio.run(main())
"""


def test_mcp_stdio_error_text_never_quotes_the_admin_key(tmp_path: Path,
                                                         venice_sandbox: Any) -> None:
    """A library user can still hand the server a broken key via .env: the tool error and the
    server's stderr stay clean."""
    mcp_bin = Path(sys.executable).parent / "venice-keys-mcp"
    env = clean_env(venice_sandbox.env())
    env["VENICE_ADMIN_KEY"] = f"{CANARY}\x1bX"
    env["VENICE_MCP_AUDIT_LOG"] = str(tmp_path / "audit.jsonl")
    proc = subprocess.run(
        [sys.executable, "-c", MCP_SCRIPT, str(mcp_bin), json.dumps(env)],
        capture_output=True, text=True, timeout=90, cwd=tmp_path, check=False,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    everything = proc.stdout + proc.stderr
    assert CANARY not in everything
    assert '"error": true' in proc.stdout and "VENICE_ADMIN_KEY" in proc.stdout, everything
    for path in tmp_path.iterdir():
        assert CANARY not in path.read_text(errors="replace")


def test_secret_value_survives_hostile_formatting() -> None:
    secret = SecretValue(CANARY)
    rendered = [str(secret), repr(secret), f"{secret}", f"{secret!r}", f"{secret:>40}",
                "%s %r" % (secret, secret),  # noqa: UP031
                json.dumps({"k": str(secret)}),
                repr([secret]), repr({"k": secret})]
    assert not any(CANARY in text for text in rendered)
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(secret)
    with pytest.raises(TypeError):
        import copy

        copy.deepcopy(secret)
