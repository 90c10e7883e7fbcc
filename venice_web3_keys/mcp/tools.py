"""The eleven MCP tools: typed inputs, structured outputs, true annotations, guarded writes.

Each tool is a thin call into `AsyncVeniceKeys`. For a write, resolvers that MCPServer runs before
the body load the target key, apply the operator policy and, if the policy wants it, ask the human
(elicitation); the body re-checks what may have changed, calls the facade once and audits the
outcome. The facade (and web3/eth_account) load on first use, so `initialize` never pays for them.
"""

# No `from __future__ import annotations`: tool signatures hold `Resolve(...)` markers that
# MCPServer must see as objects, not as strings to evaluate against module globals.

import json
import logging
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import anyio
import pydantic
from mcp.server.elicitation import AcceptedElicitation, ElicitationResult
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import Elicit, Resolve
from mcp_types import ToolAnnotations
from pydantic import MISSING, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from venice_web3_keys.amounts import decimal_str
from venice_web3_keys.errors import (
    AmbiguousCreateError,
    InvalidInputError,
    KeyNotFoundError,
    PolicyError,
    VeniceKeysError,
)
from venice_web3_keys.mcp.audit import AuditLog
from venice_web3_keys.mcp.config import OperatorConfig
from venice_web3_keys.mcp.policy import (
    DESCRIPTION_MAX,
    KEY_MAKING_TOOLS,
    OWNER_MARKER,
    WRITE_TOOLS,
    SummaryScope,
    is_owned,
    mark_description,
    refusal,
)
from venice_web3_keys.models import ApiKeyType, LimitPeriod, ModelPrivacy
from venice_web3_keys.timeparse import parse_expires
from venice_web3_keys.validation import MAX_LIMIT

if TYPE_CHECKING:
    from venice_web3_keys.api import AsyncVeniceKeys, NewKey

log = logging.getLogger("venice_web3_keys.mcp.tools")
T = TypeVar("T")

UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"

