"""What the tools take: argument types (their JSON schema is what the agent sees) and the request
objects MCPServer builds from a call's arguments by name (`Resolve(NewKeyRequest)`).

Where the policy narrows a choice (key types, limit periods, the caps), the published schema
offers only what it allows (`OfferedArguments`), while validation still accepts every value
Venice knows: a value the policy refuses then gets a refusal naming its rule, not a bare schema
error.
"""

# No `from __future__ import annotations`: MCPServer reads these annotations as objects.

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Annotated, Any

from pydantic import MISSING, Field
from pydantic.fields import FieldInfo

from venice_web3_keys.mcp.catalog import LIST_KEYS
from venice_web3_keys.mcp.policy import (
    DESCRIPTION_MAX,
    KEY_TYPES,
    LIMIT_PERIODS,
    OWNER_MARKER,
    PERIOD_WHEN_OMITTED,
    Policy,
)
from venice_web3_keys.validation import MAX_LIMIT, ApiKeyType, ModelPrivacy

UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"

KeyId = Annotated[
    str,
    Field(
        pattern=UUID_PATTERN,
        description=f"The key's id (a UUID from {LIST_KEYS.name}); never a secret.",
    ),
]
Description = Annotated[
    str,
    Field(
        min_length=1,
        max_length=DESCRIPTION_MAX - len(OWNER_MARKER),
        description="Label for the key, 1-58 characters; the server prefixes its owner marker.",
    ),
]
When = Annotated[
    str | None,
    Field(
        min_length=2,
        max_length=40,
        description="Expiry: YYYY-MM-DD, an ISO 8601 datetime with Z or an offset, or a duration "
        "from now such as 12h, 30d, 6w. Must be in the future.",
    ),
]
RemoveExpiry = Annotated[bool, Field(description="true removes the expiry.")]
Privacy = Annotated[
    ModelPrivacy | None,
    Field(description="Which models the key may call: ALL, PRIVATE_TEXT or PRIVATE_ONLY."),
]
VvvAmount = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{1,30}(\.[0-9]{1,18})?$",
        description='Whole VVV as a decimal string, e.g. "1" or "2.5" (at most 18 decimals).',
    ),
]
Address = Annotated[
    str | None,
    Field(
        pattern=r"^0x[0-9a-fA-F]{40}$",
        description="A Base address to inspect; omit to use the server's own wallet.",
    ),
]


JsonSchemaEdit = Callable[[dict[str, Any]], None]


def offer_only(values: Sequence[str]) -> JsonSchemaEdit:
    """Publish only `values` as the enum (of the field, or of its non-null branch)."""

    def edit(schema: dict[str, Any]) -> None:
        for branch in (schema, *schema.get("anyOf", ())):
            if "enum" in branch:
                branch["enum"] = list(values)

    return edit


def at_most(cap: float) -> JsonSchemaEdit:
    """Publish `cap` as the maximum (of the field, or of its number branch)."""

    def edit(schema: dict[str, Any]) -> None:
        for branch in (schema, *schema.get("anyOf", ())):
            if branch.get("type") == "number":
                branch["maximum"] = int(cap) if float(cap).is_integer() else cap

    return edit


def _cap_field(description: str, cap: float | None) -> FieldInfo:
    field: FieldInfo = Field(
        ge=0,
        le=MAX_LIMIT,
        description=description,
        json_schema_extra=at_most(cap) if cap is not None else None,
    )
    return field


@dataclass(frozen=True)
class OfferedArguments:
    """The input-schema fields the policy shapes (see the module docstring)."""

    key_type: FieldInfo
    default_key_type: ApiKeyType
    limit_period: FieldInfo
    usd_limit: FieldInfo
    diem_limit: FieldInfo
    new_usd_limit: FieldInfo
    new_diem_limit: FieldInfo

    @classmethod
    def for_policy(cls, policy: Policy) -> "OfferedArguments":
        types = [t for t in KEY_TYPES if t in policy.allowed_key_types]
        periods = [p for p in LIMIT_PERIODS if p in policy.allowed_limit_periods]
        default_type: ApiKeyType = "INFERENCE" if "INFERENCE" in types or not types else "ADMIN"
        period_help = ", ".join(p for p in periods) or "none"
        return cls(
            key_type=Field(
                description="INFERENCE keys call models; ADMIN keys manage the account.",
                json_schema_extra=offer_only(types),
            ),
            default_key_type=default_type,
            limit_period=Field(
                description="When the caps reset: MONTH (1st of the month, UTC), LIFETIME "
                "(never) or EPOCH (every day, UTC). Offered here: "
                f"{period_help}; omitted on a new key: {PERIOD_WHEN_OMITTED}.",
                json_schema_extra=offer_only(periods),
            ),
            usd_limit=_cap_field("Spend cap in USD per limit_period.", policy.max_usd_limit),
            diem_limit=_cap_field("Spend cap in DIEM per limit_period.", policy.max_diem_limit),
            new_usd_limit=_cap_field(
                "New USD cap; null removes it; omit to keep it.", policy.max_usd_limit
            ),
            new_diem_limit=_cap_field(
                "New DIEM cap; null removes it; omit to keep it.", policy.max_diem_limit
            ),
        )


@dataclass(frozen=True)
class NewKeyRequest:
    """The arguments of a tool that makes a key from scratch (mint, create)."""

    description: str
    api_key_type: str = "INFERENCE"
    expires_at: str | None = None
    usd_limit: float | None = None
    diem_limit: float | None = None
    limit_period: str | None = None
    model_privacy: str | None = None

    def audit(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class UpdateRequest:
    """The arguments of the update tool; a limit left out is MISSING (keep), null removes it."""

    key_id: str
    description: str | None = None
    expires_at: str | None = None
    remove_expiry: bool = False
    usd_limit: float | MISSING | None = MISSING
    diem_limit: float | MISSING | None = MISSING
    limit_period: str | None = None
    model_privacy: str | None = None

    def changes(self) -> dict[str, Any]:
        """What the caller asked to change (None means "keep", except for the two limits)."""
        out: dict[str, Any] = {}
        for name, value in asdict(self).items():
            if name == "key_id" or value is MISSING or value is False:
                continue
            if value is not None or name in ("usd_limit", "diem_limit"):
                out[name] = value
        return out

    def audit(self) -> dict[str, Any]:
        return {"key_id": self.key_id, **self.changes()}
