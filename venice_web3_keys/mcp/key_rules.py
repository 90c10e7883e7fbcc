"""What the policy judges about a key, apart from any server state: the settings of a key as
it is or as a change would leave it, a new key's request as it will be sent, and an update's
plan (what to PATCH, and what to PATCH back should Venice report the key breaking the rules)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from venice_web3_keys.mcp.policy import (
    PERIOD_WHEN_OMITTED,
    VENICE_DEFAULT_PERIOD,
    Policy,
    mark_description,
)
from venice_web3_keys.timeparse import format_datetime, parse_expires
from venice_web3_keys.validation import update_changes

if TYPE_CHECKING:
    from venice_web3_keys.mcp.arguments import NewKeyRequest, UpdateRequest
    from venice_web3_keys.models import ApiKey


def venice_expiry(expires_at: str | None) -> str | None:
    """A WHEN argument in the form Venice takes (None stays None)."""
    return None if expires_at is None else parse_expires(expires_at)


@dataclass(frozen=True)
class KeySettings:
    """The settings the policy judges, of a key as it is or as a change would leave it."""

    api_key_type: str
    usd_limit: float | None
    diem_limit: float | None
    expires_at: str | None
    limit_period: str

    @classmethod
    def of(cls, key: ApiKey) -> KeySettings:
        limits = key.consumption_limits
        usd, diem = (limits.usd, limits.diem) if limits is not None else (None, None)
        return cls(
            api_key_type=str(key.api_key_type),
            usd_limit=None if usd is None else float(usd),
            diem_limit=None if diem is None else float(diem),
            expires_at=None if key.expires_at is None else format_datetime(key.expires_at),
            limit_period=key.limit_period or VENICE_DEFAULT_PERIOD,
        )

    def as_policy_arguments(self) -> dict[str, Any]:
        return {
            "api_key_type": self.api_key_type,
            "usd_limit": self.usd_limit,
            "diem_limit": self.diem_limit,
            "expires_at": self.expires_at,
            "limit_period": self.limit_period,
        }


@dataclass(frozen=True)
class UpdatePlan:
    """What to PATCH (`changes`, keyword arguments of `update_key`) and, should the key Venice
    reports afterwards break the policy, what to PATCH back (`restore`)."""

    changes: dict[str, Any]
    restore: dict[str, Any]


def as_sent(request: NewKeyRequest) -> NewKeyRequest:
    """A new key's request as it will be sent: the expiry in Venice's form, and a period never
    left to Venice's default (EPOCH, a cap per day)."""
    return replace(
        request,
        expires_at=venice_expiry(request.expires_at),
        limit_period=request.limit_period or PERIOD_WHEN_OMITTED,
    )


def new_key_settings(sent: NewKeyRequest) -> KeySettings:
    return KeySettings(
        api_key_type=sent.api_key_type,
        usd_limit=sent.usd_limit,
        diem_limit=sent.diem_limit,
        expires_at=sent.expires_at,
        limit_period=sent.limit_period or PERIOD_WHEN_OMITTED,
    )


def plan_update(
    policy: Policy, key: ApiKey, request: UpdateRequest, *, made_here: bool
) -> UpdatePlan:
    """What to send for `request` on `key` as it is now, after checking the key the change
    would leave against the policy. Whenever a cap changes both are sent, so a change made
    from a stale read cannot drop the other one."""
    asked = request.changes()
    changes = update_changes(asked, remove_expiry=asked.pop("remove_expiry", False))
    if request.description is not None and made_here:
        changes["description"] = mark_description(request.description)
    if changes.get("expires_at") is not None:
        changes["expires_at"] = venice_expiry(changes["expires_at"])
    now = KeySettings.of(key)
    after = replace(
        now,
        usd_limit=changes.get("usd_limit", now.usd_limit),
        diem_limit=changes.get("diem_limit", now.diem_limit),
        expires_at=changes.get("expires_at", now.expires_at),
        limit_period=changes.get("limit_period") or now.limit_period,
    )
    if "usd_limit" in changes or "diem_limit" in changes:
        changes["usd_limit"], changes["diem_limit"] = after.usd_limit, after.diem_limit
    policy.check_key(**after.as_policy_arguments())
    before: dict[str, Any] = {
        "description": key.description,
        "expires_at": now.expires_at,
        "usd_limit": now.usd_limit,
        "diem_limit": now.diem_limit,
        "limit_period": key.limit_period,
        "model_privacy": key.model_privacy,
    }
    # None is a state to restore for the caps and the expiry; Venice takes no None for the
    # period or privacy, and a description is never None.
    removable = ("usd_limit", "diem_limit", "expires_at")
    restore = {k: before[k] for k in changes if before[k] is not None or k in removable}
    return UpdatePlan(changes=changes, restore=restore)
