"""Tools that change an existing key: update its settings, revoke it, rotate its secret.

For each, resolvers run before the body: load the key and apply the ownership rule, then apply
the policy and ask the human when the policy wants it (a key already gone asks nobody). The
body re-checks what may have moved and calls the facade once; every outcome is audited.
"""

# No `from __future__ import annotations`: MCPServer reads these annotations as objects.

import json
from collections.abc import Awaitable, Callable
from typing import Annotated

from mcp.server.mcpserver import Context, Elicit, ElicitationResult, Resolve
from pydantic import MISSING

from venice_web3_keys.mcp.arguments import (
    Description,
    KeyId,
    OfferedArguments,
    Privacy,
    RemoveExpiry,
    UpdateRequest,
    When,
)
from venice_web3_keys.mcp.catalog import REVOKE_KEY, ROTATE_KEY, UPDATE_KEY
from venice_web3_keys.mcp.policy import mark_description
from venice_web3_keys.mcp.registry import ToolRegistry
from venice_web3_keys.mcp.results import KeyInfo, RevokeResult, RotateResult
from venice_web3_keys.mcp.runtime import Confirmation, NotAsked, ToolRuntime, runtime_of
from venice_web3_keys.models import ApiKey
from venice_web3_keys.serialize import plain
from venice_web3_keys.validation import LimitPeriod

Runtime = Annotated[ToolRuntime, Resolve(runtime_of)]
Update = Annotated[UpdateRequest, Resolve(UpdateRequest)]


def _named(key: ApiKey) -> str:
    """A key as a question to the human names it (update, revoke, rotate): description (quoted)
    and last characters, as inert text. Both come from the server, and a description may be
    anyone's: a line break or a quote in it must not start a question of its own."""
    description = json.dumps(plain(key.description or ""), ensure_ascii=False)
    return f"{description} (…{plain(key.last6_chars or '')})"


# --- update ---------------------------------------------------------------------------------------
async def key_to_update(request: Update, runtime: Runtime) -> ApiKey:
    return await runtime.owned_key(UPDATE_KEY, request.key_id, request.audit())


async def confirm_update(
    ctx: Context,
    request: Update,
    key: Annotated[ApiKey, Resolve(key_to_update)],
    runtime: Runtime,
) -> Confirmation | Elicit[Confirmation]:
    with runtime.guarded(UPDATE_KEY, request.audit(), key_id=request.key_id):
        runtime.update_plan(key, request)
        return runtime.confirmation(
            UPDATE_KEY,
            ctx,
            f"Allow the agent to change key {_named(key)}: "
            f"{json.dumps(request.changes())}?",
        )


def update_tool(offered: OfferedArguments) -> Callable[..., Awaitable[KeyInfo]]:
    """The update body; its parameters are the published input schema."""

    async def update_key(
        runtime: Runtime,
        request: Update,
        confirmation: Annotated[ElicitationResult[Confirmation], Resolve(confirm_update)],
        # The input schema comes from these parameters; the body reads them from `request`.
        # A cap left out is MISSING (keep it) and null removes it; MISSING also keeps the
        # published schema from showing a misleading `null` default.
        key_id: KeyId,
        description: Description | None = None,
        expires_at: When = None,
        remove_expiry: RemoveExpiry = False,
        usd_limit: Annotated[float | MISSING | None, offered.new_usd_limit] = MISSING,
        diem_limit: Annotated[float | MISSING | None, offered.new_diem_limit] = MISSING,
        limit_period: Annotated[LimitPeriod | None, offered.limit_period] = None,
        model_privacy: Privacy = None,
    ) -> KeyInfo:
        args = request.audit()
        runtime.check_confirmed(UPDATE_KEY, args, confirmation, key_id)

        async def update() -> KeyInfo:
            return runtime.key_info(await runtime.update_checked(UPDATE_KEY, key_id, request))

        return await runtime.run_write(UPDATE_KEY, args, update, key_id=key_id)

    return update_key


