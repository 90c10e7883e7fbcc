"""`venice-keys wallet`: create a keystore, check balances on Base."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from venice_web3_keys.cli.options import Group, prompt_secret
from venice_web3_keys.cli.render import wallet_status_data
from venice_web3_keys.cli.state import State, pass_state, stdin_is_tty
from venice_web3_keys.errors import InvalidInputError

if TYPE_CHECKING:
    from venice_web3_keys.settings import Settings


@click.group(cls=Group)
def wallet() -> None:
    """The minting wallet: create a keystore, check balances on Base."""


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
