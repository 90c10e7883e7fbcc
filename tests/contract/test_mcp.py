"""The MCP server: entry points over stdio, tool names and arguments, the built-in policy,
secrets and operator settings (docs/MCP.md)."""

from __future__ import annotations

import hashlib
import json
import re
import stat
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.contract.conftest import ADDR_A, PY, REPO, VENV_BIN
from tests.harness import SandboxAccount, clean_env
from venice_web3_keys.secret import SecretValue
from venice_web3_keys.settings import load_settings

# MCP server

READ_TOOLS = {"venice_wallet_status", "venice_list_keys", "venice_get_key", "venice_rate_limits",
              "venice_rate_limit_log", "venice_billing_balance"}
WRITE_TOOLS = {"venice_mint_key", "venice_create_key", "venice_update_key", "venice_revoke_key",
               "venice_rotate_key", "venice_stake_vvv"}
NEW_KEY_ARGS = {"api_key_type", "description", "expires_at", "usd_limit", "diem_limit",
                "limit_period", "model_privacy"}
MCP_ARGS: dict[str, set[str]] = {  # tool: its arguments, exactly
    "venice_wallet_status": {"address"},
    "venice_mint_key": NEW_KEY_ARGS,
    "venice_list_keys": set(),
    "venice_get_key": {"key_id"},
    "venice_create_key": NEW_KEY_ARGS,
    "venice_update_key": {"key_id", "description", "expires_at", "remove_expiry", "usd_limit",
                          "diem_limit", "limit_period", "model_privacy"},
    "venice_revoke_key": {"key_id"},
    "venice_rotate_key": {"key_id"},
    "venice_rate_limits": set(),
    "venice_rate_limit_log": set(),
    "venice_billing_balance": set(),
    "venice_stake_vvv": {"amount"},
}
MCP_REQUIRED = {"venice_get_key": {"key_id"}, "venice_update_key": {"key_id"},
                "venice_revoke_key": {"key_id"}, "venice_rotate_key": {"key_id"},
                "venice_stake_vvv": {"amount"}}
FORBIDDEN_TOOL_ARG = re.compile(
    r"private|admin_key|^api_key$|password|secret|token|mnemonic|allow_writes|policy|reveal"
    r"|secrets_dir|^host$|^port$|env_file|rpc|base_url")


def _operator_env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    return {"HOME": str(home), "VENICE_MCP_SECRETS_DIR": str(home / "secrets"),
            "VENICE_MCP_AUDIT_LOG": str(home / "audit.jsonl"), **(extra or {})}


@asynccontextmanager
async def mcp_inproc(home: Path, settings_env: Mapping[str, str], flags: list[str] | None = None,
                     operator: Mapping[str, str] | None = None) -> AsyncIterator[Any]:
    """A real `mcp.Client` on the server `venice-keys-mcp` would build (in memory)."""
    from mcp import Client

    from venice_web3_keys import AsyncVeniceKeys
    from venice_web3_keys.mcp.config import load_config
    from venice_web3_keys.mcp.server import build_server

    config = load_config(flags or [], _operator_env(home, operator))
    server = build_server(config, keys_factory=lambda: AsyncVeniceKeys(
        load_settings(environ=dict(settings_env))))
    async with Client(server) as client:
        yield client


def _ok(result: Any) -> dict[str, Any]:
    assert not result.is_error, result
    assert isinstance(result.structured_content, dict)
    return result.structured_content


def _refused(result: Any, rule: str) -> None:
    text = " ".join(getattr(b, "text", "") for b in result.content)
    assert result.is_error and f"rule: {rule}" in text, text


@pytest.mark.parametrize(("argv", "operator_env", "expected"), [
    ([PY, str(REPO / "mcp_server.py")], {"VENICE_MCP_ALLOW_WRITES": "1"}, READ_TOOLS | WRITE_TOOLS),
    ([str(VENV_BIN / "venice-keys-mcp")], {}, READ_TOOLS),
], ids=["python-mcp_server.py-writes-by-env", "venice-keys-mcp-read-only-default"])
async def test_mcp_entry_points_over_stdio(argv: list[str], operator_env: dict[str, str],
                                           expected: set[str], account: SandboxAccount,
                                           tmp_path: Path) -> None:
    from mcp import Client, StdioServerParameters
    from mcp.client.stdio import stdio_client

    env = clean_env({**account.env, **_operator_env(tmp_path, operator_env)})
    params = StdioServerParameters(command=argv[0], args=argv[1:], env=env, cwd=str(tmp_path))
    with (tmp_path / "stderr.log").open("w") as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert set(tools) == expected
            status = _ok(await client.call_tool("venice_wallet_status", {}))
            assert status["address"] == account.address and status["eligible"] is True
            other = _ok(await client.call_tool("venice_wallet_status", {"address": ADDR_A}))
            assert other["address"] == ADDR_A and other["eligible"] is False
            if expected == READ_TOOLS:
                _refused(await client.call_tool("venice_mint_key", {"description": "x"}),
                         "read_only")


