"""What an agent meets in daily use: one refusal for every rule a call breaks, when the next key
is allowed, schemas that offer only what the policy allows, the CLI's next-step hints on tool
errors, and secret files named after their key (the old one removed by a rotation)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.mcp.conftest import Operator, new_account, open_client
from tests.mcp.helpers import ok, refused, text_of
from venice_web3_keys import errors
from venice_web3_keys.cli.failures import CLI_STEPS
from venice_web3_keys.hints import next_step
from venice_web3_keys.mcp.outcomes import MCP_STEPS
from venice_web3_keys.secret import ApiKeySecret
from venice_web3_keys.sinks import KeyDirectorySink

MINT = {"description": "daily", "usd_limit": 5, "expires_at": "7d"}
GHOST = "00000000-0000-4000-8000-000000000000"


async def test_a_refusal_lists_every_rule_the_call_breaks(operator: Operator) -> None:
    operator.flags.append("--allow-writes")
    async with open_client("inproc", operator) as run:
        c = run.client
        text = refused(
            await c.call_tool("venice_create_key", {"api_key_type": "ADMIN", "description": "x",
                                                    "usd_limit": 100, "limit_period": "EPOCH"}),
            "key_type",
        )
        for rule in ("max_usd_limit", "limit_period", "expiry_required"):
            assert f"rule: {rule}" in text, text
        kid = ok(await c.call_tool("venice_mint_key", MINT))["id"]
        text = refused(
            await c.call_tool("venice_update_key", {"key_id": kid, "usd_limit": None,
                                                    "remove_expiry": True,
                                                    "limit_period": "EPOCH"}),
            "spend_limit_required",
        )
        for rule in ("limit_period", "expiry_required"):
            assert f"rule: {rule}" in text, text
    refusals = [e for e in operator.audit_lines() if e["outcome"] == "refused"]
    assert refusals[0]["rules"] == ["key_type", "max_usd_limit", "limit_period",
                                    "expiry_required"]


async def test_the_hourly_cap_says_when_the_next_key_is_allowed(operator: Operator) -> None:
    operator.flags.append("--allow-writes")
    operator.policy({"max_keys_per_hour": 2})
    async with open_client("inproc", operator) as run:
        ok(await run.client.call_tool("venice_mint_key", MINT))
        ok(await run.client.call_tool("venice_mint_key", MINT))
        text = refused(await run.client.call_tool("venice_mint_key", MINT), "keys_per_hour")
    first = min(datetime.fromisoformat(e["time"].replace("Z", "+00:00"))
                for e in operator.audit_lines() if e.get("made_key"))
    match = re.search(r"next key is allowed at (\S+Z)", text)
    assert match, text
    next_at = datetime.fromisoformat(match.group(1).replace("Z", "+00:00"))
    assert abs(next_at - (first + timedelta(hours=1))) < timedelta(seconds=1)


def new_key_schema(tools: dict[str, Any], name: str) -> dict[str, Any]:
    return dict(tools[name].input_schema["properties"])


def enum_of(prop: dict[str, Any]) -> list[str]:
    branches = [prop, *prop.get("anyOf", [])]
    return next(b["enum"] for b in branches if "enum" in b)


def maximum_of(prop: dict[str, Any]) -> float:
    branches = [prop, *prop.get("anyOf", [])]
    return float(next(b["maximum"] for b in branches if b.get("type") == "number"))


@pytest.mark.parametrize(
    ("policy", "types", "periods", "cap"),
    [
        ({}, ["INFERENCE"], ["MONTH", "LIFETIME"], 25),
        ({"allowed_key_types": ["INFERENCE", "ADMIN"], "max_usd_limit": None,
          "allowed_limit_periods": ["EPOCH", "MONTH"]},
         ["INFERENCE", "ADMIN"], ["EPOCH", "MONTH"], 9_999_999_999),
    ],
    ids=["built-in", "widened"],
)
async def test_schemas_offer_only_what_the_policy_allows(
    operator: Operator, policy: dict[str, Any], types: list[str], periods: list[str], cap: float
) -> None:
    operator.flags.append("--allow-writes")
    operator.policy(policy)
    async with open_client("inproc", operator) as run:
        tools = {t.name: t for t in (await run.client.list_tools()).tools}
        for name in ("venice_mint_key", "venice_create_key"):
            props = new_key_schema(tools, name)
            assert enum_of(props["api_key_type"]) == types, name
            assert enum_of(props["limit_period"]) == periods, name
            assert maximum_of(props["usd_limit"]) == cap
            assert maximum_of(props["diem_limit"]) == 25
        update = new_key_schema(tools, "venice_update_key")
        assert enum_of(update["limit_period"]) == periods
        assert maximum_of(update["usd_limit"]) == cap
        if "ADMIN" not in types:
            # A value the schema does not offer still gets the policy's answer, with its rule.
            refused(await run.client.call_tool(
                "venice_create_key", {**MINT, "api_key_type": "ADMIN"}), "key_type")


async def test_tool_errors_carry_the_clis_next_step(operator: Operator,
                                                    venice_sandbox: Any) -> None:
    async with open_client("inproc", operator) as run:
        missing = await run.client.call_tool("venice_get_key", {"key_id": GHOST})
    assert missing.is_error
    assert "Next step: check the id with venice_list_keys" in text_of(missing)

    poor = Operator(home=operator.home / "poor", account=new_account(venice_sandbox))
    poor.home.mkdir()
    _address, private_key = venice_sandbox.new_wallet(svvv=0)
    poor.account.env.update(venice_sandbox.env(private_key))
    poor.flags.append("--allow-writes")
    async with open_client("inproc", poor) as run:
        unstaked = await run.client.call_tool("venice_mint_key", MINT)
    text = text_of(unstaked)
    assert unstaked.is_error and "NotEligibleError" in text, text
    assert "Next step: check the balances with venice_wallet_status." in text  # as the CLI


@pytest.mark.parametrize("exc", [
    errors.NotEligibleError("no sVVV"),
    errors.NotEligibleError("no sVVV", address="0x" + "11" * 20, staked=0),
    errors.MissingCredentialsError("listing keys needs an ADMIN key", credential="admin_key"),
    errors.CredentialsRequiredError("402"),
    errors.AdminKeyRequiredError("401"),
    errors.AuthenticationError("401"),
    errors.KeyNotFoundError("gone"),
    errors.WrongChainError("x", expected=8453, actual=1),
    errors.ChainUnreachableError("down"),
    errors.WalletError("none"),
    errors.KeystorePasswordError("wrong password"),
    errors.MissingCredentialsError("minting needs a wallet", credential="wallet"),
    errors.UntrustedSigningHostError("relay", api_host="relay.example"),
    errors.DeliveryFailedError("lost", key_id="00000000-0000-4000-8000-000000000001",
                               revoked=False),
    errors.RateLimitError("slow down", retry_after=3),
    errors.ActiveKeyLimitError("500"),
    errors.PaymentRequiredError("402"),
    errors.SinkError("disk"),
    errors.UnsafeSigningRequestError("spoof"),
    errors.InsufficientGasError("no ETH", needed=2, available=1),
    errors.NotEligibleError("unstaked", address="0x" + "11" * 20, staked=0, unstaked=5),
    errors.AmountExceedsBalanceError("too much", amount=2, balance=1),
    errors.SimulationRevertedError("reverted", step="stake", reason="x"),
    errors.TransactionTimeoutError("slow", tx_hash="0x" + "ab" * 32, pending=True),
], ids=lambda exc: f"{type(exc).__name__}-{str(exc)[:12]}")
def test_the_cli_and_the_mcp_server_advise_the_same_next_step(exc: Exception) -> None:
    kw = {"staking_contract": "0x321b7ff75154472B18EDb199033fF4D116F340Ff",
          "api_base": "https://api.venice.ai/api/v1"}
    cli, mcp = next_step(exc, CLI_STEPS, **kw), next_step(exc, MCP_STEPS, **kw)
    assert cli and mcp
    assert "venice-keys" not in mcp and "--" not in mcp  # no CLI command or flag for an agent


async def test_secret_files_are_named_after_their_key_and_rotation_removes_the_old_one(
    operator: Operator,
) -> None:
    operator.flags.append("--allow-writes")
    async with open_client("inproc", operator) as run:
        c = run.client
        minted = ok(await c.call_tool("venice_mint_key", MINT))
        created = ok(await c.call_tool("venice_create_key", MINT))
        for made in (minted, created):
            assert Path(made["secret_file"]).name == f"{made['id']}.key"
        rotated = ok(await c.call_tool("venice_rotate_key", {"key_id": minted["id"]}))
    old_file = Path(minted["secret_file"])
    new_file = Path(rotated["new_key"]["secret_file"])
    assert rotated["removed_secret_file"] == str(old_file) and not old_file.exists()
    assert new_file.name == f"{rotated['new_key']['id']}.key" and new_file.exists()
    assert Path(created["secret_file"]).exists()  # only the revoked key's file goes
    assert sorted(p.name for p in operator.secrets_dir.iterdir()) == sorted(
        [new_file.name, Path(created["secret_file"]).name]
    )  # no placeholder left behind


@pytest.mark.parametrize("key_id", ["../../escaped", "/tmp/absolute", "x" * 300, ""])
def test_a_server_chosen_key_id_never_becomes_a_path(tmp_path: Path, key_id: str) -> None:
    secrets = tmp_path / "secrets"
    sink = KeyDirectorySink(secrets)
    sink.prepare()
    secret = ApiKeySecret("VENICE_INFERENCE_KEY_" + "q" * 40)
    receipt = sink.deliver(secret, key_id=key_id)
    (stored,) = list(secrets.iterdir())
    assert receipt.location == str(stored) and stored.read_text().strip() == secret.reveal()
    assert {p.name for p in tmp_path.iterdir()} == {"secrets"}
    assert json.dumps(receipt.location).count("escaped") == 0
