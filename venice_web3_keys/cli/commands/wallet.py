"""`venice-keys wallet`: create a keystore, check balances on Base, stake VVV."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from venice_web3_keys.cli.options import Group, prompt_secret
from venice_web3_keys.cli.render import wallet_status_data
from venice_web3_keys.cli.state import State, pass_state, stdin_is_tty
from venice_web3_keys.errors import InvalidInputError

if TYPE_CHECKING:
    from venice_web3_keys.flows._result import StakeProgress, Step, StepState
    from venice_web3_keys.settings import Settings


@click.group(cls=Group)
def wallet() -> None:
    """The minting wallet: new keystore, balances on Base, stake VVV."""


@wallet.command("new")
@click.option("--keystore", required=True, metavar="PATH", help="Where to write the keystore.")
@click.option("--password-file", metavar="F", help="Read the keystore password from this file.")
@pass_state
def wallet_new(state: State, keystore: str, password_file: str | None) -> None:
    """Create an encrypted keystore for a new random wallet and print its address."""
    from venice_web3_keys.signer import create_keystore, keystore_password

    path = Path(keystore).expanduser()
    if path.exists() or path.is_symlink():
        raise InvalidInputError(f"{keystore} already exists; it is never overwritten",
                                field="keystore")
    if not path.parent.is_dir():
        raise InvalidInputError(f"folder {path.parent} does not exist", field="keystore")
    password = keystore_password(
        state.settings(), password_file=password_file, keystore=path,
        prompt=(lambda label: prompt_secret("New keystore password", confirm=True))
        if stdin_is_tty() else None)
    address = create_keystore(path, password)
    if state.output.json_mode:
        state.output.emit_json({"address": address, "keystore": str(path)})
        return
    state.output.out.print(f"[green]✓[/green] New wallet [bold]{address}[/bold]")
    state.output.out.print(f"  keystore (0600): {path}")
    state.output.out.print(f"  next: fund it with sVVV on Base, then set "
                           f"VENICE_WALLET_KEYSTORE={path}")


@wallet.command("status")
@click.option("--address", metavar="ADDR", help="Any wallet (default: the configured one).")
@pass_state
def wallet_status(state: State, address: str | None) -> None:
    """Balances on Base (ETH, VVV, sVVV, DIEM) and whether the wallet can mint."""
    if address is not None:
        from venice_web3_keys.addresses import checksum_address

        address = checksum_address(address)
    settings = state.settings()
    if address is None:
        settings = unlocked_wallet(settings, None)
    status = state.call("Reading balances on Base…", lambda vk: vk.wallet_status(address),
                        settings=settings)
    data = wallet_status_data(status)
    if state.output.json_mode:
        state.output.emit_json(data)
    else:
        state.output.wallet_status(data, staking_contract=settings.staking_contract)


@wallet.command("stake")
@click.argument("amount", metavar="AMOUNT|all")
@click.option("--dry-run", is_flag=True,
              help="Simulate and show the plan (approve needed?, gas, fees, balances after); "
                   "sign nothing.")
@click.option("--yes", is_flag=True, help="Do not ask (required when there is no terminal).")
@click.option("--password-file", metavar="F",
              help="Keystore password file (else VENICE_WALLET_PASSWORD_FILE or a prompt).")
@pass_state
def wallet_stake(state: State, amount: str, dry_run: bool, yes: bool,
                 password_file: str | None) -> None:
    """Stake VVV for sVVV (simulated first).

    AMOUNT is whole VVV (10, 2.5) or `all`. Approves exactly AMOUNT, and only when the
    staking contract's allowance is short; then stakes and checks that sVVV rose by AMOUNT.
    On a terminal it shows the amount, the contracts and the gas and fee estimate, and asks;
    without one it needs --yes.
    Exit 2: bad amount or more than the wallet holds; 3: not enough ETH for gas; 1: a revert.
    """
    from venice_web3_keys.amounts import decimal_str, parse_stake_amount

    parse_stake_amount(amount)  # exit 2 before a prompt or a request
    ask = not dry_run and not yes
    if ask and not stdin_is_tty():
        raise InvalidInputError("refusing to stake without confirmation: pass --yes (no "
                                "terminal to ask on), or --dry-run to see the plan", field="yes")
    settings = unlocked_wallet(state.settings(), password_file)
    if dry_run or ask:
        plan = state.call("Simulating the stake on Base…",
                          lambda vk: vk.stake_vvv(amount, dry_run=True), settings=settings)
        if dry_run:
            state.show(plan.to_public_dict(), state.output.stake_plan)
            return
        state.output.stake_plan(plan.to_public_dict(), stream="err")
        steps = "approve + stake" if plan.approve_needed else "stake"
        if not click.confirm(f"Sign and send the {steps} of {decimal_str(plan.amount)} VVV?",
                             err=True):
            raise click.Abort()
        amount = decimal_str(plan.amount)  # what was shown and confirmed, even for "all"
    result = state.call("Staking on Base…", lambda vk: vk.stake_vvv(
        amount, progress=_progress(state)), settings=settings, writes="Nothing was sent.")
    state.show(result.to_public_dict(), state.output.stake_result)


def _progress(state: State) -> StakeProgress:
    """A StakeProgress that keeps the Ctrl-C message current and, for people, narrates."""
    from venice_web3_keys.flows._result import StakeProgress

    progress = StakeProgress()

    def on_step(step: Step, what: StepState, tx_hash: str) -> None:
        state.in_flight = progress.summary()
        if not state.output.json_mode and what in ("sent", "mined"):
            state.output.err.print(f"  {step} {what}: {tx_hash}")

    progress.listener = on_step
    return progress


def unlocked_wallet(settings: Settings, password_file: str | None) -> Settings:
    """`settings` with the keystore password in hand, read before any spinner starts (a
    prompt needs the terminal); MissingCredentialsError first when no wallet is configured."""
    import dataclasses

    from venice_web3_keys.signer import keystore_password, require_wallet

    require_wallet(settings)
    if settings.wallet_keystore is None:
        return settings
    password = keystore_password(
        settings, password_file=password_file,
        prompt=(lambda label: prompt_secret(label.rstrip(": "))) if stdin_is_tty() else None)
    return dataclasses.replace(settings, wallet_password=password, wallet_password_file=None)
