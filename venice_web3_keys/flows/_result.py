"""The results flows hand back: a new key (secret masked), a rotation outcome, a stake."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from venice_web3_keys.amounts import decimal_str, tokens_str
from venice_web3_keys.secret import ApiKeySecret
from venice_web3_keys.timeparse import format_datetime

if TYPE_CHECKING:
    from venice_web3_keys.models import ApiKey, ConsumptionLimits, CreatedKey
    from venice_web3_keys.sinks import SinkReceipt


@dataclass
class NewKey:
    """A freshly made key. Its secret is an ApiKeySecret: masked in str/repr, `.reveal()` to use.

    `expires_at` is an aware UTC datetime; the caps are Decimals. The enum-like fields are what
    Venice answered, as plain strings (a value it adds later must not break a create).
    """

    id: str
    api_key_type: str
    description: str
    expires_at: datetime | None
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
        """Everything safe to print or return to an agent; never the secret itself. JSON-ready
        (`json.dumps` takes it), in Venice's forms: the expiry "2026-12-31T23:59:59.000Z", the
        caps JSON numbers."""
        limits: dict[str, Any] | None = None
        if self.consumption_limits is not None:
            limits = self.consumption_limits.model_dump(include={"usd", "diem"})
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
            "expiresAt": None if self.expires_at is None else format_datetime(self.expires_at),
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


@dataclass(frozen=True)
class StakeResult:
    """A stake, done or (dry run) planned. Token amounts in whole tokens, gas in gas units.

    In a dry run nothing was signed: the tx hashes, `gas_used` and `fees_paid` are empty, and
    `balances_after` is the prediction (ETH after the highest possible fee). After a real stake
    `balances_after` was read at the stake's block and `verified` says sVVV rose and VVV fell by
    exactly `amount`.
    """

    address: str
    chain_id: int
    amount: Decimal
    amount_wei: int
    dry_run: bool
    vvv_token: str
    staking_contract: str
    approve_needed: bool
    allowance_before: Decimal
    simulation: str  # how it was simulated: eth_simulateV1, eth_call(+state-override)
    gas_estimates: dict[str, int]  # step ("approve", "stake") -> gas limit planned
    max_fee_per_gas: int  # wei per gas, as planned
    fee_estimate: Decimal  # ETH: the most the planned transactions can cost (L1 fee included)
    balances_before: dict[str, Decimal]  # ETH, VVV, sVVV
    balances_after: dict[str, Decimal]
    approve_tx: str | None = None
    stake_tx: str | None = None
    gas_used: dict[str, int] = field(default_factory=dict)
    fees_paid: Decimal | None = None  # ETH, L1 data fee included
    verified: bool = False

    @property
    def svvv_before(self) -> Decimal:
        return self.balances_before["sVVV"]

    @property
    def svvv_after(self) -> Decimal:
        return self.balances_after["sVVV"]

    def to_public_dict(self) -> dict[str, Any]:
        """The `wallet stake --json` object: decimal strings in whole tokens, hashes or null."""

        def amounts(values: dict[str, Decimal]) -> dict[str, str]:
            return {symbol: decimal_str(value) for symbol, value in values.items()}

        return {
            "address": self.address,
            "amount": decimal_str(self.amount),
            "dryRun": self.dry_run,
            "approveTx": self.approve_tx,
            "stakeTx": self.stake_tx,
            "sVVVBefore": decimal_str(self.svvv_before),
            "sVVVAfter": decimal_str(self.svvv_after),
            "chainId": self.chain_id,
            "contracts": {"VVV": self.vvv_token, "staking": self.staking_contract},
            "approveNeeded": self.approve_needed,
            "allowanceBefore": decimal_str(self.allowance_before),
            "simulation": self.simulation,
            "gasEstimate": dict(self.gas_estimates),
            "maxFeePerGasGwei": tokens_str(self.max_fee_per_gas, 9),
            "feeEstimateETH": decimal_str(self.fee_estimate),
            "gasUsed": dict(self.gas_used) or None,
            "feesPaidETH": None if self.fees_paid is None else decimal_str(self.fees_paid),
            "balancesBefore": amounts(self.balances_before),
            "balancesAfter": amounts(self.balances_after),
            "verified": self.verified,
        }


Step = Literal["approve", "stake"]
StepState = Literal["signed", "sent", "mined", "reverted"]


@dataclass
class StakeProgress:
    """What a stake has done on chain so far; safe to read at any moment (after Ctrl-C too).

    `listener(step, state, tx_hash)` is told each change as it happens (a face can print it).
    A transaction is recorded as "signed" before its bytes leave the process, so an interrupted
    send still names the hash to look for.
    """

    listener: Callable[[Step, StepState, str], None] | None = None
    amount_wei: int | None = None
    steps: dict[Step, tuple[StepState, str]] = field(default_factory=dict)

    def record(self, step: Step, state: StepState, tx_hash: str) -> None:
        self.steps[step] = (state, tx_hash)
        if self.listener is not None:
            self.listener(step, state, tx_hash)

    @property
    def anything_signed(self) -> bool:
        return bool(self.steps)

    def summary(self) -> str:
        """What is on chain, and whether running the same stake again is safe."""
        amount = "the amount" if self.amount_wei is None else f"{tokens_str(self.amount_wei)} VVV"
        stake = self.steps.get("stake")
        approve = self.steps.get("approve")
        if stake is not None:
            state, tx = stake
            if state == "mined":
                return f"The stake {tx} is mined."
            if state == "reverted":
                return (f"The stake {tx} was mined but reverted: nothing was staked, and any "
                        "allowance given is still in place for the next attempt.")
            return (f"The stake {tx} {'may have been' if state == 'signed' else 'was'} sent and "
                    "may still be mined: do not stake again until the wallet's balances show "
                    f"whether sVVV rose by {amount}.")
        if approve is not None:
            state, tx = approve
            if state == "mined":
                return (f"The approve {tx} is mined: the staking contract may take exactly "
                        f"{amount}. The stake was not sent; run the same stake again to finish "
                        "(it reuses this allowance, no second approve).")
            if state == "reverted":
                return (f"The approve {tx} was mined but reverted: no allowance was given and "
                        "the stake was not sent.")
            return (f"The approve {tx} {'may have been' if state == 'signed' else 'was'} sent "
                    "and may still be mined; the stake was not sent. Once the approve is mined "
                    "(or gone), run the same stake again: it reuses a mined allowance.")
        return "Nothing was sent."
