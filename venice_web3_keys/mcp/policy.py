"""Operator guardrails for the MCP server: the policy file, the caps, and how refusals read.

Every setting here comes from the operator (environment, flags, policy file), never from a tool
argument. A refusal names its rule and says that only the operator can change it; it never says how.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from venice_web3_keys.amounts import decimal_str
from venice_web3_keys.errors import ConfigError, PolicyError
from venice_web3_keys.mcp.catalog import ALL_TOOLS, CONFIRMED_BY_DEFAULT, PolicyScope
from venice_web3_keys.validation import MAX_DESCRIPTION

# Marks keys this server made; it counts toward Venice's description limit.
OWNER_MARKER = "[mcp] "
DESCRIPTION_MAX = MAX_DESCRIPTION

ConfirmMode = Literal["auto", "required", "off"]


def refusal(rule: str, detail: str) -> PolicyError:
    """A PolicyError whose message names the rule and who may change it."""
    return PolicyError(
        f"Refused by operator policy (rule: {rule}). {detail} "
        "This guardrail is set by the operator of this MCP server; the agent cannot change it, "
        "and no tool argument overrides it. Ask the human operator if the action is really needed.",
        rule=rule,
    )


@dataclass(frozen=True)
class Policy:
    """What an agent may do once writes are allowed. Defaults are the built-in safe policy."""

    tools: frozenset[str] | None = None  # allow-list; None = every tool
    allowed_key_types: frozenset[str] = frozenset({"INFERENCE"})
    require_spend_limit: bool = True
    max_usd_limit: float | None = 25.0
    max_diem_limit: float | None = 25.0
    require_expiry: bool = True
    max_lifetime_days: float | None = 30.0
    max_keys_per_hour: int | None = 10
    own_keys_only: bool = True
    confirm: ConfirmMode = "auto"
    confirm_tools: frozenset[str] = CONFIRMED_BY_DEFAULT
    # Most VVV one stake may move; 0 (built in) refuses every stake. No "unlimited" value.
    max_stake_vvv: Decimal = Decimal(0)
    source: str = field(default="built-in", compare=False)

    # --- registration ---------------------------------------------------------------------
    def tool_allowed(self, name: str) -> bool:
        return self.tools is None or name in self.tools

    # --- caps on new keys -----------------------------------------------------------------
    def check_new_key(
        self,
        *,
        api_key_type: str,
        usd_limit: float | None,
        diem_limit: float | None,
        expires_at: str | None,
        now: datetime | None = None,
    ) -> None:
        """Refuse a mint/create whose settings exceed the policy (before anything is sent)."""
        if api_key_type not in self.allowed_key_types:
            allowed = ", ".join(sorted(self.allowed_key_types)) or "none"
            raise refusal(
                "key_type", f"Key type {api_key_type} is not allowed (allowed: {allowed})."
            )
        self.check_limits(usd_limit=usd_limit, diem_limit=diem_limit)
        self.check_expiry(expires_at, now=now)

    def check_limits(self, *, usd_limit: float | None, diem_limit: float | None) -> None:
        if self.require_spend_limit and usd_limit is None and diem_limit is None:
            raise refusal(
                "spend_limit_required",
                "A new or updated key must keep a spend limit: set usd_limit and/or diem_limit.",
            )
        for name, value, cap in (
            ("usd_limit", usd_limit, self.max_usd_limit),
            ("diem_limit", diem_limit, self.max_diem_limit),
        ):
            if cap is not None and value is not None and value > cap:
                raise refusal(f"max_{name}", f"{name} may be at most {cap:g}.")

    def check_expiry(self, expires_at: str | None, *, now: datetime | None = None) -> None:
        """`expires_at` is the normalised Venice form ("YYYY-MM-DD" or ISO UTC), or None."""
        if expires_at is None:
            if self.require_expiry:
                raise refusal("expiry_required", "A key made or updated here must have an expiry.")
            return
        if self.max_lifetime_days is None:
            return
        when = parse_venice_time(expires_at)
        limit = (now or datetime.now(UTC)) + timedelta(days=self.max_lifetime_days)
        if when > limit:
            raise refusal(
                "max_lifetime",
                f"expires_at may be at most {self.max_lifetime_days:g} days from now.",
            )

    def check_rate(self, made_last_hour: int) -> None:
        if self.max_keys_per_hour is not None and made_last_hour >= self.max_keys_per_hour:
            raise refusal(
                "keys_per_hour",
                f"At most {self.max_keys_per_hour} keys may be made per hour "
                f"({made_last_hour} in the last hour). Try again later.",
            )

    def check_stake(self, amount: Decimal) -> None:
        """Refuse a stake the policy does not allow (before anything is read or signed)."""
        if self.max_stake_vvv <= 0:
            raise refusal("max_stake_vvv", "Staking from this server's wallet is not enabled.")
        if amount > self.max_stake_vvv:
            raise refusal("max_stake_vvv",
                          f"A stake may move at most {decimal_str(self.max_stake_vvv)} VVV.")

    def check_owned(self, tool: str, key_id: str, description: str | None) -> None:
        if self.own_keys_only and not is_owned(description):
            raise refusal(
                "own_keys_only",
                f"{tool} may only act on keys this server made; key {key_id} was not made here.",
            )

    def summary(self, scope: PolicyScope = "all") -> str:
        """The rules bearing on `scope`, for instructions and tool descriptions (no off-switch)."""
        new = scope in ("all", "new_key")
        caps = new or scope == "update"
        parts: list[str] = []
        if new:
            parts.append(f"key types: {', '.join(sorted(self.allowed_key_types)) or 'none'}")
        if caps:
            if self.require_spend_limit:
                parts.append("usd_limit and/or diem_limit required")
            for name, cap in (
                ("usd_limit", self.max_usd_limit),
                ("diem_limit", self.max_diem_limit),
            ):
                if cap is not None:
                    parts.append(f"{name} <= {cap:g}")
            if self.require_expiry:
                parts.append("expires_at required")
            if self.max_lifetime_days is not None:
                parts.append(f"expires_at at most {self.max_lifetime_days:g} days ahead")
        if (new or scope == "rotate") and self.max_keys_per_hour is not None:
            parts.append(
                f"at most {self.max_keys_per_hour} new keys per hour (mint, create, rotate)"
            )
        if scope in ("all", "update", "revoke", "rotate") and self.own_keys_only:
            parts.append("update/rotate/revoke only keys this server made")
        if scope in ("all", "stake"):
            parts.append(f"at most {decimal_str(self.max_stake_vvv)} VVV per stake, each "
                         "confirmed by the human" if self.max_stake_vvv > 0
                         else "staking is not enabled on this server")
        return "; ".join(parts) or "no extra rules"


def is_owned(description: str | None) -> bool:
    return bool(description) and str(description).startswith(OWNER_MARKER)


def mark_description(description: str) -> str:
    """Prefix the owner marker (once); the result fits Venice's 64-character limit."""
    text = description.strip()
    if text.startswith(OWNER_MARKER):
        text = text[len(OWNER_MARKER) :].strip()
    return (OWNER_MARKER + text)[:DESCRIPTION_MAX]