# --- argument types (names fixed by interface.md) -----------------------------------------------
KeyId = Annotated[
    str,
    Field(
        pattern=UUID_PATTERN,
        description="The key's id (a UUID from venice_list_keys); never a secret.",
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
Period = Annotated[
    LimitPeriod | None,
    Field(description="When the caps reset: EPOCH (daily, UTC), MONTH, or LIFETIME (never)."),
]
Privacy = Annotated[
    ModelPrivacy | None,
    Field(description="Which models the key may call: ALL, PRIVATE_TEXT or PRIVATE_ONLY."),
]
Address = Annotated[
    str | None,
    Field(
        pattern=r"^0x[0-9a-fA-F]{40}$",
        description="A Base address to inspect; omit to use the server's own wallet.",
    ),
]


# --- requests: MCPServer builds these from the tool arguments by name (`Resolve(cls)`) -----------
@dataclass(frozen=True)
class NewKeyRequest:
    """The arguments of venice_mint_key / venice_create_key."""

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
    """The arguments of venice_update_key; a limit left out is MISSING (keep), null removes it."""

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


# --- results ------------------------------------------------------------------------------------
class Limits(BaseModel):
    usd: float | None = None
    diem: float | None = None


class WalletStatusResult(BaseModel):
    address: str
    chain_id: int
    balances: dict[str, str] = Field(
        description="Whole-token decimal strings: ETH, VVV, sVVV, DIEM."
    )
    eligible: bool = Field(description="True when the wallet holds sVVV and can mint a key.")


class KeyInfo(BaseModel):
    id: str
    api_key_type: str | None = None
    description: str | None = None
    created_at: str | None = None
    expires_at: str | None = None
    last_used_at: str | None = None
    last6: str | None = Field(
        default=None, description="Last 6 characters of the secret (not usable)."
    )
    consumption_limits: Limits | None = None
    limit_period: str | None = None
    model_privacy: str | None = None
    usage: dict[str, Any] | None = None
    current_period_usage: dict[str, Any] | None = None
    made_by_this_server: bool


class KeyList(BaseModel):
    keys: list[KeyInfo]
    count: int


class NewKeyResult(BaseModel):
    id: str
    api_key_type: str
    description: str
    last6: str
    fingerprint: str = Field(description="sha256 hex of the secret: identifies it, cannot be used.")
    secret_file: str | None = Field(
        description="File on the server host holding the secret (0600)."
    )
    expires_at: str | None = None
    consumption_limits: Limits | None = None
    limit_period: str | None = None
    model_privacy: str | None = None
    secret: str | None = Field(
        default=None, description="Only present when the operator enabled inline secrets."
    )


class RevokeResult(BaseModel):
    revoked_key_id: str
    revoked: bool = Field(
        description="true: revoked now; false: no such key (already revoked), nothing changed."
    )


class RotateResult(BaseModel):
    new_key: NewKeyResult
    revoked_key_id: str
    verified: bool = Field(
        description="True when the new key was checked to work before the revoke."
    )


class _VeniceView(BaseModel):
    """Venice's own field names (camelCase, as in `venice-keys --json`); fields Venice adds
    later are passed through unchanged rather than dropped or refused."""

    model_config = ConfigDict(extra="allow", alias_generator=to_camel, populate_by_name=True)


class ApiTierView(_VeniceView):
    id: str | None = Field(default=None, description='Tier name, e.g. "paid" or "free".')
    is_charged: bool | None = Field(
        default=None, description="True when calls are paid per use (USD or DIEM)."
    )


class RateLimitView(_VeniceView):
    amount: float | None = Field(default=None, description="How many per `type` window.")
    type: str | None = Field(
        default=None, description="RPM (requests/minute), RPD (requests/day), TPM (tokens/minute)."
    )


class ModelRateLimitsView(_VeniceView):
    api_model_id: str | None = Field(default=None, description="Model id, e.g. zai-org-glm-5-1.")
    rate_limits: list[RateLimitView] = Field(default_factory=list)


class RateLimitsResult(_VeniceView):
    """GET /api_keys/rate_limits: about the operator's configured key, not the account."""

    access_permitted: bool | None = Field(
        default=None,
        description="Whether this key may call models right now (balance, its own caps and the "
        "account status together). false explains 402s.",
    )
    api_tier: ApiTierView | None = Field(
        default=None, description="The key's tier: id (paid/free) and isCharged."
    )
    balances: dict[str, float | None] = Field(
        default_factory=dict,
        description="What this key can still spend, by currency (USD, DIEM, sometimes "
        "BUNDLED_CREDITS), already clamped to the key's own caps; a currency may be absent.",
    )
    key_expiration: str | None = Field(
        default=None, description="ISO time the key expires; null = never."
    )
    next_epoch_begins: str | None = Field(
        default=None, description="ISO time the daily (EPOCH) caps and limits reset."
    )
    rate_limits: list[ModelRateLimitsView] = Field(
        default_factory=list, description="Per model: its RPM / RPD / TPM limits."
    )


class BillingBalancesView(_VeniceView):
    usd: float | None = Field(default=None, description="USD credit; null when none.")
    diem: float | None = Field(
        default=None, description="DIEM left this epoch; null when the account stakes no DIEM."
    )
    bundled_credits: float | None = Field(default=None, description="Bundled credits, if any.")
    earned_credits: float | None = Field(default=None, description="Earned credits, if any.")


class BillingBalanceResult(_VeniceView):
    """GET /billing/balance: the whole account (per-key caps are not applied here)."""

    can_consume: bool | None = Field(
        default=None,
        description="Whether the account has anything to spend. Ignores per-key caps: use "
        "venice_rate_limits.accessPermitted for one key.",
    )
    consumption_currency: str | None = Field(
        default=None,
        description="What is spent first: DIEM, USD, BUNDLED_CREDITS or EARNED_CREDITS; null "
        "when nothing is left.",
    )
    balances: BillingBalancesView = Field(
        default_factory=BillingBalancesView,
        description="Account funds: usd, diem, bundledCredits, earnedCredits (null = none).",
    )
    diem_epoch_allocation: float | None = Field(
        default=None, description="DIEM granted per epoch (daily, UTC) by the account's stake."
    )


class LogResult(BaseModel):
    entries: list[dict[str, Any]]
    count: int


class Confirmation(BaseModel):
    """What the human answers when the server asks before a destructive action."""

    confirm: bool = Field(description="true to allow this action, false to refuse it")


class _NotAsked(Confirmation):
    """Stands for 'no question was needed' (policy or client capability)."""


# --- conversions --------------------------------------------------------------------------------
def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return _plain(value.model_dump(mode="python", by_alias=False, exclude_none=False))
    if isinstance(value, Decimal):
        return decimal_str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _wire(value: Any) -> Any:
    """A library response model as Venice sent it (camelCase, unknown fields kept)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    return _plain(value)


def _limits(obj: Any) -> Limits | None:
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return Limits(usd=obj.get("usd"), diem=obj.get("diem"))
    return Limits(usd=getattr(obj, "usd", None), diem=getattr(obj, "diem", None))


def _opt_str(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, datetime) else str(value)


def key_info(key: Any) -> KeyInfo:
    usage = getattr(key, "usage", None)
    period_usage = getattr(key, "current_period_usage", None)
    return KeyInfo(
        id=str(key.id),
        api_key_type=_opt_str(getattr(key, "api_key_type", None)),
        description=getattr(key, "description", None),
        created_at=_opt_str(getattr(key, "created_at", None)),
        expires_at=_opt_str(getattr(key, "expires_at", None)),
        last_used_at=_opt_str(getattr(key, "last_used_at", None)),
        last6=getattr(key, "last6_chars", None),
        consumption_limits=_limits(getattr(key, "consumption_limits", None)),
        limit_period=_opt_str(getattr(key, "limit_period", None)),
        model_privacy=_opt_str(getattr(key, "model_privacy", None)),
        usage=_plain(usage) if usage is not None else None,
        current_period_usage=_plain(period_usage) if period_usage is not None else None,
        made_by_this_server=is_owned(getattr(key, "description", None)),
    )


def _normalise_expiry(expires_at: str | None) -> str | None:
    return None if expires_at is None else parse_expires(expires_at)


# --- runtime ------------------------------------------------------------------------------------
class ToolRuntime:
    """Per-server state: the lazily built facade, the audit log, and the key-making lock."""

    def __init__(
        self,
        config: OperatorConfig,
        keys_factory: "Callable[[], AsyncVeniceKeys] | None" = None,
    ) -> None:
        self.config = config
        self.policy = config.policy
        self.audit = AuditLog(config.audit_log)
        self._factory = keys_factory
        self._keys: AsyncVeniceKeys | None = None
        self._init_lock = anyio.Lock()
        # Held from the hourly count to the audit line of the key made, so that concurrent
        # calls cannot both pass the cap (see `making`).
        self.make_lock = anyio.Lock()

    async def keys(self) -> "AsyncVeniceKeys":
        """The facade, built on first use (this is where web3/eth_account may load)."""
        async with self._init_lock:
            if self._keys is None:
                if self._factory is not None:
                    self._keys = self._factory()
                else:
                    from venice_web3_keys.api import AsyncVeniceKeys

                    self._keys = AsyncVeniceKeys.from_env(self.config.env_file)
            return self._keys

    @asynccontextmanager
    async def making(
        self, tool: str, args: Mapping[str, Any], *, key_id: str | None = None
    ) -> AsyncIterator[None]:
        """Hold the key-making lock: in this server (anyio) and across every server process
        sharing the audit log (flock), around "count + make + append" of mint/create/rotate."""
        async with self.make_lock, AsyncExitStack() as stack:
            with self.guarded(tool, args, key_id=key_id):  # a lock failure is audited too
                await stack.enter_async_context(self.audit.exclusive())
            yield

    async def aclose(self) -> None:
        if self._keys is not None:
            await self._keys.aclose()
            self._keys = None

    def new_sink(self, tool: str) -> Any:
        """A FileSink for a fresh, unique file in the secrets directory (dir forced to 0700)."""
        from venice_web3_keys.sinks import FileSink

        directory = self.config.secrets_dir
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(directory, 0o700)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        name = f"{stamp}-{tool.removeprefix('venice_')}-{uuid.uuid4().hex[:12]}.key"
        return FileSink(directory / name)

    def new_key_result(self, new: "NewKey") -> NewKeyResult:
        location = new.sink.location if new.sink is not None else None
        return NewKeyResult(
            id=new.id,
            api_key_type=str(new.api_key_type),
            description=new.description,
            last6=new.secret.last6,
            fingerprint=new.secret.fingerprint,
            secret_file=str(Path(location).resolve()) if location else None,
            expires_at=_opt_str(new.expires_at),
            consumption_limits=_limits(new.consumption_limits),
            limit_period=_opt_str(new.limit_period),
            model_privacy=_opt_str(new.model_privacy),
            secret=new.secret.reveal() if self.config.reveal_secrets else None,
        )

    def refuse(
        self, tool: str, args: Mapping[str, Any], exc: PolicyError, key_id: str | None = None
    ) -> ToolError:
        """Audit a refusal and turn it into the ToolError the agent sees."""
        self.audit.record(tool, args, "refused", rule=exc.rule, key_id=key_id)
        log.info("%s refused by rule %s", tool, exc.rule)
        return ToolError(str(exc))

    def audit_invalid(
        self, tool: str, args: Mapping[str, Any], exc: "pydantic.ValidationError"
    ) -> None:
        """Audit a write call the input schema rejected: nothing was attempted."""
        fields = sorted({".".join(str(part) for part in err["loc"]) for err in exc.errors()})
        self.audit.record(
            tool, args, "invalid", error_type="invalid_arguments", invalid_fields=fields
        )
        log.info("%s: arguments rejected by the input schema: %s", tool, fields)

    @contextmanager
    def guarded(
        self, tool: str, args: Mapping[str, Any] | None = None, *, key_id: str | None = None
    ) -> Iterator[None]:
        """Turn every failure into a ToolError; with `args` (a write), audit it as well."""
        try:
            yield
        except ToolError:
            raise
        except PolicyError as exc:
            if args is None:
                raise ToolError(str(exc)) from None
            raise self.refuse(tool, args, exc, key_id=key_id) from None
        except Exception as exc:
            if args is not None:
                orphans = (
                    getattr(exc, "orphan_ids", None)
                    if isinstance(exc, AmbiguousCreateError)
                    else None
                )
                self.audit.record(
                    tool,
                    args,
                    "error",
                    key_id=key_id,
                    error_type=type(exc).__name__,
                    counts_as_key=tool in KEY_MAKING_TOOLS and bool(orphans),
                )
            if isinstance(exc, VeniceKeysError):
                raise ToolError(f"{type(exc).__name__}: {exc}") from None
            log.exception("%s failed unexpectedly", tool)
            raise ToolError(f"{tool} failed with an internal error (see the server log)") from None

    async def run_write(
        self,
        tool: str,
        args: Mapping[str, Any],
        fn: Callable[[], Awaitable[T]],
        *,
        key_id: str | None = None,
        new_id: Callable[[T], str | None] = lambda _r: None,
    ) -> T:
        """Run a write and audit it: ok / refused (with rule) / error (with type)."""
        with self.guarded(tool, args, key_id=key_id):
            result = await fn()
        self.audit.record(
            tool,
            args,
            "ok",
            key_id=key_id,
            new_key_id=new_id(result),
            counts_as_key=tool in KEY_MAKING_TOOLS,
        )
        return result

    # --- policy helpers -------------------------------------------------------------------
    def check_rate(self) -> None:
        self.policy.check_rate(self.audit.keys_made_last_hour())

    def check_new_key(self, req: NewKeyRequest) -> str | None:
        """Apply the caps and the hourly count to a mint/create; returns the Venice expiry."""
        expiry = _normalise_expiry(req.expires_at)
        self.policy.check_new_key(
            api_key_type=req.api_key_type,
            usd_limit=req.usd_limit,
            diem_limit=req.diem_limit,
            expires_at=expiry,
        )
        self.check_rate()
        return expiry

    def update_plan(self, key: Any, req: UpdateRequest) -> dict[str, Any]:
        """The `update_key` keyword arguments for `req`, checked against the policy."""
        if req.remove_expiry and req.expires_at is not None:
            raise InvalidInputError(
                "give expires_at or remove_expiry, not both", field="expires_at"
            )
        kw = req.changes()
        if not kw:
            raise InvalidInputError("nothing to update: give at least one setting to change")
        if req.description is not None and is_owned(key.description):
            kw["description"] = mark_description(req.description)
        if kw.pop("remove_expiry", False):
            kw["expires_at"] = None
        elif "expires_at" in kw:
            kw["expires_at"] = _normalise_expiry(kw["expires_at"])
        if "usd_limit" in kw or "diem_limit" in kw:
            current = _limits(getattr(key, "consumption_limits", None)) or Limits()
            self.policy.check_limits(
                usd_limit=kw.get("usd_limit", current.usd),
                diem_limit=kw.get("diem_limit", current.diem),
            )
        if "expires_at" in kw:
            self.policy.check_expiry(kw["expires_at"])
        return kw

    async def load_owned(
        self, tool: str, key_id: str, args: Mapping[str, Any], *, missing_ok: bool = False
    ) -> Any:
        """The key `key_id` if the ownership rule lets `tool` act on it (None: gone, if ok)."""
        with self.guarded(tool, args, key_id=key_id):
            try:
                key = await (await self.keys()).get_key(key_id)
            except KeyNotFoundError:
                if missing_ok:
                    return None
                raise
            self.policy.check_owned(tool, key_id, key.description)
            return key

    # --- confirmation (elicitation) -----------------------------------------------------------
    def confirmation(self, tool: str, ctx: Context, question: str) -> Any:
        """Elicit when the policy wants it and the client can; refuse when it must and can't.

        The question must read the same on every round (the SDK re-runs resolvers and accepts
        an answer only for the exact question shown), so it holds no time-derived values.
        """
        policy = self.policy
        if policy.confirm == "off" or tool not in policy.confirm_tools:
            return _NotAsked(confirm=True)
        caps = ctx.client_capabilities
        if caps is not None and caps.elicitation is not None:
            return Elicit(question, Confirmation)
        if policy.confirm == "required":
            raise refusal(
                "human_confirmation",
                f"{tool} needs a human confirmation and this client cannot ask for one.",
            )
        return _NotAsked(confirm=True)

    def check_confirmed(
        self, tool: str, args: Mapping[str, Any], answer: Any, key_id: str | None = None
    ) -> None:
        """Refuse unless the answer is an accepted `confirm: true` (or no question was needed)."""
        if isinstance(answer, AcceptedElicitation) and answer.data.confirm:
            return
        raise self.refuse(
            tool,
            args,
            refusal("human_confirmation", "The human did not confirm this action."),
            key_id=key_id,
        )


# --- registration -------------------------------------------------------------------------------
def _ann(title: str, *, read_only: bool, destructive: bool, idempotent: bool) -> ToolAnnotations:
    return ToolAnnotations(
        title=title,
        read_only_hint=read_only,
        destructive_hint=destructive,
        idempotent_hint=idempotent,
        open_world_hint=True,  # every tool talks to Venice or to Base, outside this server
    )


def _read(title: str) -> ToolAnnotations:
    return _ann(title, read_only=True, destructive=False, idempotent=True)


ANNOTATIONS: dict[str, ToolAnnotations] = {
    "venice_wallet_status": _read("Wallet status on Base"),
    "venice_list_keys": _read("List API keys"),
    "venice_get_key": _read("Get one API key"),
    "venice_rate_limits": _read("Rate limits and balances"),
    "venice_rate_limit_log": _read("Rate-limit breaches"),
    "venice_billing_balance": _read("Account balance"),
    # Each call makes one more key: neither idempotent nor destructive.
    "venice_mint_key": _ann(
        "Mint a key with the wallet", read_only=False, destructive=False, idempotent=False
    ),
    "venice_create_key": _ann(
        "Create a key (admin)", read_only=False, destructive=False, idempotent=False
    ),
    # Overwrites settings (may remove a cap); not idempotent because a relative expiry such
    # as "30d" is counted from each call.
    "venice_update_key": _ann(
        "Update a key's settings", read_only=False, destructive=True, idempotent=False
    ),
    # A second call finds no key and changes nothing (it answers revoked=false).
    "venice_revoke_key": _ann("Revoke a key", read_only=False, destructive=True, idempotent=True),
    "venice_rotate_key": _ann("Rotate a key", read_only=False, destructive=True, idempotent=False),
}


def register_tools(server: MCPServer[Any], rt: ToolRuntime) -> list[str]:
    """Register the tools the operator allows and return their names (read-only wins)."""
    policy = rt.policy
    secret_note = (
        "id, last6, fingerprint, settings, `secret_file` (a 0600 file on the server host) and, "
        "because the operator enabled it, the secret itself in `secret`."
        if rt.config.reveal_secrets
        else "id, last6, fingerprint, settings and `secret_file`, the path of a new 0600 file on "
        "the server host holding the secret. The secret is NOT in the result; point whatever "
        "needs the key at that file."
    )

    def rules(scope: SummaryScope) -> str:
        return (
            f"Operator policy: {policy.summary(scope)}. A refusal ('Refused by operator policy "
            "(rule: ...)') names its rule; only the operator can change the policy, so fit the "
            "arguments to it or ask the human operator; do not retry unchanged."
        )

    registered: list[str] = []

    def add(name: str, fn: Callable[..., Any], description: str) -> None:
        if name in WRITE_TOOLS and not rt.config.allow_writes:
            return
        if not policy.tool_allowed(name):
            return
        server.add_tool(fn, name=name, description=description, annotations=ANNOTATIONS[name])
        registered.append(name)

    # --- read tools -------------------------------------------------------------------------
    async def venice_wallet_status(address: Address = None) -> WalletStatusResult:
        with rt.guarded("venice_wallet_status"):
            status = await (await rt.keys()).wallet_status(address)
        return WalletStatusResult(
            address=status.address,
            chain_id=status.chain_id,
            balances={k: decimal_str(v) for k, v in status.balances.items()},
            eligible=status.eligible,
        )

    add(
        "venice_wallet_status",
        venice_wallet_status,
        "Read the ETH, VVV, staked VVV (sVVV) and DIEM balances of a wallet on Base (whole-token "
        "decimal strings) and `eligible`: whether it holds sVVV and so can mint a Venice API key. "
        "Without `address` it reports the server's own minting wallet (its private key never "
        "leaves the server). Call it before venice_mint_key; if eligible is false, minting will "
        "fail: ask the human operator to stake VVV, or use venice_create_key if offered. Free: "
        "read-only calls to Base, no transaction. Fails with ChainUnreachableError when Base "
        "cannot be reached (retry later).",
    )

    async def venice_list_keys() -> KeyList:
        with rt.guarded("venice_list_keys"):
            keys = [key_info(k) for k in await (await rt.keys()).list_keys()]
        return KeyList(keys=keys, count=len(keys))

    add(
        "venice_list_keys",
        venice_list_keys,
        "List every API key on the Venice account: id, type, description, expiry, last 6 "
        "characters, spend caps, limit period, model privacy, recent usage, and "
        "`made_by_this_server` (update/rotate/revoke may be limited to those). Never returns "
        "secrets. Use it to find a key_id (match on description or last6). Free, read-only. "
        "Needs the operator's admin key: MissingCredentialsError means none is configured; ask "
        "the operator.",
    )

    async def venice_get_key(key_id: KeyId) -> KeyInfo:
        with rt.guarded("venice_get_key"):
            return key_info(await (await rt.keys()).get_key(key_id))

    add(
        "venice_get_key",
        venice_get_key,
        "Get one API key by id (UUID from venice_list_keys): settings, caps, usage this period, "
        "expiry, last 6 characters and whether this server made it. Never returns the secret. "
        "KeyNotFoundError means the key does not exist any more (revoked or expired). Free, "
        "read-only; needs the operator's admin key.",
    )

    async def venice_rate_limits() -> RateLimitsResult:
        with rt.guarded("venice_rate_limits"):
            raw = await (await rt.keys()).rate_limits()
            return RateLimitsResult.model_validate(_wire(raw))

    add(
        "venice_rate_limits",
        venice_rate_limits,
        "Status of the Venice key this server is configured with (the operator's key, not a "
        "key you minted): accessPermitted (can it call models now), apiTier, balances it can "
        "still spend per currency (clamped to its caps), keyExpiration, nextEpochBegins (daily "
        "reset) and rateLimits (RPM/RPD/TPM per model). Use it to explain 402/429 errors. For "
        "the whole account's funds use venice_billing_balance. Free, read-only.",
    )

    async def venice_rate_limit_log() -> LogResult:
        with rt.guarded("venice_rate_limit_log"):
            entries = [_plain(e) for e in await (await rt.keys()).rate_limit_log()]
        return LogResult(entries=entries, count=len(entries))

    add(
        "venice_rate_limit_log",
        venice_rate_limit_log,
        "The account's last rate-limit breaches, newest first (apiKeyId, modelId, "
        "rateLimitType such as RPM/RPD/TPM, timestamp). Use it after 429 errors to see which key "
        "and model hit which limit. Free, read-only; needs the operator's admin key.",
    )

    async def venice_billing_balance() -> BillingBalanceResult:
        with rt.guarded("venice_billing_balance"):
            raw = await (await rt.keys()).billing_balance()
            return BillingBalanceResult.model_validate(_wire(raw))

    add(
        "venice_billing_balance",
        venice_billing_balance,
        "The whole Venice account's funds: canConsume, consumptionCurrency (what is spent "
        "first), balances {usd, diem, bundledCredits, earnedCredits} and diemEpochAllocation "
        "(DIEM per day from staking). Every key's spending draws on these. Use it before making "
        "keys or when calls fail for lack of funds; per-key caps are not applied here (see "
        "venice_rate_limits). Free, read-only; needs the operator's admin key.",
    )

    # --- mint / create ----------------------------------------------------------------------
    def new_key_tool(
        tool: str, call: "Callable[[AsyncVeniceKeys], Callable[..., Awaitable[NewKey]]]"
    ) -> Callable[..., Awaitable[NewKeyResult]]:
        async def precheck(
            ctx: Context, req: Annotated[NewKeyRequest, Resolve(NewKeyRequest)]
        ) -> Any:
            with rt.guarded(tool, req.audit()):
                rt.check_new_key(req)
                return rt.confirmation(
                    tool,
                    ctx,
                    f"Allow the agent to make a new {req.api_key_type} Venice API key: "
                    f"{json.dumps(req.audit())}?",
                )

        async def make(
            req: Annotated[NewKeyRequest, Resolve(NewKeyRequest)],
            confirmation: Annotated[ElicitationResult[Confirmation], Resolve(precheck)],
            # The input schema comes from these parameters; the body reads them from `req`.
            description: Description,
            api_key_type: KeyType = "INFERENCE",
            expires_at: When = None,
            usd_limit: UsdLimit = None,
            diem_limit: DiemLimit = None,
            limit_period: Period = None,
            model_privacy: Privacy = None,
        ) -> NewKeyResult:
            args = req.audit()
            rt.check_confirmed(tool, args, confirmation)

            async def go() -> NewKeyResult:
                expiry = rt.check_new_key(req)  # again: time and the hourly count have moved
                marked = replace(req, description=mark_description(req.description))
                fn = call(await rt.keys())
                new = await fn(**asdict(replace(marked, expires_at=expiry)), sink=rt.new_sink(tool))
                return rt.new_key_result(new)

            async with rt.making(tool, args):
                return await rt.run_write(tool, args, go, new_id=lambda r: r.id)

        return make

    add(
        "venice_mint_key",
        new_key_tool("venice_mint_key", lambda keys: keys.mint_key),
        "Mint a NEW Venice API key with the server's wallet (sign-in with the wallet; no admin "
        "key needed). The wallet must hold staked VVV on Base: check venice_wallet_status first; "
        "NoStakedVVVError / NotEligibleError mean it holds none (ask the operator; do not "
        "retry). The key belongs to the wallet's Venice account. Prefer this over "
        "venice_create_key when the wallet is eligible. Cost: no transaction and no gas, but "
        "every call makes one more key that can spend the account's funds up to its caps, and "
        f"counts toward the hourly cap on new keys. Result: {secret_note} {rules('new_key')} "
        "RateLimitError: wait, then retry.",
    )
    add(
        "venice_create_key",
        new_key_tool("venice_create_key", lambda keys: keys.create_key),
        "Create a NEW Venice API key with the operator's admin key, on the admin key's account "
        "(no wallet needed). Use it when venice_mint_key is not offered or the wallet cannot "
        "mint; to replace an existing key use venice_rotate_key instead. Cost: free to call, "
        "but every call makes one more key that can spend the account's funds up to its caps, "
        "and counts toward the hourly cap on new keys. If the outcome is unclear "
        "(AmbiguousCreateError) the message names any orphan key and whether it was revoked; "
        "check venice_list_keys before trying again. "
        f"Result: {secret_note} {rules('new_key')} RateLimitError: wait, then retry.",
    )

    # --- update / revoke / rotate -----------------------------------------------------------
    async def update_target(req: Annotated[UpdateRequest, Resolve(UpdateRequest)]) -> Any:
        return await rt.load_owned("venice_update_key", req.key_id, req.audit())

    async def update_precheck(
        ctx: Context,
        req: Annotated[UpdateRequest, Resolve(UpdateRequest)],
        key: Annotated[Any, Resolve(update_target)],
    ) -> Any:
        tool = "venice_update_key"
        with rt.guarded(tool, req.audit(), key_id=req.key_id):
            rt.update_plan(key, req)
            return rt.confirmation(
                tool,
                ctx,
                f"Allow the agent to change key '{key.description}' (…{key.last6_chars}): "
                f"{json.dumps(req.changes())}?",
            )

    async def venice_update_key(
        req: Annotated[UpdateRequest, Resolve(UpdateRequest)],
        key: Annotated[Any, Resolve(update_target)],
        confirmation: Annotated[ElicitationResult[Confirmation], Resolve(update_precheck)],
        # The input schema comes from these parameters; the body reads them from `req`.
        key_id: KeyId,
        description: Description | None = None,
        expires_at: When = None,
        remove_expiry: Annotated[bool, Field(description="true removes the expiry.")] = False,
        usd_limit: NewUsdLimit = MISSING,
        diem_limit: NewDiemLimit = MISSING,
        limit_period: Period = None,
        model_privacy: Privacy = None,
    ) -> KeyInfo:
        tool = "venice_update_key"
        args = req.audit()
        rt.check_confirmed(tool, args, confirmation, key_id)

        async def go() -> KeyInfo:
            plan = rt.update_plan(key, req)
            return key_info(await (await rt.keys()).update_key(key_id, **plan))

        return await rt.run_write(tool, args, go, key_id=key_id)

    add(
        "venice_update_key",
        venice_update_key,
        "Change settings of an existing key in place: description, expiry (expires_at, or "
        "remove_expiry), usd_limit / diem_limit (a number, or null to remove that cap; omit to "
        "keep it), limit_period, model_privacy. The secret does not change, so nothing else "
        "needs updating; use this (not rotate) to raise or lower caps or extend an expiry. Takes "
        "effect at once for everything using the key. Result: the key as it now is (no secret). "
        "Free. The server may ask the human to confirm; a 'no' is a refusal (rule: "
        f"human_confirmation). {rules('update')}",
    )

    def key_resolvers(
        tool: str, question: str, *, missing_ok: bool = False, check_rate: bool = False
    ) -> tuple[Callable[..., Awaitable[Any]], Callable[..., Awaitable[Any]]]:
        """The (target, precheck) resolvers of revoke/rotate: load the owned key, then ask."""

        async def target(key_id: str) -> Any:
            return await rt.load_owned(tool, key_id, {"key_id": key_id}, missing_ok=missing_ok)

        async def precheck(ctx: Context, key_id: str, key: Annotated[Any, Resolve(target)]) -> Any:
            if key is None:
                return _NotAsked(confirm=True)  # nothing to act on, nothing to ask
            with rt.guarded(tool, {"key_id": key_id}, key_id=key_id):
                if check_rate:
                    rt.check_rate()
                return rt.confirmation(
                    tool,
                    ctx,
                    f"Allow the agent to {question.format(key.description, key.last6_chars)}",
                )

        return target, precheck

    revoke_target, revoke_precheck = key_resolvers(
        "venice_revoke_key",
        "REVOKE key '{}' (…{})? Anything using it stops working at once; this cannot be undone.",
        missing_ok=True,
    )

    async def venice_revoke_key(
        key: Annotated[Any, Resolve(revoke_target)],
        confirmation: Annotated[ElicitationResult[Confirmation], Resolve(revoke_precheck)],
        key_id: KeyId,
    ) -> RevokeResult:
        tool = "venice_revoke_key"
        args = {"key_id": key_id}
        rt.check_confirmed(tool, args, confirmation, key_id)

        async def go() -> RevokeResult:
            if key is None:
                return RevokeResult(revoked_key_id=key_id, revoked=False)
            try:
                await (await rt.keys()).revoke_key(key_id)
            except KeyNotFoundError:  # gone since it was looked up
                return RevokeResult(revoked_key_id=key_id, revoked=False)
            return RevokeResult(revoked_key_id=key_id, revoked=True)

        return await rt.run_write(tool, args, go, key_id=key_id)

    add(
        "venice_revoke_key",
        venice_revoke_key,
        "Permanently delete (revoke) an API key by id. Everything using it fails from then on "
        "and it cannot be undone; if something still needs a working key, use venice_rotate_key "
        "instead. Result: revoked_key_id and revoked (false = the key was already gone; nothing "
        "changed, so retrying is safe). Free. The server may ask the human to confirm; a 'no' is "
        f"a refusal (rule: human_confirmation). {rules('revoke')}",
    )

    rotate_target, rotate_precheck = key_resolvers(
        "venice_rotate_key",
        "ROTATE key '{}' (…{})? A successor with the same settings is made and the old key is "
        "revoked.",
        check_rate=True,
    )

    async def venice_rotate_key(
        key: Annotated[Any, Resolve(rotate_target)],
        confirmation: Annotated[ElicitationResult[Confirmation], Resolve(rotate_precheck)],
        key_id: KeyId,
    ) -> RotateResult:
        tool = "venice_rotate_key"
        args = {"key_id": key_id}
        rt.check_confirmed(tool, args, confirmation, key_id)

        async def go() -> RotateResult:
            rt.check_rate()
            result = await (await rt.keys()).rotate_key(
                key_id, sink=rt.new_sink(tool), description=mark_description(key.description or "")
            )
            return RotateResult(
                new_key=rt.new_key_result(result.new_key),
                revoked_key_id=result.revoked_key_id,
                verified=result.verified,
            )

        async with rt.making(tool, args, key_id=key_id):
            return await rt.run_write(tool, args, go, key_id=key_id, new_id=lambda r: r.new_key.id)

    add(
        "venice_rotate_key",
        venice_rotate_key,
        "Replace a key's secret: make a successor with the same type, caps, period, privacy and "
        "expiry, save its secret, check it works, then revoke the old key. Use it when a secret "
        "may have leaked or is due for rotation; prefer it to create + revoke (one call, and the "
        "successor is checked before the old key goes). The old secret stops working at once: "
        "move whatever used it to the new file. Free to call; counts as one new key toward the "
        "hourly cap. The server may ask the human to confirm; a 'no' is a refusal (rule: "
        "human_confirmation). Result: revoked_key_id, verified (the successor worked) and "
        f"new_key: {secret_note} {rules('rotate')}",
    )

    return registered
