"""`venice-keys sandbox` and `demo`: the local Venice emulator + chain, and the flow shown on it.

`sandbox fund` finds the running sandbox through the settings it printed: BASE_RPC_URL (from the
environment, a .env file or --rpc-url) must be a loopback anvil carrying the sandbox tokens.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path

import click

from venice_web3_keys.cli.options import Command, Group
from venice_web3_keys.cli.render import safe
from venice_web3_keys.cli.state import State, pass_state
from venice_web3_keys.errors import InvalidInputError
from venice_web3_keys.sandbox import DEFAULT_STARTING_USD, MINT_VARIANTS


@click.group(cls=Group, invoke_without_command=True)
@click.option("--variant", type=click.Choice(MINT_VARIANTS), default="jwt", show_default=True,
              help="The web3 mint challenge: a JWT token (what Venice serves today) or SIWE.")
@click.option("--persist", metavar="FILE", type=click.Path(dir_okay=False),
              help="Keep the emulator's state in this JSON file across runs.")
@click.option("--port", type=click.IntRange(0, 65535), default=0, metavar="N",
              help="Emulator port on 127.0.0.1 (default: a free port).")
@click.option("--starting-usd", default=str(DEFAULT_STARTING_USD), metavar="USD",
              show_default=True,
              help="USD credit of every new account (0 is a new Venice account).")
@click.option("--diem", default="10", metavar="N", show_default=True,
              help="DIEM held by the printed wallet, i.e. its daily DIEM allowance.")
@click.option("--vvv", default="50", metavar="N", show_default=True,
              help="Unstaked VVV held by the printed wallet, to try `venice-keys wallet stake`.")
@click.pass_context
def sandbox(ctx: click.Context, variant: str, persist: str | None, port: int,
            starting_usd: str, diem: str, vvv: str) -> None:
    """Run the local Venice emulator and Base chain until Ctrl-C.

    Prints .env lines: the API base, the RPC URL and a funded throwaway wallet. Nothing real is
    touched. `venice-keys sandbox fund ADDRESS` funds any other wallet on it. The same as
    `python -m venice_web3_keys.sandbox`.
    """
    if ctx.invoked_subcommand is not None:
        return
    state = ctx.find_object(State)
    if state is not None and state.output.json_mode:
        # It streams .env lines and logs until stopped: there is no one JSON object to print.
        raise click.UsageError("sandbox has no --json output (it runs until stopped and "
                               "prints .env lines); run it without --json", ctx)
    from venice_web3_keys.sandbox.__main__ import serve

    rc = serve(variant=variant, persist=Path(persist) if persist else None, port=port,
               starting_usd=_amount(starting_usd, "--starting-usd"),
               diem=_amount(diem, "--diem"), vvv=_amount(vvv, "--vvv"))
    raise SystemExit(rc)


@sandbox.command("fund")
@click.argument("address", metavar="ADDRESS")
@click.option("--eth", metavar="N", help="Set its ETH balance (gas) to N.")
@click.option("--vvv", metavar="N", help="Set its VVV balance to N.")
@click.option("--svvv", metavar="N", help="Set its sVVV (staked VVV) balance to N: any > 0 mints.")
@click.option("--diem", metavar="N", help="Set its DIEM balance to N (its daily DIEM credit).")
@pass_state
def sandbox_fund(state: State, address: str, eth: str | None, vvv: str | None,
                 svvv: str | None, diem: str | None) -> None:
    """Set balances of any address on the running sandbox chain.

    The sandbox is found through BASE_RPC_URL, as `venice-keys sandbox` printed it (export its
    lines, put them in .env, or pass --rpc-url); only a loopback sandbox chain is accepted.
    """
    from venice_web3_keys.addresses import checksum_address
    from venice_web3_keys.sandbox.chain import ChainRPC, to_wei

    target = checksum_address(address)
    amounts = {name: value for name, value in (("ETH", eth), ("VVV", vvv), ("sVVV", svvv),
                                               ("DIEM", diem)) if value is not None}
    if not amounts:
        raise InvalidInputError("nothing to fund: give --eth, --vvv, --svvv or --diem")
    for name, value in amounts.items():
        to_wei(value, field=name.lower())  # InvalidInputError naming the flag, before any call
    rpc_url = state.settings().rpc_urls[0]
    chain = ChainRPC.attach(rpc_url)
    try:
        chain.fund(target, eth=eth, vvv=vvv, svvv=svvv, diem=diem)
        balances = chain.balances(target)
    finally:
        chain.close()
    if state.output.json_mode:
        state.output.emit_json({"address": target, "chainId": chain.chain_id,
                                "balances": balances})
        return
    shown = ", ".join(f"{name} {amount}" for name, amount in balances.items())
    state.output.out.print(f"[green]✓[/green] Funded [bold]{target}[/bold] on the sandbox "
                           f"chain {safe(chain.rpc_url)}: {safe(shown)}")


def _amount(text: str, flag: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InvalidInputError(f"{flag} must be a number") from None
    if not value.is_finite() or value < 0:
        raise InvalidInputError(f"{flag} must be a number >= 0")
    return value


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

