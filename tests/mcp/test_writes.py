"""Write tools under the built-in policy, on every transport: each cap, the ownership rule,
human confirmation by elicitation, secrets to files only, the audit log, and a secret canary."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest

from tests.mcp.conftest import TOKEN, Operator, open_client
from tests.mcp.helpers import ALL_TOOLS, in_days, ok, outside_key, refused, text_of

TRANSPORTS = ["inproc", "stdio", "http"]


class Human:
    """Answers the server's confirmation questions from a script (default: yes)."""

    def __init__(self) -> None:
        self.answers: list[str] = []
        self.asked: list[str] = []

    async def __call__(self, context: Any, params: Any) -> types.ElicitResult:
        self.asked.append(params.message)
        answer = self.answers.pop(0) if self.answers else "yes"
        if answer == "yes":
            return types.ElicitResult(action="accept", content={"confirm": True})
        if answer == "no":
            return types.ElicitResult(action="accept", content={"confirm": False})
        return types.ElicitResult(action="decline")


def mint_args(**kw: Any) -> dict[str, Any]:
    args: dict[str, Any] = {"description": "agent key", "usd_limit": 10, "expires_at": "7d"}
    args.update(kw)
    return {k: v for k, v in args.items() if v is not None}


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_write_tools_under_policy(
    transport: str, operator: Operator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # in-process, the server's log records land here
    operator.flags.append("--allow-writes")
    operator.policy(
        {"max_keys_per_hour": 3, "tools": sorted(ALL_TOOLS - {"venice_billing_balance"})}
    )
    if transport == "http":
        operator.extra_env["VENICE_MCP_AUTH_TOKEN"] = TOKEN
    foreign = await outside_key(operator.account.env)
    human = Human()
    seen: list[str] = []

    async with open_client(
        transport,
        operator,
        elicitation_callback=human,
        token=TOKEN if transport == "http" else None,
    ) as run:
        c = run.client

        async def call(name: str, args: dict[str, Any]) -> types.CallToolResult:
            result = await c.call_tool(name, args)
            seen.append(text_of(result))
            return result

        names = {t.name for t in (await c.list_tools()).tools}
        assert names == ALL_TOOLS - {"venice_billing_balance"}

        # --- each cap refuses before anything is sent --------------------------------------
        refused(
            await call(
                "venice_create_key",
                {"api_key_type": "ADMIN", "description": "a", "usd_limit": 1, "expires_at": "1d"},
            ),
            "key_type",
        )
        refused(await call("venice_mint_key", mint_args(usd_limit=None)), "spend_limit_required")
        refused(await call("venice_mint_key", mint_args(usd_limit=26)), "max_usd_limit")
        refused(
            await call("venice_mint_key", mint_args(usd_limit=None, diem_limit=25.5)),
            "max_diem_limit",
        )
        refused(await call("venice_mint_key", mint_args(expires_at=None)), "expiry_required")
        refused(await call("venice_mint_key", mint_args(expires_at="31d")), "max_lifetime")
        assert not list(operator.secrets_dir.glob("*")) if operator.secrets_dir.exists() else True

        # --- mint and create: secret to a 0600 file, never in the result --------------------
        minted = ok(await call("venice_mint_key", mint_args(usd_limit=25, expires_at="30d")))
        assert minted["secret"] is None and minted["description"] == "[mcp] agent key"
        secret_file = Path(minted["secret_file"])
        assert secret_file.parent == operator.secrets_dir.resolve()
        assert stat.S_IMODE(os.stat(secret_file.parent).st_mode) == 0o700
        assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600
        minted_secret = secret_file.read_text().strip()
        assert minted_secret.endswith(minted["last6"])

        created = ok(
            await call(
                "venice_create_key",
                {
                    "api_key_type": "INFERENCE",
                    "description": "worker",
                    "diem_limit": 5,
                    "expires_at": in_days(20),
                    "limit_period": "MONTH",
                    "model_privacy": "PRIVATE_ONLY",
                },
            )
        )
        assert created["secret_file"] != minted["secret_file"]
        created_secret = Path(created["secret_file"]).read_text().strip()
        got = ok(await call("venice_get_key", {"key_id": created["id"]}))
        assert got["made_by_this_server"] and got["limit_period"] == "MONTH"

        # --- update keeps caps ------------------------------------------------------------
        kid = minted["id"]
        refused(await call("venice_update_key", {"key_id": kid, "usd_limit": 30}), "max_usd_limit")
        refused(
            await call("venice_update_key", {"key_id": kid, "usd_limit": None}),
            "spend_limit_required",
        )
        refused(
            await call("venice_update_key", {"key_id": kid, "remove_expiry": True}),
            "expiry_required",
        )
        refused(
            await call("venice_update_key", {"key_id": kid, "expires_at": "45d"}), "max_lifetime"
        )
        updated = ok(
            await call(
                "venice_update_key", {"key_id": kid, "usd_limit": 20, "description": "renamed"}
            )
        )
        assert updated["consumption_limits"]["usd"] == 20
        assert updated["description"] == "[mcp] renamed" and updated["made_by_this_server"]

        # --- ownership: a key made elsewhere is off limits -----------------------------------
        asked_before = len(human.asked)
        for name, args in (
            ("venice_update_key", {"key_id": foreign, "usd_limit": 1}),
            ("venice_revoke_key", {"key_id": foreign}),
            ("venice_rotate_key", {"key_id": foreign}),
        ):
            refused(await call(name, args), "own_keys_only")
        assert len(human.asked) == asked_before  # refused before any human is bothered
        assert ok(await call("venice_get_key", {"key_id": foreign}))["id"] == foreign

        # --- rotate (3rd key this hour), then the hourly cap -------------------------------
        rotated = ok(await call("venice_rotate_key", {"key_id": created["id"]}))
        assert rotated["revoked_key_id"] == created["id"]
        new = rotated["new_key"]
        assert new["id"] != created["id"] and new["description"] == "[mcp] worker"
        rotated_secret = Path(new["secret_file"]).read_text().strip()
        refused(await call("venice_mint_key", mint_args()), "keys_per_hour")
        assert (await call("venice_get_key", {"key_id": created["id"]})).is_error

        # --- revoke: the human says no, then yes -------------------------------------------
        human.answers = ["decline", "no"]
        refused(await call("venice_revoke_key", {"key_id": kid}), "human_confirmation")
        refused(await call("venice_revoke_key", {"key_id": kid}), "human_confirmation")
        assert ok(await call("venice_get_key", {"key_id": kid}))["id"] == kid
        assert ok(await call("venice_revoke_key", {"key_id": kid})) == {
            "revoked_key_id": kid,
            "revoked": True,
        }
        assert (await call("venice_get_key", {"key_id": kid})).is_error
        assert any("REVOKE" in q and minted["last6"] in q for q in human.asked)
        assert len(human.asked) == 5  # update, rotate, revoke x3; mint/create ask nobody

        stderr = run.stderr()

    # --- audit: every write call, masked, with outcome and key ids --------------------------
    audit = operator.audit_lines()
    outcomes = [(e["tool"], e["outcome"], e.get("rule")) for e in audit]
    assert ("venice_mint_key", "ok", None) in outcomes
    assert ("venice_rotate_key", "ok", None) in outcomes
    assert ("venice_revoke_key", "refused", "human_confirmation") in outcomes
    assert ("venice_update_key", "refused", "own_keys_only") in outcomes
    assert sum(1 for e in audit if e.get("made_key")) == 3
    assert {e["new_key_id"] for e in audit if e.get("made_key")} == {
        minted["id"],
        created["id"],
        new["id"],
    }
    assert all(e["time"].endswith("Z") and "arguments" in e for e in audit)
    assert stat.S_IMODE(os.stat(operator.audit_path).st_mode) == 0o600

    # --- canary: no secret in any result, the server's stderr, or the audit log ------------
    secrets = [minted_secret, created_secret, rotated_secret, TOKEN, *operator.account.secrets()]
    haystacks = {
        "results": "\n".join(seen),
        "stderr": stderr,
        "audit": operator.audit_path.read_text(),
    }
    for where, text in haystacks.items():
        for secret in secrets:
            assert secret not in text, f"a secret leaked into {where}"
