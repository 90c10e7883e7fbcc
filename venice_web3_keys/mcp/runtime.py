"""Per-server state the tools share: the facade (built on first use), the operator policy, the
key-making lock, the audit log, where new secrets go, and how a human is asked to confirm.

Every write goes through `guarded` / `run_write`, so each outcome (ok, refused with its rule,
error with its type) is audited exactly once and reaches the agent as a ToolError without a
traceback or a secret.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
from mcp.server.mcpserver import AcceptedElicitation, Context, Elicit
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from venice_web3_keys.errors import (
    AmbiguousCreateError,
    InvalidInputError,
    KeyNotFoundError,
    PolicyError,
    TransactionError,
    VeniceKeysError,
)
from venice_web3_keys.mcp.arguments import NewKeyRequest, UpdateRequest
from venice_web3_keys.mcp.audit import AuditLog
from venice_web3_keys.mcp.policy import is_owned, mark_description, refusal
from venice_web3_keys.mcp.results import (
    KeyInfo,
    Limits,
    NewKeyResult,
    key_info,
    limits_of,
    new_key_result,
)
from venice_web3_keys.timeparse import parse_expires

if TYPE_CHECKING:
    import pydantic

    from venice_web3_keys.api import AsyncVeniceKeys, NewKey
    from venice_web3_keys.budget import RateBudget
    from venice_web3_keys.mcp.catalog import ToolSpec
    from venice_web3_keys.mcp.config import OperatorConfig
    from venice_web3_keys.models import ApiKey
    from venice_web3_keys.sinks import FileSink

log = logging.getLogger("venice_web3_keys.mcp.runtime")
T = TypeVar("T")


class Confirmation(BaseModel):
    """What the human answers when the server asks before a destructive action."""

    confirm: bool = Field(description="true to allow this action, false to refuse it")


class NotAsked(Confirmation):
    """Stands for 'no question was needed' (policy or client capability)."""


def venice_expiry(expires_at: str | None) -> str | None:
    """A WHEN argument in the form Venice takes (None stays None)."""
    return None if expires_at is None else parse_expires(expires_at)


class ToolRuntime:
    """What every tool of one server shares (see the module docstring)."""

    def __init__(
        self,
        config: OperatorConfig,
        keys_factory: Callable[[], AsyncVeniceKeys] | None = None,
    ) -> None:
        self.config = config
        self.policy = config.policy
        self.audit = AuditLog(config.audit_log)
        self._keys_factory = keys_factory
        self._keys: AsyncVeniceKeys | None = None
        self._keys_lock = anyio.Lock()
        # Held from the hourly count to the audit line of the key made, so that concurrent
        # calls cannot both pass the cap (see `making`).
        self.make_lock = anyio.Lock()

    async def keys(self) -> AsyncVeniceKeys:
        """The facade, built on first use (this is where web3/eth_account may load)."""
        async with self._keys_lock:
            if self._keys is None:
                if self._keys_factory is not None:
                    self._keys = self._keys_factory()
                else:
                    from venice_web3_keys.api import AsyncVeniceKeys

                    self._keys = AsyncVeniceKeys.from_env(self.config.env_file)
            return self._keys

    async def aclose(self) -> None:
        if self._keys is not None:
            await self._keys.aclose()
            self._keys = None

    # --- making keys ------------------------------------------------------------------------
    @asynccontextmanager
    async def making(
        self, spec: ToolSpec, args: Mapping[str, Any], *, key_id: str | None = None
    ) -> AsyncIterator[None]:
        """Hold the key-making lock: in this server (anyio) and across every server process
        sharing the audit log (flock), around "count + make + append" of mint/create/rotate.

        With a shared budget storage (VENICE_BUDGET_URL=redis://...) the hourly cap is counted
        there instead, so servers on several hosts share it: a slot is taken atomically before
        the key is made (a make that then fails still counts for the hour).
        """
        async with self.make_lock, AsyncExitStack() as stack:
            with self.guarded(spec, args, key_id=key_id):  # a lock failure is audited too
                cap = await self.shared_cap()
                if cap is None:
                    await stack.enter_async_context(self.audit.exclusive())
                elif not await cap.try_acquire():
                    raise refusal(
                        "keys_per_hour",
                        f"At most {cap.limit} keys may be made per hour by the MCP servers "
                        f"sharing {cap.storage.location}. Try again later.",
                    )
            yield

    async def shared_cap(self) -> RateBudget | None:
        """The keys-per-hour cap in the shared budget storage, or None (the audit log counts)."""
        per_hour = self.policy.max_keys_per_hour
        keys = await self.keys()
        if per_hour is None or not keys.budget_storage.shared:
            return None
        from venice_web3_keys.budget import RateBudget

        scope = await keys.account_scope()
        return RateBudget(keys.budget_storage, (per_hour, 3600), "mcp-new-keys", scope)

    def new_sink(self, spec: ToolSpec) -> FileSink:
        """A FileSink for a fresh, unique file in the secrets directory (dir forced to 0700)."""
        from venice_web3_keys.sinks import FileSink

        directory = self.config.secrets_dir
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(directory, 0o700)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        name = f"{stamp}-{spec.name.removeprefix('venice_')}-{uuid.uuid4().hex[:12]}.key"
        return FileSink(directory / name)

    def new_key_result(self, new: NewKey) -> NewKeyResult:
        return new_key_result(new, reveal=self.config.reveal_secrets)

    # --- ownership --------------------------------------------------------------------------
    def made_here(self, key: ApiKey) -> bool:
        return is_owned(key.description)

    def key_info(self, key: ApiKey) -> KeyInfo:
        return key_info(key, made_by_this_server=self.made_here(key))

    async def owned_key(
        self, spec: ToolSpec, key_id: str, args: Mapping[str, Any]
    ) -> ApiKey:
        """The key `key_id`, if the ownership rule lets `spec` act on it."""
        key = await self.owned_key_if_any(spec, key_id, args, missing_ok=False)
        assert key is not None
        return key

    async def owned_key_if_any(
        self, spec: ToolSpec, key_id: str, args: Mapping[str, Any], *, missing_ok: bool = True
    ) -> ApiKey | None:
        """As `owned_key`, but None when there is no such key (already revoked, say)."""
        with self.guarded(spec, args, key_id=key_id):
            try:
                key = await (await self.keys()).get_key(key_id)
            except KeyNotFoundError:
                if missing_ok:
                    return None
                raise
            self.policy.check_owned(spec.name, key_id, key.description)
            return key

    # --- outcomes and the audit log -----------------------------------------------------------
    def refuse(
        self,
        spec: ToolSpec,
        args: Mapping[str, Any],
        exc: PolicyError,
        key_id: str | None = None,
    ) -> ToolError:
        """Audit a refusal and turn it into the ToolError the agent sees."""
        self.audit.record(spec.name, args, "refused", rule=exc.rule, key_id=key_id)
        log.info("%s refused by rule %s", spec.name, exc.rule)
        return ToolError(str(exc))

    def audit_invalid(
        self, spec: ToolSpec, args: Mapping[str, Any], exc: pydantic.ValidationError
    ) -> None:
        """Audit a write call the input schema rejected: nothing was attempted."""
        fields = sorted({".".join(str(part) for part in err["loc"]) for err in exc.errors()})
        self.audit.record(
            spec.name, args, "invalid", error_type="invalid_arguments", invalid_fields=fields
        )
        log.info("%s: arguments rejected by the input schema: %s", spec.name, fields)

    @contextmanager
    def guarded(
        self,
        spec: ToolSpec,
        args: Mapping[str, Any] | None = None,
        *,
        key_id: str | None = None,
    ) -> Iterator[None]:
        """Turn every failure into a ToolError; with `args` (a write), audit it as well."""
        try:
            yield
        except ToolError:
            raise
        except PolicyError as exc:
            if args is None:
                raise ToolError(str(exc)) from None
            raise self.refuse(spec, args, exc, key_id=key_id) from None
        except Exception as exc:
            if args is not None:
                orphans = exc.orphan_ids if isinstance(exc, AmbiguousCreateError) else None
                sent = exc.tx_hash if isinstance(exc, TransactionError) else None
                self.audit.record(
                    spec.name,
                    args,
                    "error",
                    key_id=key_id,
                    error_type=type(exc).__name__,
                    counts_as_key=spec.makes_key and bool(orphans),
                    details={"tx_hash": sent} if sent else None,
                )
            if isinstance(exc, VeniceKeysError):
                raise ToolError(f"{type(exc).__name__}: {exc}") from None
            log.exception("%s failed unexpectedly", spec.name)
            raise ToolError(
                f"{spec.name} failed with an internal error (see the server log)"
            ) from None

    async def run_write(
        self,
        spec: ToolSpec,
        args: Mapping[str, Any],
        action: Callable[[], Awaitable[T]],
        *,
        key_id: str | None = None,
        new_id: Callable[[T], str | None] = lambda _result: None,
        details: Callable[[T], Mapping[str, Any]] | None = None,
    ) -> T:
        """Run a write and audit it: ok / refused (with rule) / error (with type)."""
        with self.guarded(spec, args, key_id=key_id):
            result = await action()
        self.audit.record(
            spec.name,
            args,
            "ok",
            key_id=key_id,
            new_key_id=new_id(result),
            counts_as_key=spec.makes_key,
            details=details(result) if details is not None else None,
        )
        return result

    # --- policy -----------------------------------------------------------------------------
    def check_rate(self) -> None:
        self.policy.check_rate(self.audit.keys_made_last_hour())

    def check_new_key(self, request: NewKeyRequest) -> str | None:
        """Apply the caps and the hourly count to a mint/create; returns the Venice expiry."""
        expiry = venice_expiry(request.expires_at)
        self.policy.check_new_key(
            api_key_type=request.api_key_type,
            usd_limit=request.usd_limit,
            diem_limit=request.diem_limit,
            expires_at=expiry,
        )
        self.check_rate()
        return expiry

    def update_plan(self, key: ApiKey, request: UpdateRequest) -> dict[str, Any]:
        """The `update_key` keyword arguments for `request`, checked against the policy."""
        if request.remove_expiry and request.expires_at is not None:
            raise InvalidInputError(
                "give expires_at or remove_expiry, not both", field="expires_at"
            )
        changes = request.changes()
        if not changes:
            raise InvalidInputError("nothing to update: give at least one setting to change")
        if request.description is not None and self.made_here(key):
            changes["description"] = mark_description(request.description)
        if changes.pop("remove_expiry", False):
            changes["expires_at"] = None
        elif "expires_at" in changes:
            changes["expires_at"] = venice_expiry(changes["expires_at"])
        if "usd_limit" in changes or "diem_limit" in changes:
            current = limits_of(key.consumption_limits) or Limits()
            self.policy.check_limits(
                usd_limit=changes.get("usd_limit", current.usd),
                diem_limit=changes.get("diem_limit", current.diem),
            )
        if "expires_at" in changes:
            self.policy.check_expiry(changes["expires_at"])
        return changes

    # --- confirmation (elicitation) -----------------------------------------------------------
    def confirmation(
        self, spec: ToolSpec, ctx: Context, question: str
    ) -> Confirmation | Elicit[Confirmation]:
        """Elicit when the policy (or the tool: `always_confirm`) wants it and the client can;
        refuse when it must and can't.

        The question must read the same on every round (the SDK re-runs resolvers and accepts
        an answer only for the exact question shown), so it holds no time-derived values.
        """
        policy = self.policy
        if not spec.always_confirm and (
            policy.confirm == "off" or spec.name not in policy.confirm_tools
        ):
            return NotAsked(confirm=True)
        capabilities = ctx.client_capabilities
        if capabilities is not None and capabilities.elicitation is not None:
            return Elicit(question, Confirmation)
        if policy.confirm == "required" or spec.always_confirm:
            raise refusal(
                "human_confirmation",
                f"{spec.name} needs a human confirmation and this client cannot ask for one.",
            )
        return NotAsked(confirm=True)

    def check_confirmed(
        self, spec: ToolSpec, args: Mapping[str, Any], answer: Any, key_id: str | None = None
    ) -> None:
        """Refuse unless the answer is an accepted `confirm: true` (or no question was needed)."""
        if isinstance(answer, AcceptedElicitation) and answer.data.confirm:
            return
        raise self.refuse(
            spec,
            args,
            refusal("human_confirmation", "The human did not confirm this action."),
            key_id=key_id,
        )


def runtime_of(ctx: Context) -> ToolRuntime:
    """Resolver: the runtime of the server handling this call (see server.build_server)."""
    runtime = getattr(ctx.mcp_server, "runtime", None)
    if not isinstance(runtime, ToolRuntime):
        raise RuntimeError("these tools run only on the server that build_server() makes")
    return runtime