def parse_venice_time(value: str) -> datetime:
    """Parse "YYYY-MM-DD" (end of that day, UTC) or an ISO datetime into an aware UTC datetime."""
    text = value.strip()
    if len(text) == 10:
        day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
        return day + timedelta(days=1) - timedelta(microseconds=1)
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=UTC)


# --- loading -----------------------------------------------------------------------------------
_FILE_KEYS = {f.name for f in fields(Policy)} - {"source"}


def _names(value: Any, key: str, allowed: Iterable[str]) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"policy: {key} must be a list of strings")
    allowed_set = set(allowed)
    unknown = sorted(set(value) - allowed_set)
    if unknown:
        raise ConfigError(f"policy: {key} has unknown entries: {', '.join(unknown)}")
    return frozenset(value)


def _number(value: Any, key: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"policy: {key} must be a non-negative number or null")
    return float(value)


def _stake_cap(value: Any) -> Decimal:
    """Whole VVV, exactly (a TOML/JSON float such as 0.1 read as its shortest decimal)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError("policy: max_stake_vvv must be a number of VVV (0 disables staking)")
    cap = Decimal(str(value))
    if not cap.is_finite() or cap < 0:
        raise ConfigError("policy: max_stake_vvv must be a number >= 0")
    return cap


def _flag(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"policy: {key} must be true or false")
    return value


def policy_from_mapping(data: Mapping[str, Any], *, source: str = "mapping") -> Policy:
    """Build a Policy from a decoded policy file; unknown keys are errors (fail closed)."""
    unknown = sorted(set(data) - _FILE_KEYS)
    if unknown:
        raise ConfigError(f"policy {source}: unknown settings: {', '.join(unknown)}")
    kw: dict[str, Any] = {"source": source}
    for key, value in data.items():
        if key in ("tools", "confirm_tools"):
            kw[key] = _names(value, key, ALL_TOOLS)
        elif key == "allowed_key_types":
            kw[key] = _names(value, key, ("INFERENCE", "ADMIN"))
        elif key in ("require_spend_limit", "require_expiry", "own_keys_only"):
            kw[key] = _flag(value, key)
        elif key in ("max_usd_limit", "max_diem_limit", "max_lifetime_days"):
            kw[key] = _number(value, key)
        elif key == "max_keys_per_hour":
            number = _number(value, key)
            kw[key] = None if number is None else int(number)
        elif key == "confirm":
            if value not in ("auto", "required", "off"):
                raise ConfigError("policy: confirm must be one of auto, required, off")
            kw[key] = value
        elif key == "max_stake_vvv":
            kw[key] = _stake_cap(value)
    return Policy(**kw)


def load_policy(path: str | Path | None) -> Policy:
    """Load a JSON or TOML policy file (by suffix; JSON otherwise); None gives the built-in one."""
    if path is None:
        return Policy()
    p = Path(path).expanduser()
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ConfigError(f"policy file {p} cannot be read: {exc.strerror}") from None
    try:
        if p.suffix.lower() == ".toml":
            data: Any = tomllib.loads(raw.decode())
        else:
            data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"policy file {p} is not valid {p.suffix or 'JSON'}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"policy file {p} must hold an object/table of settings")
    return policy_from_mapping(data, source=str(p))