# --- revoke ---------------------------------------------------------------------------------------
async def key_to_revoke(key_id: str, runtime: Runtime) -> ApiKey | None:
    return await runtime.owned_key_if_any(REVOKE_KEY, key_id, {"key_id": key_id})


async def confirm_revoke(
    ctx: Context,
    key_id: str,
    key: Annotated[ApiKey | None, Resolve(key_to_revoke)],
    runtime: Runtime,
) -> Confirmation | Elicit[Confirmation]:
    if key is None:
        return NotAsked(confirm=True)  # nothing to act on, nothing to ask
    with runtime.guarded(REVOKE_KEY, {"key_id": key_id}, key_id=key_id):
        return runtime.confirmation(
            REVOKE_KEY,
            ctx,
            f"Allow the agent to REVOKE key {_named(key)}? Anything "
            "using it stops working at once; this cannot be undone.",
        )


async def revoke_key(
    runtime: Runtime,
    key: Annotated[ApiKey | None, Resolve(key_to_revoke)],
    confirmation: Annotated[ElicitationResult[Confirmation], Resolve(confirm_revoke)],
    key_id: KeyId,
) -> RevokeResult:
    args = {"key_id": key_id}
    runtime.check_confirmed(REVOKE_KEY, args, confirmation, key_id)

    async def revoke() -> RevokeResult:
        if key is None:
            return RevokeResult(revoked_key_id=key_id, revoked=False)
        async with runtime.key_lock(key_id):
            outcome = await (await runtime.keys()).revoke_key(key_id)  # idempotent
        # already_revoked: gone since it was looked up
        return RevokeResult(revoked_key_id=key_id, revoked=not outcome.already_revoked)

    return await runtime.run_write(REVOKE_KEY, args, revoke, key_id=key_id)


# --- rotate ---------------------------------------------------------------------------------------
async def key_to_rotate(key_id: str, runtime: Runtime) -> ApiKey:
    return await runtime.owned_key(ROTATE_KEY, key_id, {"key_id": key_id})


async def confirm_rotate(
    ctx: Context,
    key_id: str,
    key: Annotated[ApiKey, Resolve(key_to_rotate)],
    runtime: Runtime,
) -> Confirmation | Elicit[Confirmation]:
    with runtime.guarded(ROTATE_KEY, {"key_id": key_id}, key_id=key_id):
        runtime.check_successor(key)
        return runtime.confirmation(
            ROTATE_KEY,
            ctx,
            f"Allow the agent to ROTATE key {_named(key)}? A "
            "successor with the same settings is made and the old key is revoked.",
        )


async def rotate_key(
    runtime: Runtime,
    confirmation: Annotated[ElicitationResult[Confirmation], Resolve(confirm_rotate)],
    key_id: KeyId,
) -> RotateResult:
    args = {"key_id": key_id}
    runtime.check_confirmed(ROTATE_KEY, args, confirmation, key_id)

    async def rotate() -> RotateResult:
        keys = await runtime.keys()
        async with runtime.key_lock(key_id):
            current = await keys.get_key(key_id)  # the successor copies the key as it is now
            runtime.check_owned(ROTATE_KEY, current)
            runtime.check_successor(current)
            result = await keys.rotate_key(
                key_id,
                sink=runtime.new_sink(),
                description=mark_description(current.description or ""),
            )
        return RotateResult(
            new_key=runtime.new_key_result(result.new_key),
            revoked_key_id=result.revoked_key_id,
            verified=result.verified,
            removed_secret_file=runtime.remove_secret_file(result.revoked_key_id),
        )

    async with runtime.making(ROTATE_KEY, args, key_id=key_id):
        return await runtime.run_write(
            ROTATE_KEY,
            args,
            rotate,
            key_id=key_id,
            new_id=lambda result: result.new_key.id,
            deadline=runtime.config.make_deadline,
        )


def register(registry: ToolRegistry) -> None:
    registry.add(UPDATE_KEY, update_tool(OfferedArguments.for_policy(registry.config.policy)))
    registry.add(REVOKE_KEY, revoke_key)
    registry.add(ROTATE_KEY, rotate_key)
