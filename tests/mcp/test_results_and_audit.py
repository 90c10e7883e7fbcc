"""Typed results of venice_rate_limits / venice_billing_balance (documented schema in snake_case,
tolerant of fields Venice adds later), and the audit of write calls the input schema rejects."""

from __future__ import annotations

from typing import Any

import pytest

from tests.mcp.conftest import Operator, open_client
from tests.mcp.helpers import ok, text_of

RATE_LIMIT_FIELDS = {
    "access_permitted",
    "api_tier",
    "balances",
    "key_expiration",
    "next_epoch_begins",
    "rate_limits",
}
BILLING_FIELDS = {"can_consume", "consumption_currency", "balances", "diem_epoch_allocation"}


def _documented(schema: dict[str, Any], fields: set[str]) -> None:
    props = schema["properties"]
    assert fields <= set(props), set(props)
    for name in fields:
        assert props[name].get("description"), name
    assert schema.get("additionalProperties") is True  # new Venice fields pass through


@pytest.mark.parametrize("transport", ["inproc", "stdio"])
async def test_limits_and_balance_results_are_typed(
    transport: str, operator: Operator, venice_sandbox: Any
) -> None:
    async with open_client(transport, operator) as run:
        c = run.client
        tools = {t.name: t for t in (await c.list_tools()).tools}
        limits_schema = tools["venice_rate_limits"].output_schema
        billing_schema = tools["venice_billing_balance"].output_schema
        assert limits_schema is not None and billing_schema is not None
        _documented(limits_schema, RATE_LIMIT_FIELDS)
        _documented(billing_schema, BILLING_FIELDS)
        nested = billing_schema["$defs"]["BillingBalancesView"]["properties"]
        assert {"usd", "diem", "bundled_credits", "earned_credits"} <= set(nested)

        # The sandbox's real answers (the client validates them against the output schema).
        limits = ok(await c.call_tool("venice_rate_limits", {}))
        assert set(limits) >= RATE_LIMIT_FIELDS
        assert limits["access_permitted"] is True and limits["api_tier"]["id"] == "paid"
        assert isinstance(limits["balances"]["USD"], float)
        per_model = limits["rate_limits"]
        assert per_model and {"api_model_id", "rate_limits"} <= set(per_model[0])
        balance = ok(await c.call_tool("venice_billing_balance", {}))
        assert set(balance) >= BILLING_FIELDS and isinstance(balance["can_consume"], bool)
        assert set(balance["balances"]) >= {"usd", "diem", "bundled_credits", "earned_credits"}

        # Venice adds fields: they are passed through, not refused or dropped.
        from venice_web3_keys.sandbox.emulator.faults import Fault

        venice_sandbox.emulator.faults.add(
            "GET /api_keys/rate_limits",
            Fault(
                status=200,
                body={
                    "data": {
                        "accessPermitted": False,
                        "apiTier": {"id": "free", "isCharged": False, "promo": "x"},
                        "balances": {"USD": 0, "VCU": 1.5},
                        "keyExpiration": None,
                        "nextEpochBegins": "2030-01-02T00:00:00.000Z",
                        "rateLimits": [
                            {"apiModelId": "m", "rateLimits": [{"amount": 5, "type": "RPM"}]}
                        ],
                        "burstCredits": {"left": 3},
                    }
                },
            ),
        )
        venice_sandbox.emulator.faults.add(
            "GET /billing/balance",
            Fault(
                status=200,
                body={
                    "canConsume": True,
                    "consumptionCurrency": "EARNED_CREDITS",
                    "balances": {"usd": None, "diem": None, "earnedCredits": 2, "gift": 1},
                    "diemEpochAllocation": 0,
                    "region": "eu",
                },
            ),
        )
        odd = ok(await c.call_tool("venice_rate_limits", {}))
        assert odd["access_permitted"] is False and odd["burst_credits"] == {"left": 3}
        assert odd["api_tier"]["promo"] == "x" and odd["balances"]["VCU"] == 1.5
        odd_balance = ok(await c.call_tool("venice_billing_balance", {}))
        assert odd_balance["region"] == "eu" and odd_balance["balances"]["gift"] == 1
        assert odd_balance["balances"]["earned_credits"] == 2


@pytest.mark.parametrize("transport", ["inproc", "stdio"])
async def test_malformed_write_calls_are_audited(transport: str, operator: Operator) -> None:
    operator.flags.append("--allow-writes")
    canary = "0x" + "ab" * 32  # shaped like a private key
    async with open_client(transport, operator) as run:
        c = run.client
        bad_mint = await c.call_tool(
            "venice_mint_key",
            {
                "description": "d" * 5000,
                "api_key_type": "ROOT",
                "usd_limit": "lots",
                "expires_at": "7d",
                "private_key": canary,
            },
        )
        bad_revoke = await c.call_tool("venice_revoke_key", {"key_id": f"not-a-uuid {canary}"})
        bad_update = await c.call_tool("venice_update_key", {})
        bad_read = await c.call_tool("venice_get_key", {"key_id": "nope"})  # reads: not audited
        for result in (bad_mint, bad_revoke, bad_update, bad_read):
            assert result.is_error
            assert "Refused by operator policy" not in text_of(result)
    lines = operator.audit_lines()
    assert [(e["tool"], e["outcome"]) for e in lines] == [
        ("venice_mint_key", "invalid"),
        ("venice_revoke_key", "invalid"),
        ("venice_update_key", "invalid"),
    ]
    mint, revoke, update = lines
    assert mint["invalid_fields"] == ["api_key_type", "description", "usd_limit"]
    assert mint["error_type"] == "invalid_arguments" and "made_key" not in mint
    assert len(mint["arguments"]["description"]) < 300  # long values are truncated
    assert revoke["invalid_fields"] == ["key_id"] and update["invalid_fields"] == ["key_id"]
    raw = operator.audit_path.read_text()
    assert canary not in raw and canary[2:] not in raw
    assert not operator.secrets_dir.exists() or not list(operator.secrets_dir.iterdir())
