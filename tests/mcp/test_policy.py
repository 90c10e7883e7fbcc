"""Policy details (in-process, real client): persistence of the hourly cap, reveal opt-in,
confirmation modes, a widening policy file, fail-closed policy parsing, schemas, lazy imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest

from tests.mcp.conftest import REPO, Operator, open_client
from tests.mcp.helpers import ALL_TOOLS, ok, outside_key, refused, text_of
from venice_web3_keys.errors import ConfigError
from venice_web3_keys.mcp.config import load_config
from venice_web3_keys.mcp.policy import load_policy

MINT = {"description": "k", "usd_limit": 1, "expires_at": "1d"}


async def test_hourly_cap_survives_a_restart(operator: Operator) -> None:
    operator.flags.append("--allow-writes")
    operator.policy({"max_keys_per_hour": 2})
    async with open_client("inproc", operator) as run:
        ok(await run.client.call_tool("venice_mint_key", MINT))
        ok(await run.client.call_tool("venice_create_key", {"api_key_type": "INFERENCE", **MINT}))
        refused(await run.client.call_tool("venice_mint_key", MINT), "keys_per_hour")
    async with open_client("inproc", operator) as run:  # a fresh server, same audit log
        refused(await run.client.call_tool("venice_mint_key", MINT), "keys_per_hour")
    # lines older than an hour no longer count
    lines = operator.audit_path.read_text().splitlines()
    aged = [json.dumps(dict(json.loads(x), time="2000-01-01T00:00:00.000Z")) for x in lines]
    operator.audit_path.write_text("\n".join(aged) + "\n")
    async with open_client("inproc", operator) as run:
        ok(await run.client.call_tool("venice_mint_key", MINT))


async def test_reveal_is_an_explicit_operator_opt_in(operator: Operator) -> None:
    operator.flags.append("--allow-writes")
    async with open_client("inproc", operator) as run:
        hidden = ok(await run.client.call_tool("venice_mint_key", MINT))
        assert hidden["secret"] is None
        assert Path(hidden["secret_file"]).read_text().strip() not in text_of(
            await run.client.call_tool("venice_get_key", {"key_id": hidden["id"]})
        )
    operator.extra_env["VENICE_MCP_REVEAL_SECRETS"] = "1"
    async with open_client("inproc", operator) as run:
        shown = ok(await run.client.call_tool("venice_mint_key", MINT))
        assert shown["secret"] == Path(shown["secret_file"]).read_text().strip()
        assert shown["secret"].endswith(shown["last6"])


async def test_confirmation_modes(operator: Operator) -> None:
    operator.flags.append("--allow-writes")
    asked: list[str] = []

    async def human(context: Any, params: Any) -> types.ElicitResult:
        asked.append(params.message)
        return types.ElicitResult(action="accept", content={"confirm": True})

    async with open_client("inproc", operator) as run:
        kid = ok(await run.client.call_tool("venice_mint_key", MINT))["id"]
    operator.policy({"confirm": "required"})
    async with open_client("inproc", operator) as run:  # this client cannot elicit
        refused(
            await run.client.call_tool("venice_revoke_key", {"key_id": kid}), "human_confirmation"
        )
    operator.policy({"confirm": "off"})
    async with open_client("inproc", operator, elicitation_callback=human) as run:
        ok(await run.client.call_tool("venice_update_key", {"key_id": kid, "usd_limit": 2}))
    assert asked == []
    operator.policy({"confirm": "required", "confirm_tools": ["venice_mint_key"]})
    async with open_client("inproc", operator, elicitation_callback=human) as run:
        ok(await run.client.call_tool("venice_mint_key", MINT))
        ok(await run.client.call_tool("venice_revoke_key", {"key_id": kid}))
    assert len(asked) == 1 and "new INFERENCE" in asked[0]


async def test_a_toml_policy_can_widen(operator: Operator) -> None:
    operator.flags.append("--allow-writes")
    foreign = await outside_key(operator.account.env)
    operator.policy(
        {
            "_toml": "own_keys_only = false\nmax_usd_limit = 1000\n"
            'allowed_key_types = ["INFERENCE", "ADMIN"]\n'
        },
        "policy.toml",
    )
    async with open_client("inproc", operator) as run:
        updated = ok(
            await run.client.call_tool("venice_update_key", {"key_id": foreign, "usd_limit": 500})
        )
        assert updated["consumption_limits"]["usd"] == 500
        assert updated["made_by_this_server"] is False
        admin = ok(
            await run.client.call_tool(
                "venice_create_key",
                {"api_key_type": "ADMIN", "description": "ops", "usd_limit": 1, "expires_at": "2d"},
            )
        )
        assert admin["api_key_type"] == "ADMIN"


@pytest.mark.parametrize(
    "content",
    [
        '{"max_usd_limit": 5, "allow_everything": true}',  # unknown setting
        '{"tools": ["venice_mint_key", "venice_drain_wallet"]}',  # unknown tool
        '{"max_usd_limit": "lots"}',
        '{"confirm": "sometimes"}',
        "[1, 2]",
        "not json",
    ],
)
def test_a_bad_policy_file_fails_closed(tmp_path: Path, content: str) -> None:
    path = tmp_path / "p.json"
    path.write_text(content)
    with pytest.raises(ConfigError):
        load_policy(path)
    with pytest.raises(ConfigError):
        load_config(["--policy", str(path)], {})


def test_operator_settings_come_from_env_and_flags_only(tmp_path: Path) -> None:
    cfg = load_config([], {"HOME": str(tmp_path)})
    assert not cfg.allow_writes and not cfg.reveal_secrets and cfg.host == "127.0.0.1"
    assert cfg.secrets_dir == tmp_path / ".venice-keys" / "secrets"
    assert cfg.audit_log.parent == tmp_path / ".venice-keys"
    assert load_config([], {"VENICE_MCP_ALLOW_WRITES": "1"}).allow_writes
    assert load_config(["--allow-writes"], {}).allow_writes


async def test_schemas_are_typed_and_take_no_secrets(operator: Operator) -> None:
    operator.flags.append("--allow-writes")
    async with open_client("inproc", operator) as run:
        tools = {t.name: t for t in (await run.client.list_tools()).tools}
    assert set(tools) == ALL_TOOLS
    props = {n: t.input_schema.get("properties", {}) for n, t in tools.items()}
    new_key_args = {
        "api_key_type",
        "description",
        "expires_at",
        "usd_limit",
        "diem_limit",
        "limit_period",
        "model_privacy",
    }
    assert set(props["venice_mint_key"]) == new_key_args
    assert set(props["venice_create_key"]) == new_key_args
    assert set(props["venice_update_key"]) == {
        "key_id",
        "description",
        "expires_at",
        "remove_expiry",
        "usd_limit",
        "diem_limit",
        "limit_period",
        "model_privacy",
    }
    for name in ("venice_get_key", "venice_revoke_key", "venice_rotate_key"):
        assert set(props[name]) == {"key_id"}
        assert props[name]["key_id"]["pattern"].startswith("^[0-9a-fA-F]{8}")
    assert set(props["venice_wallet_status"]) == {"address"}
    schema = json.dumps(props["venice_mint_key"])
    assert '"INFERENCE"' in schema and '"PRIVATE_ONLY"' in schema and '"LIFETIME"' in schema
    assert '"maximum": 9999999999' in schema and '"maxLength": 58' in schema
    everything = json.dumps(props).lower()
    for forbidden in ("private_key", "admin_key", "password", "policy", "reveal", "confirm"):
        assert forbidden not in everything
    for tool in tools.values():
        assert tool.output_schema and len(tool.description or "") > 80


def test_initialize_does_not_import_web3() -> None:
    script = (
        "import sys, anyio\n"
        "from mcp import Client\n"
        "from venice_web3_keys.mcp.config import load_config\n"
        "from venice_web3_keys.mcp.server import build_server\n"
        "async def main():\n"
        "    async with Client(build_server(load_config(['--allow-writes'], {}))) as c:\n"
        "        assert len((await c.list_tools()).tools) == 12\n"
        "anyio.run(main)\n"
        "heavy = [m for m in ('web3', 'eth_account', 'eth_keyfile', 'venice_web3_keys.api')"
        " if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_shipped_examples_are_valid() -> None:
    examples = REPO / "examples" / "mcp"
    policy = load_policy(examples / "policy.toml")
    assert policy.max_usd_limit == 25 and policy.tools is not None
    for path in examples.glob("*.json"):
        servers = json.loads(path.read_text())["mcpServers"]
        entry = servers["venice-keys"]
        assert entry.get("command", "").endswith("venice-keys-mcp") or entry["url"].endswith("/mcp")
        flat = json.dumps(entry).lower()
        assert "private_key" not in flat and "admin_key" not in flat  # secrets stay in .env
