"""What the tools take: argument types (their JSON schema is what the agent sees) and the request
objects MCPServer builds from a call's arguments by name (`Resolve(NewKeyRequest)`)."""

# No `from __future__ import annotations`: MCPServer reads these annotations as objects.

from dataclasses import asdict, dataclass
from typing import Annotated, Any

from pydantic import MISSING, Field

from venice_web3_keys.mcp.catalog import LIST_KEYS
from venice_web3_keys.mcp.policy import DESCRIPTION_MAX, OWNER_MARKER
from venice_web3_keys.models import ApiKeyType, LimitPeriod, ModelPrivacy
from venice_web3_keys.validation import MAX_LIMIT

UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"

KeyId = Annotated[
    str,
    Field(
        pattern=UUID_PATTERN,
        description=f"The key's id (a UUID from {LIST_KEYS.name}); never a secret.",
    ),
]
KeyType = Annotated[
    ApiKeyType,
    Field(description="INFERENCE keys call models; ADMIN keys manage the account."),
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
UsdLimit = Annotated[
    float | None,
    Field(ge=0, le=MAX_LIMIT, description="Spend cap in USD per limit_period."),
]
DiemLimit = Annotated[
    float | None,
    Field(ge=0, le=MAX_LIMIT, description="Spend cap in DIEM per limit_period."),
]
# For update, leaving a cap out keeps it and null removes it: MISSING tells the two apart, and
# the published schema then shows no default rather than a misleading `null`.
NewUsdLimit = Annotated[
    float | MISSING | None,
    Field(ge=0, le=MAX_LIMIT, description="New USD cap; null removes it; omit to keep it."),
]
NewDiemLimit = Annotated[
    float | MISSING | None,
    Field(ge=0, le=MAX_LIMIT, description="New DIEM cap; null removes it; omit to keep it."),
]
RemoveExpiry = Annotated[bool, Field(description="true removes the expiry.")]
Period = Annotated[
    LimitPeriod | None,
    Field(description="When the caps reset: EPOCH (daily, UTC), MONTH, or LIFETIME (never)."),
]
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
