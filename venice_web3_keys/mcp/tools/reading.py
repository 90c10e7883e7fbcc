"""Tools that only read: the wallet on Base, the account's keys, limits, breaches and funds."""

# No `from __future__ import annotations`: MCPServer reads these annotations as objects.

from typing import Annotated

from mcp.server.mcpserver import Resolve

from venice_web3_keys.mcp.arguments import Address, KeyId
from venice_web3_keys.mcp.catalog import (
    BILLING_BALANCE,
    GET_KEY,
    LIST_KEYS,
    RATE_LIMIT_LOG,
    RATE_LIMITS,
    WALLET_STATUS,
)
from venice_web3_keys.mcp.registry import ToolRegistry
from venice_web3_keys.mcp.results import (
    BillingBalanceResult,
    KeyInfo,
    KeyList,
    LogResult,
    RateLimitLogEntryView,
    RateLimitsResult,
    WalletStatusResult,
    snake_case_view,
    wallet_status_result,
)
from venice_web3_keys.mcp.runtime import ToolRuntime, runtime_of

Runtime = Annotated[ToolRuntime, Resolve(runtime_of)]


async def wallet_status(runtime: Runtime, address: Address = None) -> WalletStatusResult:
    with runtime.guarded(WALLET_STATUS):
        status = await (await runtime.keys()).wallet_status(address)
    return wallet_status_result(status)


async def list_keys(runtime: Runtime) -> KeyList:
    with runtime.guarded(LIST_KEYS):
        keys = [runtime.key_info(key) for key in await (await runtime.keys()).list_keys()]
    return KeyList(keys=keys, count=len(keys))


async def get_key(runtime: Runtime, key_id: KeyId) -> KeyInfo:
    with runtime.guarded(GET_KEY):
        return runtime.key_info(await (await runtime.keys()).get_key(key_id))


async def rate_limits(runtime: Runtime) -> RateLimitsResult:
    with runtime.guarded(RATE_LIMITS):
        limits = await (await runtime.keys()).rate_limits()
        return RateLimitsResult.model_validate(snake_case_view(limits))


async def rate_limit_log(runtime: Runtime) -> LogResult:
    with runtime.guarded(RATE_LIMIT_LOG):
        entries = [
            RateLimitLogEntryView.model_validate(snake_case_view(entry))
            for entry in await (await runtime.keys()).rate_limit_log()
        ]
    return LogResult(entries=entries, count=len(entries))


async def billing_balance(runtime: Runtime) -> BillingBalanceResult:
    with runtime.guarded(BILLING_BALANCE):
        balance = await (await runtime.keys()).billing_balance()
        return BillingBalanceResult.model_validate(snake_case_view(balance))


def register(registry: ToolRegistry) -> None:
    registry.add(WALLET_STATUS, wallet_status)
    registry.add(LIST_KEYS, list_keys)
    registry.add(GET_KEY, get_key)
    registry.add(RATE_LIMITS, rate_limits)
    registry.add(RATE_LIMIT_LOG, rate_limit_log)
    registry.add(BILLING_BALANCE, billing_balance)
