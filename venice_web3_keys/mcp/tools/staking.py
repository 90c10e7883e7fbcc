"""The tool that moves funds: stake the server's VVV for sVVV (so that its wallet can mint).

Before the body runs, the resolver applies the policy (refused unless the operator set a stake
cap above 0), plans the stake (a dry run: simulated, nothing signed, so the human is never asked
about a stake that cannot work) and asks the human, always. The body checks the answer and the
policy again, stakes once through the facade and audits the outcome with its transaction hashes;
a call cancelled midway is audited with what it had put on chain.
"""

# No `from __future__ import annotations`: MCPServer reads these annotations as objects.

from decimal import Decimal
from typing import Annotated, Any

from mcp.server.mcpserver import Context, Elicit, ElicitationResult, Resolve

from venice_web3_keys.amounts import VVV_DECIMALS, from_base_units, parse_stake_amount
from venice_web3_keys.errors import InvalidInputError
from venice_web3_keys.mcp.arguments import VvvAmount
from venice_web3_keys.mcp.catalog import STAKE_VVV
from venice_web3_keys.mcp.registry import ToolRegistry
from venice_web3_keys.mcp.results import StakeOutcome, stake_outcome
from venice_web3_keys.mcp.runtime import Confirmation, ToolRuntime, runtime_of

Runtime = Annotated[ToolRuntime, Resolve(runtime_of)]


def exact_amount(amount: str) -> Decimal:
    """The amount in whole VVV, exactly; "all" is not taken here: an agent names the amount."""
    wei = parse_stake_amount(amount)
    if wei == "all":
        raise InvalidInputError('amount must be a number of VVV; "all" is not accepted here',
                                field="amount")
    return from_base_units(wei, VVV_DECIMALS)


async def plan_and_confirm(
    ctx: Context, amount: str, runtime: Runtime
) -> Confirmation | Elicit[Confirmation]:
    args = {"amount": amount}
    with runtime.guarded(STAKE_VVV, args):
        runtime.policy.check_stake(exact_amount(amount))
        plan = await (await runtime.keys()).stake_vvv(amount, dry_run=True)
        # The same words on every round (the SDK matches the answer to the question): no fees.
        return runtime.confirmation(
            STAKE_VVV,
            ctx,
            f"Allow the agent to STAKE {amount} VVV from the server's wallet {plan.address} "
            f"into the Venice staking contract {plan.staking_contract} on chain "
            f"{plan.chain_id}? It approves exactly {amount} VVV if needed, then stakes; gas is "
            "paid in ETH, and unstaking takes a 7-day cooldown.",
        )


async def stake_vvv(
    runtime: Runtime,
    confirmation: Annotated[ElicitationResult[Confirmation], Resolve(plan_and_confirm)],
    amount: VvvAmount,
) -> StakeOutcome:
    args = {"amount": amount}
    runtime.check_confirmed(STAKE_VVV, args, confirmation)
    from venice_web3_keys.flows._result import StakeProgress  # what the flow reports, on use

    progress = StakeProgress()

    async def stake() -> StakeOutcome:
        runtime.policy.check_stake(exact_amount(amount))
        return stake_outcome(await (await runtime.keys()).stake_vvv(amount, progress=progress))

    return await runtime.run_write(
        STAKE_VVV,
        args,
        stake,
        details=_hashes,
        failure_details=lambda: {"on_chain": progress.summary()},  # a cancelled call too
    )


def _hashes(outcome: StakeOutcome) -> dict[str, Any]:
    return {"approve_tx": outcome.approve_tx, "stake_tx": outcome.stake_tx}


def register(registry: ToolRegistry) -> None:
    registry.add(STAKE_VVV, stake_vvv)
