"""Operator guardrails for the MCP server: the policy file, the caps, and how refusals read.

Every setting here comes from the operator (environment, flags, policy file), never from a tool
argument. A refusal names every rule the call breaks and says that only the operator can change
them; it never says how.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Iterable, Mapping, Sequence
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
KEY_TYPES = ("INFERENCE", "ADMIN")
LIMIT_PERIODS = ("EPOCH", "MONTH", "LIFETIME")
# Venice applies EPOCH (a cap per UTC day) to a key made without a period; we send MONTH instead.
PERIOD_WHEN_OMITTED = "MONTH"
VENICE_DEFAULT_PERIOD = "EPOCH"

_OPERATOR_ONLY = (
    "This guardrail is set by the operator of this MCP server; the agent cannot change it, and "
    "no tool argument overrides it. Ask the human operator if the action is really needed."
)


@dataclass(frozen=True)
class Violation:
    """One rule a call breaks, and what about the call breaks it."""

    rule: str
    detail: str


def refusal(rule: str, detail: str) -> PolicyError:
    """A PolicyError whose message names the rule and who may change it."""
    return refusal_for([Violation(rule, detail)])


def refusal_for(violations: Sequence[Violation]) -> PolicyError:
    """One PolicyError naming every rule broken, so one retry can fit them all."""
    rules = tuple(v.rule for v in violations)
    named = "; ".join(f"rule: {rule}" for rule in rules)
    details = " ".join(v.detail for v in violations)
    return PolicyError(
        f"Refused by operator policy ({named}). {details} {_OPERATOR_ONLY}",
        rule=rules[0],
        rules=rules,
    )


@dataclass(frozen=True)
class Policy:
    """What an agent may do once writes are allowed. Defaults are the built-in safe policy."""

    tools: frozenset[str] | None = None  # allow-list; None = every tool
    allowed_key_types: frozenset[str] = frozenset({"INFERENCE"})
    require_spend_limit: bool = True
    max_usd_limit: float | None = 25.0
    max_diem_limit: float | None = 25.0
    allowed_limit_periods: frozenset[str] = frozenset({"MONTH", "LIFETIME"})
    require_expiry: bool = True
    max_lifetime_days: float | None = 30.0
    max_keys_per_hour: int | None = 10
    own_keys_only: bool = True
    confirm: ConfirmMode | None = None  # None: "required" over HTTP, "auto" over stdio
    confirm_tools: frozenset[str] = CONFIRMED_BY_DEFAULT
    # Most VVV one stake may move; 0 (built in) refuses every stake. No "unlimited" value.
    max_stake_vvv: Decimal = Decimal(0)
    source: str = field(default="built-in", compare=False)

    # --- registration ---------------------------------------------------------------------
    def tool_allowed(self, name: str) -> bool:
        return self.tools is None or name in self.tools

    # --- what a key may look like ---------------------------------------------------------
    def key_violations(
        self,
        *,
        api_key_type: str,
        usd_limit: float | None,
        diem_limit: float | None,
        expires_at: str | None,
        limit_period: str | None,
        now: datetime | None = None,
    ) -> list[Violation]:
        """Every rule a key with these settings breaks: a key to make (mint, create, a
        rotation's successor) or the key an update would leave. `expires_at` is in Venice's
        form ("YYYY-MM-DD" or ISO UTC); `limit_period` is what Venice applies (never None)."""
        found: list[Violation] = []
        if api_key_type not in self.allowed_key_types:
            allowed = ", ".join(sorted(self.allowed_key_types)) or "none"
            found.append(Violation(
                "key_type", f"Key type {api_key_type} is not allowed (allowed: {allowed})."))
        if self.require_spend_limit and usd_limit is None and diem_limit is None:
            found.append(Violation(
                "spend_limit_required",
                "A new or updated key must keep a spend limit: set usd_limit and/or diem_limit.",
            ))
        for name, value, cap in (
            ("usd_limit", usd_limit, self.max_usd_limit),
            ("diem_limit", diem_limit, self.max_diem_limit),
        ):
            if cap is not None and value is not None and value > cap:
                found.append(Violation(f"max_{name}", f"{name} may be at most {cap:g}."))
        if limit_period is not None and limit_period not in self.allowed_limit_periods:
            allowed = ", ".join(sorted(self.allowed_limit_periods)) or "none"
            daily = " (EPOCH resets the caps every day)" if limit_period == "EPOCH" else ""
            found.append(Violation(
                "limit_period",
                f"limit_period {limit_period} is not allowed{daily} (allowed: {allowed}).",
            ))
        found += self._expiry_violations(expires_at, now=now)
        return found

    def _expiry_violations(
        self, expires_at: str | None, *, now: datetime | None
    ) -> list[Violation]:
        if expires_at is None:
            if self.require_expiry:
                return [Violation(
                    "expiry_required", "A key made or updated here must have an expiry.")]
            return []
        if self.max_lifetime_days is None:
            return []
        limit = (now or datetime.now(UTC)) + timedelta(days=self.max_lifetime_days)
        if parse_venice_time(expires_at) > limit:
            return [Violation(
                "max_lifetime",
                f"expires_at may be at most {self.max_lifetime_days:g} days from now.",
            )]
        return []

    def check_key(self, *, made: Sequence[datetime] | None = None, **settings: Any) -> None:
        """Refuse, naming every rule broken, unless a key with `settings` meets the policy (and,
        given `made`, one more key fits the hourly cap)."""
        violations = self.key_violations(**settings)
        if made is not None and (rate := self.rate_violation(made)) is not None:
            violations.append(rate)
        if violations:
            raise refusal_for(violations)

    # --- how many, and which ---------------------------------------------------------------
    def rate_violation(
        self, made: Sequence[datetime], *, now: datetime | None = None
    ) -> Violation | None:
        """At the cap when `made` (times keys were made in the last hour) reaches it; the
        refusal says when the next key is allowed."""
        cap = self.max_keys_per_hour
        if cap is None or len(made) < cap:
            return None
        now = now or datetime.now(UTC)
        next_at = sorted(made)[len(made) - cap] + timedelta(hours=1)
        minutes = max(1, math.ceil((next_at - now).total_seconds() / 60))
        return Violation(
            "keys_per_hour",
            f"At most {cap} keys may be made per hour ({len(made)} in the last hour). The next "
            f"key is allowed at {next_at.strftime('%Y-%m-%dT%H:%M:%SZ')} (in about {minutes} "
            "min); try again then.",
        )

    def check_stake(self, amount: Decimal) -> None:
        """Refuse a stake the policy does not allow (before anything is read or signed)."""
        if self.max_stake_vvv <= 0:
            raise refusal("max_stake_vvv", "Staking from this server's wallet is not enabled.")
        if amount > self.max_stake_vvv:
            raise refusal("max_stake_vvv",
                          f"A stake may move at most {decimal_str(self.max_stake_vvv)} VVV.")

    def check_owned(self, tool: str, key_id: str, *, made_here: bool) -> None:
        if self.own_keys_only and not made_here:
            raise refusal(
                "own_keys_only",
                f"{tool} may only act on keys this server made; key {key_id} was not made here.",
            )

    def summary(self, scope: PolicyScope = "all") -> str:
        """The rules bearing on `scope`, for instructions and tool descriptions (no off-switch)."""
        new = scope in ("all", "new_key", "rotate")
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
            periods = " or ".join(p for p in LIMIT_PERIODS if p in self.allowed_limit_periods)
            omitted = f" (omitted: {PERIOD_WHEN_OMITTED})" if scope in ("all", "new_key") else ""
            parts.append(f"limit_period {periods or 'none'}{omitted}")
            if self.require_expiry:
                parts.append("expires_at required")
            if self.max_lifetime_days is not None:
                parts.append(f"expires_at at most {self.max_lifetime_days:g} days ahead")
        if scope == "rotate":
            parts.append("the successor keeps the old key's settings and must meet these rules")
        if new and self.max_keys_per_hour is not None:
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
            kw[key] = _names(value, key, KEY_TYPES)
        elif key == "allowed_limit_periods":
            kw[key] = _names(value, key, LIMIT_PERIODS)
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
