"""`venice-keys sandbox` and `demo`: the local Venice emulator + chain, and the flow shown on it."""

from __future__ import annotations

from collections.abc import Sequence

import click

from venice_web3_keys.cli.failures import wants_json
from venice_web3_keys.cli.options import Command
from venice_web3_keys.cli.state import State, pass_state


@click.command(cls=Command, add_help_option=False,
               context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def sandbox(ctx: click.Context, args: Sequence[str]) -> None:
    """Run the local Venice emulator and Base chain.

    Prints .env lines (API base, RPC URL, a funded throwaway wallet); Ctrl-C stops them.
    `venice-keys sandbox --help` lists its options.
    """
    state = ctx.find_object(State)
    if (state is not None and state.output.json_mode) or wants_json(args):
        # It streams .env lines and logs until stopped: there is no one JSON object to print.
        raise click.UsageError("sandbox has no --json output (it runs until stopped and "
                               "prints .env lines); run it without --json", ctx)
    from venice_web3_keys.sandbox.__main__ import main as sandbox_main

    rc = sandbox_main(list(args))
    raise SystemExit(rc or 0)


@click.command(cls=Command)
@click.option("--keep", is_flag=True, help="Keep the temporary folder of demo secrets.")
@pass_state
def demo(state: State, keep: bool) -> None:
    """The whole flow, narrated, on a throwaway local sandbox.

    Starts a local chain and the Venice emulator, funds a wallet, mints an ADMIN key, makes a
    capped customer key, rotates and revokes it, then stops everything. Nothing real is touched.
    """
    from venice_web3_keys.cli.demo import run_demo

    run_demo(state.output, keep=keep)
