"""Per-server state the tools share: the facade (built on first use), the operator policy, the
locks, the audit log, where new secrets go, and how a human is asked to confirm.

Every write goes through `guarded` / `run_write`, so each outcome (ok, refused with its rules,
error with its type) is audited exactly once and reaches the agent as a ToolError without a
traceback or a secret. Writes to one key are serialised (`key_lock`) and re-read inside the
lock, so a decision is never made on a stale read; key-making calls also hold the make-lock
(this process and, through the audit log's flock, every server sharing it) for at most
`OperatorConfig.make_deadline` seconds.
"""

from __future__ import annotations

import math
import os
import stat
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
from mcp.server.mcpserver import AcceptedElicitation, Context, Elicit
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from venice_web3_keys.errors import (
    InvalidInputError,
    KeyNotFoundError,
    PolicyError,
    TransactionError,
    VeniceKeysError,
)
from venice_web3_keys.mcp.arguments import NewKeyRequest, UpdateRequest
from venice_web3_keys.mcp.audit import AuditLog
from venice_web3_keys.mcp.catalog import LIST_KEYS
from venice_web3_keys.mcp.key_rules import (
    KeySettings,
    UpdatePlan,
    as_sent,
    new_key_settings,
    plan_update,
)
from venice_web3_keys.mcp.outcomes import keys_a_failure_made, next_step_text
from venice_web3_keys.mcp.policy import refusal, refusal_for
from venice_web3_keys.mcp.results import KeyInfo, NewKeyResult, key_info, new_key_result
from venice_web3_keys.secret import get_logger
from venice_web3_keys.validation import validate_key_id

if TYPE_CHECKING:
    import pydantic

    from venice_web3_keys.api import AsyncVeniceKeys, NewKey
    from venice_web3_keys.budget import RateBudget
    from venice_web3_keys.mcp.catalog import ToolSpec
    from venice_web3_keys.mcp.config import OperatorConfig
    from venice_web3_keys.models import ApiKey
    from venice_web3_keys.sinks import KeyDirectorySink

log = get_logger("venice_web3_keys.mcp.runtime")
T = TypeVar("T")


class Confirmation(BaseModel):
    """What the human answers when the server asks before a destructive action."""

    confirm: bool = Field(description="true to allow this action, false to refuse it")


