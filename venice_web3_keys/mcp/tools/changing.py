"""Tools that change an existing key: update its settings, revoke it, rotate its secret.

For each, resolvers run before the body: load the key and apply the ownership rule, then apply
the policy and ask the human when the policy wants it (a key already gone asks nobody). The
body re-checks what may have moved and calls the facade once; every outcome is audited.
"""

# No `from __future__ import annotations`: MCPServer reads these annotations as objects.

import json
from typing import Annotated

from mcp.server.mcpserver import Context, Elicit, ElicitationResult, Resolve
from pydantic import MISSING

from venice_web3_keys.errors import KeyNotFoundError
from venice_web3_keys.mcp.arguments import (
    Description,
    KeyId,
    NewDiemLimit,
    NewUsdLimit,
    Period,
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

Runtime = Annotated[ToolRuntime, Resolve(runtime_of)]
Update = Annotated[UpdateRequest, Resolve(UpdateRequest)]


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
            f"Allow the agent to change key '{key.description}' (…{key.last6_chars}): "
            f"{json.dumps(request.changes())}?",
        )


async def update_key(
    runtime: Runtime,
    request: Update,
    key: Annotated[ApiKey, Resolve(key_to_update)],
    confirmation: Annotated[ElicitationResult[Confirmation], Resolve(confirm_update)],
    # The input schema comes from these parameters; the body reads them from `request`.
    key_id: KeyId,
    description: Description | None = None,
    expires_at: When = None,
    remove_expiry: RemoveExpiry = False,
    usd_limit: NewUsdLimit = MISSING,
    diem_limit: NewDiemLimit = MISSING,
    limit_period: Period = None,
    model_privacy: Privacy = None,
) -> KeyInfo:
    args = request.audit()
    runtime.check_confirmed(UPDATE_KEY, args, confirmation, key_id)

    async def update() -> KeyInfo:
        changes = runtime.update_plan(key, request)
        return runtime.key_info(await (await runtime.keys()).update_key(key_id, **changes))

    return await runtime.run_write(UPDATE_KEY, args, update, key_id=key_id)


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
            f"Allow the agent to REVOKE key '{key.description}' (…{key.last6_chars})? Anything "
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
        try:
            await (await runtime.keys()).revoke_key(key_id)
        except KeyNotFoundError:  # gone since it was looked up
            return RevokeResult(revoked_key_id=key_id, revoked=False)
        return RevokeResult(revoked_key_id=key_id, revoked=True)

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
        runtime.check_rate()
        return runtime.confirmation(
            ROTATE_KEY,
            ctx,
            f"Allow the agent to ROTATE key '{key.description}' (…{key.last6_chars})? A "
            "successor with the same settings is made and the old key is revoked.",
        )


async def rotate_key(
    runtime: Runtime,
    key: Annotated[ApiKey, Resolve(key_to_rotate)],
    confirmation: Annotated[ElicitationResult[Confirmation], Resolve(confirm_rotate)],
    key_id: KeyId,
) -> RotateResult:
    args = {"key_id": key_id}
    runtime.check_confirmed(ROTATE_KEY, args, confirmation, key_id)

    async def rotate() -> RotateResult:
        runtime.check_rate()
        result = await (await runtime.keys()).rotate_key(
            key_id,
            sink=runtime.new_sink(ROTATE_KEY),
            description=mark_description(key.description or ""),
        )
        return RotateResult(
            new_key=runtime.new_key_result(result.new_key),
            revoked_key_id=result.revoked_key_id,
            verified=result.verified,
        )

    async with runtime.making(ROTATE_KEY, args, key_id=key_id):
        return await runtime.run_write(
            ROTATE_KEY, args, rotate, key_id=key_id, new_id=lambda result: result.new_key.id
        )


def register(registry: ToolRegistry) -> None:
    registry.add(UPDATE_KEY, update_key)
    registry.add(REVOKE_KEY, revoke_key)
    registry.add(ROTATE_KEY, rotate_key)