async def test_mcp_tool_names_and_arguments(tmp_path: Path) -> None:
    async with mcp_inproc(tmp_path, {}, ["--allow-writes"]) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == set(MCP_ARGS) == READ_TOOLS | WRITE_TOOLS
    for name, args in MCP_ARGS.items():
        schema = tools[name].input_schema
        props = schema.get("properties", {})
        assert set(props) == args, (name, set(props) ^ args)
        assert set(schema.get("required", [])) <= MCP_REQUIRED.get(name, {"description"}), name
        assert MCP_REQUIRED.get(name, set()) <= set(schema.get("required", [])), name
        for arg in props:
            assert not FORBIDDEN_TOOL_ARG.search(arg) or arg == "api_key_type", (name, arg)
    for name in ("venice_mint_key", "venice_create_key"):
        props = tools[name].input_schema["properties"]
        assert props["api_key_type"]["enum"] == ["INFERENCE"]  # what the built-in policy allows
    update = tools["venice_update_key"].input_schema["properties"]
    for limit in ("usd_limit", "diem_limit"):  # a number, or null to remove the cap
        kinds = {branch.get("type") for branch in update[limit]["anyOf"]}
        assert kinds == {"number", "null"}, update[limit]
    assert update["remove_expiry"]["type"] == "boolean"


