"""`venice-keys limits` and `billing`: what the calling key may use, what the account holds."""

from __future__ import annotations

import click

from venice_web3_keys.cli.options import Group
from venice_web3_keys.cli.state import State, pass_state
from venice_web3_keys.serialize import to_jsonable


@click.group(cls=Group, invoke_without_command=True)
@click.pass_context
def limits(ctx: click.Context) -> None:
    """Rate limits and balances of the calling key.

    The calling key is VENICE_API_KEY, else VENICE_ADMIN_KEY. `limits log` lists recent breaches.
    """
    if ctx.invoked_subcommand is not None:
        return
    state = ctx.find_object(State)
    assert state is not None
    data = state.call("Reading rate limits…", lambda vk: vk.rate_limits())
    state.show(data, lambda d: state.output.rate_limits(to_jsonable(d)))


@limits.command("log")
@pass_state
def limits_log(state: State) -> None:
    """Recent rate-limit breaches of the account (admin)."""
    entries = state.call("Reading the rate-limit log…", lambda vk: vk.rate_limit_log())
    state.show(entries, lambda d: state.output.rate_limit_log(to_jsonable(d)), as_list=True)


@click.command(cls=Group.command_class)
@pass_state
def billing(state: State) -> None:
    """Account balance (admin)."""
    data = state.call("Reading the balance…", lambda vk: vk.billing_balance())
    state.show(data, lambda d: state.output.billing(to_jsonable(d)))