class NotAsked(Confirmation):
    """Stands for 'no question was needed' (policy or client capability)."""


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
        self._key_locks: dict[str, anyio.Lock] = {}

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

    # --- locks ------------------------------------------------------------------------------
    def key_lock(self, key_id: str) -> anyio.Lock:
        """One lock per key: writes to a key run one at a time, each on a fresh read. Keyed by
        the canonical id, so `ABC…` and `abc…` (one key) share it."""
        return self._key_locks.setdefault(validate_key_id(key_id), anyio.Lock())

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
                    wait = await cap.wait_time()
                    next_at = datetime.now(UTC) + timedelta(seconds=wait)
                    raise refusal(
                        "keys_per_hour",
                        f"At most {cap.limit} keys may be made per hour by the MCP servers "
                        f"sharing {cap.storage.location}. The next key is allowed at "
                        f"{next_at:%Y-%m-%dT%H:%M:%SZ} (in about {max(1, math.ceil(wait / 60))} "
                        "min); try again then.",
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

    # --- secrets ----------------------------------------------------------------------------
    def new_sink(self) -> KeyDirectorySink:
        """A new 0600 file `<key id>.key` in the secrets directory (the directory kept 0700)."""
        from venice_web3_keys.sinks import KeyDirectorySink

        return KeyDirectorySink(self.config.secrets_dir)

    def remove_secret_file(self, key_id: str) -> str | None:
        """Delete `<key id>.key` from the secrets directory once that key is revoked; returns
        its path if it was there. Only a regular file of ours is removed (never a symlink)."""
        try:
            path = self.config.secrets_dir / f"{validate_key_id(key_id)}.key"
            info = path.lstat()
            if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
                return None
            path.unlink()
        except (OSError, InvalidInputError):
            return None
        return str(path.resolve().parent / path.name)

    def new_key_result(self, new: NewKey) -> NewKeyResult:
        return new_key_result(new, reveal=self.config.reveal_secrets)

    # --- ownership --------------------------------------------------------------------------
    def made_here(self, key: ApiKey) -> bool:
        """Made by this server or another sharing its audit log: by id, never by description."""
        return str(key.id) in self.audit.made_key_ids()

    def key_info(self, key: ApiKey) -> KeyInfo:
        return key_info(key, made_by_this_server=self.made_here(key))

    def key_infos(self, keys: list[ApiKey]) -> list[KeyInfo]:
        made = self.audit.made_key_ids()
        return [key_info(key, made_by_this_server=str(key.id) in made) for key in keys]

    def check_owned(self, spec: ToolSpec, key: ApiKey) -> None:
        self.policy.check_owned(spec.name, str(key.id), made_here=self.made_here(key))

    async def owned_key(self, spec: ToolSpec, key_id: str, args: Mapping[str, Any]) -> ApiKey:
        """The key `key_id`, if the ownership rule lets `spec` act on it."""
        with self.guarded(spec, args, key_id=key_id):
            key = await (await self.keys()).get_key(key_id)
            self.check_owned(spec, key)
            return key

    async def owned_key_if_any(
        self, spec: ToolSpec, key_id: str, args: Mapping[str, Any]
    ) -> ApiKey | None:
        """As `owned_key`, but None when there is no such key (already revoked, say)."""
        with self.guarded(spec, args, key_id=key_id):
            try:
                key = await (await self.keys()).get_key(key_id)
            except KeyNotFoundError:
                return None
            self.check_owned(spec, key)
            return key

    # --- outcomes and the audit log -----------------------------------------------------------
    def refuse(
        self,
        spec: ToolSpec,
        args: Mapping[str, Any],
        exc: PolicyError,
        key_id: str | None = None,
        *,
        restored: bool = False,
    ) -> ToolError:
        """Audit a refusal and turn it into the ToolError the agent sees."""
        self.audit.record(
            spec.name, args, "refused", rules=exc.rules, key_id=key_id, restored=restored
        )
        log.info("%s refused by rule(s) %s", spec.name, ", ".join(exc.rules))
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

    def _audit_failure(
        self,
        spec: ToolSpec,
        args: Mapping[str, Any],
        exc: BaseException,
        key_id: str | None,
        failure_details: Callable[[], Mapping[str, Any]] | None,
    ) -> None:
        counts, made_ids = keys_a_failure_made(exc) if spec.makes_key else (False, [])
        details = dict(failure_details()) if failure_details is not None else {}
        if isinstance(exc, TransactionError) and exc.tx_hash:
            details["tx_hash"] = exc.tx_hash  # public on chain
        self.audit.record(
            spec.name,
            args,
            "error",
            key_id=key_id,
            new_key_ids=made_ids,
            error_type=type(exc).__name__,
            counts_as_key=counts,
            details=details or None,
        )

    @contextmanager
    def guarded(
        self,
        spec: ToolSpec,
        args: Mapping[str, Any] | None = None,
        *,
        key_id: str | None = None,
        deadline: float | None = None,
        failure_details: Callable[[], Mapping[str, Any]] | None = None,
    ) -> Iterator[None]:
        """Turn every failure into a ToolError; with `args` (a write), audit it as well (with
        `failure_details()`, what the call had done so far, if given)."""
        try:
            yield
        except ToolError:
            raise
        except PolicyError as exc:
            if args is None:
                raise ToolError(str(exc)) from None
            raise self.refuse(spec, args, exc, key_id=key_id) from None
        except TimeoutError as exc:
            if args is not None:
                self._audit_failure(spec, args, exc, key_id, failure_details)
            log.warning("%s gave up after its %g s deadline", spec.name, deadline or 0)
            raise ToolError(
                f"{spec.name} gave up after {deadline or 0:g} s waiting for Venice; whether a "
                "key was made is unknown (if one was, its secret was not saved). Check "
                f"{LIST_KEYS.name} before trying again, and ask the operator to revoke any key "
                "you cannot account for."
            ) from None
        except Exception as exc:
            if args is not None:
                self._audit_failure(spec, args, exc, key_id, failure_details)
            if isinstance(exc, VeniceKeysError):
                raise ToolError(f"{type(exc).__name__}: {exc}{self.next_step(exc)}") from None
            log.exception("%s failed unexpectedly", spec.name)
            raise ToolError(
                f"{spec.name} failed with an internal error (see the server log)"
            ) from None
        except BaseException as exc:  # cancelled (the client went away): still on record
            if args is not None:
                self._audit_failure(spec, args, exc, key_id, failure_details)
            raise

    def next_step(self, exc: BaseException) -> str:
        return next_step_text(exc, self._keys.settings if self._keys is not None else None)

    async def run_write(
        self,
        spec: ToolSpec,
        args: Mapping[str, Any],
        action: Callable[[], Awaitable[T]],
        *,
        key_id: str | None = None,
        new_id: Callable[[T], str | None] = lambda _result: None,
        deadline: float | None = None,
        details: Callable[[T], Mapping[str, Any]] | None = None,
        failure_details: Callable[[], Mapping[str, Any]] | None = None,
    ) -> T:
        """Run a write and audit it: ok / refused (with rules) / error (with type), cancelled
        calls included. With a deadline, the action is cancelled when it passes (the locks it
        holds are released). `details` / `failure_details` add what the server observed."""
        with self.guarded(
            spec, args, key_id=key_id, deadline=deadline, failure_details=failure_details
        ):
            if deadline is None:
                result = await action()
            else:
                with anyio.fail_after(deadline):
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
        violation = self.policy.rate_violation(self.audit.times_keys_made_last_hour())
        if violation is not None:
            raise refusal_for([violation])

    def checked_new_key(self, request: NewKeyRequest) -> NewKeyRequest:
        """The request as it will be sent, after the policy and the hourly cap allowed it."""
        sent = as_sent(request)
        self.policy.check_key(
            **new_key_settings(sent).as_policy_arguments(),
            made=self.audit.times_keys_made_last_hour(),
        )
        return sent

    def check_successor(self, key: ApiKey) -> None:
        """A rotation's successor copies `key`: it is a new key and obeys every new-key rule."""
        self.policy.check_key(
            **KeySettings.of(key).as_policy_arguments(),
            made=self.audit.times_keys_made_last_hour(),
        )

    def update_plan(self, key: ApiKey, request: UpdateRequest) -> UpdatePlan:
        return plan_update(self.policy, key, request, made_here=self.made_here(key))

    async def update_checked(
        self, spec: ToolSpec, key_id: str, request: UpdateRequest
    ) -> ApiKey:
        """Re-read the key, PATCH what the plan says, read it back; if the key Venice reports
        then breaks the policy (another client changed it meanwhile), PATCH back and say so.
        Runs under the key's lock."""
        keys = await self.keys()
        async with self.key_lock(key_id):
            key = await keys.get_key(key_id)
            self.check_owned(spec, key)
            plan = self.update_plan(key, request)
            await keys.update_key(key_id, **plan.changes)
            after = await keys.get_key(key_id)
            broken = self.policy.key_violations(**KeySettings.of(after).as_policy_arguments())
            if not broken:
                return after
            try:
                await keys.update_key(key_id, **plan.restore)
                fate = "so its previous settings were restored"
            except VeniceKeysError as exc:
                fate = (
                    f"and restoring its previous settings failed ({type(exc).__name__}): the "
                    "operator must check it"
                )
            refused = refusal_for(broken)
            raise PolicyError(
                f"{refused} The change was sent, but Venice then reported key {key_id} in a "
                f"state that breaks these rules (another client may have changed it at the "
                f"same time), {fate}.",
                rule=refused.rule,
                rules=refused.rules,
            )

    # --- confirmation (elicitation) -----------------------------------------------------------
    def confirmation(
        self, spec: ToolSpec, ctx: Context, question: str
    ) -> Confirmation | Elicit[Confirmation]:
        """Elicit when the policy (or the tool: `always_confirm`) wants it and the client can;
        refuse when it must and can't.

        The question must read the same on every round (the SDK re-runs resolvers and accepts
        an answer only for the exact question shown), so it holds no time-derived values.
        """
        mode = self.config.confirm_mode
        if not spec.always_confirm and (
            mode == "off" or spec.name not in self.policy.confirm_tools
        ):
            return NotAsked(confirm=True)
        capabilities = ctx.client_capabilities
        if capabilities is not None and capabilities.elicitation is not None:
            return Elicit(question, Confirmation)
        if mode == "required" or spec.always_confirm:
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