def _in(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_mcp_builtin_policy_numbers() -> None:
    from venice_web3_keys.mcp.policy import Policy

    built_in = Policy()
    assert built_in.allowed_key_types == frozenset({"INFERENCE"})
    assert built_in.require_spend_limit and built_in.require_expiry and built_in.own_keys_only
    assert (built_in.max_usd_limit, built_in.max_diem_limit) == (25, 25)
    assert built_in.max_lifetime_days == 30
    assert built_in.max_keys_per_hour == 10


async def test_mcp_builtin_policy_once_writes_are_allowed(account: SandboxAccount,
                                                         tmp_path: Path) -> None:
    ok_args = {"description": "p", "usd_limit": 25, "expires_at": "29d"}
    async with mcp_inproc(tmp_path, account.env, ["--allow-writes"]) as c:
        refusals = [
            ({**ok_args, "api_key_type": "ADMIN"}, "key_type"),
            ({"description": "p", "expires_at": "7d"}, "spend_limit_required"),
            ({**ok_args, "usd_limit": 25.01}, "max_usd_limit"),
            ({"description": "p", "diem_limit": 26, "expires_at": "7d"}, "max_diem_limit"),
            ({"description": "p", "usd_limit": 1}, "expiry_required"),
            ({**ok_args, "expires_at": _in(31)}, "max_lifetime"),
        ]
        for args, rule in refusals:
            _refused(await c.call_tool("venice_create_key", args), rule)
        # CLI WHEN forms are accepted for expires_at
        made = [_ok(await c.call_tool("venice_create_key", {**ok_args, "expires_at": when}))
                for when in ("29d", _in(29), (datetime.now(UTC) + timedelta(days=9)).date()
                             .isoformat(), "12h")]
        made.append(_ok(await c.call_tool("venice_create_key",
                                          {"description": "d", "diem_limit": 25,
                                           "expires_at": "30d"})))
        # update: null removes a cap (but a cap must stay); remove_expiry is refused by policy
        upd = _ok(await c.call_tool("venice_update_key", {"key_id": made[-1]["id"],
                                                          "usd_limit": 2, "diem_limit": None}))
        assert upd["consumption_limits"] == {"usd": 2, "diem": None}
        _refused(await c.call_tool("venice_update_key",
                                   {"key_id": made[-1]["id"], "remove_expiry": True}),
                 "expiry_required")
        # only keys this server made
        foreign = account.inference_key()
        foreign_id = next(k["id"] for k in _ok(await c.call_tool("venice_list_keys", {}))["keys"]
                          if k["last6"] == foreign[-6:])
        for tool in ("venice_update_key", "venice_rotate_key", "venice_revoke_key"):
            args = {"key_id": foreign_id, **({"description": "z"} if "update" in tool else {})}
            _refused(await c.call_tool(tool, args), "own_keys_only")
        # at most 10 per hour: mint, create and rotate count together
        rotated = _ok(await c.call_tool("venice_rotate_key", {"key_id": made[0]["id"]}))
        assert rotated["revoked_key_id"] == made[0]["id"]
        _ok(await c.call_tool("venice_mint_key", ok_args))
        while len(made) < 8:
            made.append(_ok(await c.call_tool("venice_create_key", ok_args)))
        for tool in ("venice_create_key", "venice_mint_key"):
            _refused(await c.call_tool(tool, ok_args), "keys_per_hour")
        _refused(await c.call_tool("venice_rotate_key", {"key_id": made[1]["id"]}),
                 "keys_per_hour")
        _ok(await c.call_tool("venice_revoke_key", {"key_id": made[1]["id"]}))


@pytest.mark.parametrize("reveal", [False, True], ids=["secrets-to-files", "reveal-opt-in"])
async def test_mcp_secrets_dir_and_reveal(reveal: bool, account: SandboxAccount,
                                          tmp_path: Path) -> None:
    operator = {"VENICE_MCP_REVEAL_SECRETS": "1"} if reveal else {}
    async with mcp_inproc(tmp_path, account.env, ["--allow-writes"], operator) as c:
        made = _ok(await c.call_tool("venice_create_key", {"description": "s", "usd_limit": 1,
                                                           "expires_at": "7d"}))
    secrets_dir = tmp_path / "secrets"
    assert stat.S_IMODE(secrets_dir.stat().st_mode) == 0o700
    secret_file = Path(made["secret_file"])
    assert secret_file.parent == secrets_dir.resolve()
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    secret = secret_file.read_text().strip()
    assert made["fingerprint"] == hashlib.sha256(secret.encode()).hexdigest()
    assert made["last6"] == secret[-6:]
    if reveal:
        assert made["secret"] == secret
    else:
        assert made.get("secret") is None and secret not in json.dumps(made)


# variable or flags -> OperatorConfig field: default, then the value it sets
MCP_OPERATOR: list[tuple[str, list[str], dict[str, str], str, Any, Any]] = [
    ("VENICE_MCP_ALLOW_WRITES=1", [], {"VENICE_MCP_ALLOW_WRITES": "1"}, "allow_writes",
     False, True),
    ("--allow-writes", ["--allow-writes"], {}, "allow_writes", False, True),
    ("VENICE_MCP_POLICY", [], {"VENICE_MCP_POLICY": "{tmp}/p.json"}, "policy.max_usd_limit",
     25, 5),
    ("--policy FILE", ["--policy", "{tmp}/p.json"], {}, "policy.max_usd_limit", 25, 5),
    ("VENICE_MCP_SECRETS_DIR", [], {"VENICE_MCP_SECRETS_DIR": "{tmp}/s"}, "secrets_dir",
     "{tmp}/.venice-keys/secrets", "{tmp}/s"),
    ("VENICE_MCP_REVEAL_SECRETS=1", [], {"VENICE_MCP_REVEAL_SECRETS": "1"}, "reveal_secrets",
     False, True),
    ("--http", ["--http"], {}, "transport", "stdio", "http"),
    ("--host H", ["--http", "--host", "0.0.0.0"], {}, "host", "127.0.0.1", "0.0.0.0"),
    ("--port P", ["--http", "--port", "8765"], {}, "port", 8000, 8765),
    ("VENICE_MCP_AUTH_TOKEN", [], {"VENICE_MCP_AUTH_TOKEN": "t" * 32}, "auth_token", None,
     "t" * 32),
]


def _config_value(config: Any, dotted: str) -> Any:
    value = config
    for part in dotted.split("."):
        value = getattr(value, part)
    if isinstance(value, SecretValue):
        return value.reveal()
    return str(value) if isinstance(value, Path) else value


@pytest.mark.parametrize(("name", "flags", "env", "attr", "default", "value"), MCP_OPERATOR,
                         ids=[row[0] for row in MCP_OPERATOR])
def test_mcp_operator_settings(name: str, flags: list[str], env: dict[str, str], attr: str,
                               default: Any, value: Any, tmp_path: Path) -> None:
    from venice_web3_keys.mcp.config import load_config

    def fill(v: Any) -> Any:
        return v.replace("{tmp}", str(tmp_path)) if isinstance(v, str) else v

    (tmp_path / "p.json").write_text(json.dumps({"max_usd_limit": 5}))
    base = {"HOME": str(tmp_path)}
    assert _config_value(load_config([], base), attr) == fill(default)
    configured = load_config([fill(f) for f in flags], {**base, **{k: fill(v)
                                                                   for k, v in env.items()}})
    assert _config_value(configured, attr) == fill(value)


def test_mcp_http_transport_and_token_rules(tmp_path: Path) -> None:
    from venice_web3_keys.errors import ConfigError
    from venice_web3_keys.mcp.config import load_config
    from venice_web3_keys.mcp.server import build_server, http_app

    home = {"HOME": str(tmp_path)}
    config = load_config(["--http"], home)
    app = http_app(build_server(config), config)
    assert [getattr(r, "path", None) for r in getattr(app, "routes", [])] == ["/mcp"]
    config.check_http()  # loopback without a token is fine
    for flags, env in ((["--http", "--host", "0.0.0.0"], {}),
                       (["--http"], {"VENICE_MCP_AUTH_TOKEN": "t" * 31})):
        with pytest.raises(ConfigError):
            load_config(flags, {**home, **env}).check_http()
    load_config(["--http", "--host", "0.0.0.0"],
                {**home, "VENICE_MCP_AUTH_TOKEN": "t" * 32}).check_http()
