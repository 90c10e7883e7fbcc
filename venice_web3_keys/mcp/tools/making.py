"""Tools that make a key from scratch: mint (the server's wallet signs) and create (admin key).

Before the body runs, MCPServer runs the resolvers: the request is checked against the policy
and, if the policy wants it, the human is asked. The body checks again (time and the hourly
count have moved), holds the key-making lock around count + make + audit, and calls the facade
once; a new secret goes to a file, never into the result unless the operator opted in.
"""

# No `from __future__ import annotations`: MCPServer reads these annotations as objects.

import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict, replace
from typing import TYPE_CHECKING, Annotated

from mcp.server.mcpserver import Context, Elicit, ElicitationResult, Resolve

from venice_web3_keys.mcp.arguments import (
    Description,
    NewKeyRequest,
    OfferedArguments,
    Privacy,
    When,
)
from venice_web3_keys.mcp.catalog import CREATE_KEY, MINT_KEY, ToolSpec
from venice_web3_keys.mcp.policy import mark_description
from venice_web3_keys.mcp.registry import ToolRegistry
from venice_web3_keys.mcp.results import NewKeyResult
from venice_web3_keys.mcp.runtime import Confirmation, ToolRuntime, runtime_of
from venice_web3_keys.validation import ApiKeyType, LimitPeriod

if TYPE_CHECKING:
    from venice_web3_keys.api import AsyncVeniceKeys, NewKey

Runtime = Annotated[ToolRuntime, Resolve(runtime_of)]
Request = Annotated[NewKeyRequest, Resolve(NewKeyRequest)]
KeyMaker = Callable[["AsyncVeniceKeys"], Callable[..., Awaitable["NewKey"]]]
Precheck = Callable[..., Awaitable[Confirmation | Elicit[Confirmation]]]


def precheck_for(spec: ToolSpec) -> Precheck:
    """The resolver that applies the policy to a new-key request, then asks the human if due."""

    async def precheck(
        ctx: Context, request: Request, runtime: Runtime
    ) -> Confirmation | Elicit[Confirmation]:
        with runtime.guarded(spec, request.audit()):
            runtime.checked_new_key(request)
            return runtime.confirmation(
                spec,
                ctx,
                f"Allow the agent to make a new {request.api_key_type} Venice API key: "
                f"{json.dumps(request.audit())}?",
            )

    return precheck


async def make_new_key(
    runtime: ToolRuntime,
    spec: ToolSpec,
    maker: KeyMaker,
    request: NewKeyRequest,
    confirmation: ElicitationResult[Confirmation],
) -> NewKeyResult:
    args = request.audit()
    runtime.check_confirmed(spec, args, confirmation)

    async def make() -> NewKeyResult:
        checked = runtime.checked_new_key(request)  # again: time and the count have moved
        sent = replace(checked, description=mark_description(request.description))
        make_key = maker(await runtime.keys())
        new = await make_key(**asdict(sent), sink=runtime.new_sink())
        return runtime.new_key_result(new)

    async with runtime.making(spec, args):
        return await runtime.run_write(
            spec,
            args,
            make,
            new_id=lambda result: result.id,
            deadline=runtime.config.make_deadline,
        )


def new_key_tool(
    spec: ToolSpec, maker: KeyMaker, offered: OfferedArguments
) -> Callable[..., Awaitable[NewKeyResult]]:
    """The tool body for `spec`; its parameters are the published input schema."""
    precheck = precheck_for(spec)

    async def new_key(
        runtime: Runtime,
        request: Request,
        confirmation: Annotated[ElicitationResult[Confirmation], Resolve(precheck)],
        # The input schema comes from these parameters; the body reads them from `request`.
        description: Description,
        api_key_type: Annotated[ApiKeyType, offered.key_type] = offered.default_key_type,
        expires_at: When = None,
        usd_limit: Annotated[float | None, offered.usd_limit] = None,
        diem_limit: Annotated[float | None, offered.diem_limit] = None,
        limit_period: Annotated[LimitPeriod | None, offered.limit_period] = None,
        model_privacy: Privacy = None,
    ) -> NewKeyResult:
        return await make_new_key(runtime, spec, maker, request, confirmation)

    new_key.__name__ = new_key.__qualname__ = spec.name.removeprefix("venice_")
    return new_key


def with_wallet(keys: "AsyncVeniceKeys") -> Callable[..., Awaitable["NewKey"]]:
    return keys.mint_key


def with_admin_key(keys: "AsyncVeniceKeys") -> Callable[..., Awaitable["NewKey"]]:
    return keys.create_key


def register(registry: ToolRegistry) -> None:
    offered = OfferedArguments.for_policy(registry.config.policy)
    registry.add(MINT_KEY, new_key_tool(MINT_KEY, with_wallet, offered))
    registry.add(CREATE_KEY, new_key_tool(CREATE_KEY, with_admin_key, offered))
