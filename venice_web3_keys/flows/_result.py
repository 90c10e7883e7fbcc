"""The results flows hand back: a new key (secret masked) and a rotation outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from venice_web3_keys.secret import ApiKeySecret

if TYPE_CHECKING:
    from venice_web3_keys.models import ApiKey, ConsumptionLimits, CreatedKey
    from venice_web3_keys.sinks import SinkReceipt


@dataclass
class NewKey:
    """A freshly made key. Its secret is an ApiKeySecret: masked in str/repr, `.reveal()` to use."""

    id: str
    api_key_type: str
    description: str
    expires_at: str | None
    consumption_limits: ConsumptionLimits | None
    limit_period: str | None
    model_privacy: str | None
    secret: ApiKeySecret = field(repr=False)
    sink: SinkReceipt | None = None

    @property
    def last6(self) -> str:
        return self.secret.last6

    @property
    def fingerprint(self) -> str:
        return self.secret.fingerprint

    def __repr__(self) -> str:
        return (
            f"NewKey(id={self.id!r}, api_key_type={self.api_key_type!r}, "
            f"description={self.description!r}, last6={self.last6!r}, sink={self.sink!r})"
        )

    __str__ = __repr__

    def to_public_dict(self) -> dict[str, Any]:
        """Everything safe to print or return to an agent; never the secret itself."""
        limits: dict[str, Any] | None = None
        if self.consumption_limits is not None:
            limits = {
                "usd": self.consumption_limits.usd,
                "diem": self.consumption_limits.diem,
            }
        return {
            "id": self.id,
            "apiKeyType": self.api_key_type,
            "description": self.description,
            "last6": self.last6,
            "fingerprint": self.fingerprint,
            "sink": (
                {"kind": self.sink.kind, "location": self.sink.location}
                if self.sink is not None
                else None
            ),
            "expiresAt": self.expires_at,
            "consumptionLimits": limits,
            "limitPeriod": self.limit_period,
            "modelPrivacy": self.model_privacy,
        }

    @classmethod
    def from_created(
        cls,
        created: CreatedKey,
        *,
        sink: SinkReceipt | None,
        readback: ApiKey | None = None,
    ) -> NewKey:
        """Combine the create echo with the authoritative read-back (the echo's limits lie)."""
        src: ApiKey | CreatedKey = created if readback is None else readback
        limits = created.consumption_limit if readback is None else readback.consumption_limits
        return cls(
            id=created.id,
            api_key_type=str(src.api_key_type or created.api_key_type),
            description=str(src.description or created.description or ""),
            expires_at=src.expires_at,
            consumption_limits=limits,
            limit_period=src.limit_period,
            model_privacy=src.model_privacy,
            secret=created.secret,
            sink=sink,
        )


@dataclass
class RotationResult:
    """A rotation that completed: the successor works and the old key is revoked."""

    new_key: NewKey
    revoked_key_id: str
    verified: bool

    def to_public_dict(self) -> dict[str, Any]:
        return {
            "newKey": self.new_key.to_public_dict(),
            "revokedKeyId": self.revoked_key_id,
            "verified": self.verified,
        }


@dataclass
class Revocation:
    """The outcome of revoking a key. Revoking is idempotent: a key that is already gone (revoked
    or expired; Venice answers both the same way) is `already_revoked`, not an error."""

    key_id: str
    already_revoked: bool = False

    def to_public_dict(self) -> dict[str, Any]:
        return {"id": self.key_id, "revoked": True, "alreadyRevoked": self.already_revoked}


@dataclass
class RotationProgress:
    """How far a rotation got, filled in as it goes: pass one to `rotate_key` to know exactly
    what exists after an interruption (Ctrl-C, a cancelled task), when no result comes back."""

    old_key_id: str = ""
    #: the successor, once it exists and its secret was delivered to the sink
    new_key: NewKey | None = None
    #: a call made with the successor worked
    verified: bool = False
    #: the unproven successor was revoked again (the old key was left as it was)
    successor_revoked: bool = False
    #: the old key's revocation has started (it may have happened even if interrupted)
    revoking_old_key: bool = False
    old_key_revoked: bool = False
