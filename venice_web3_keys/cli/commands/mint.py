"""`venice-keys mint`: a key made by the wallet's signature (needs sVVV on Base)."""

from __future__ import annotations

import click

from venice_web3_keys.cli.commands.wallet import unlocked_wallet
from venice_web3_keys.cli.delivery import choose_sink, make_key, show_new_key
from venice_web3_keys.cli.options import Command, key_create_options, key_options, sink_options
from venice_web3_keys.cli.state import State, pass_state
from venice_web3_keys.validation import validate_api_key_type


@click.command(cls=Command)
@key_create_options
@sink_options
@click.option("--password-file", metavar="F",
              help="Keystore password file (else VENICE_WALLET_PASSWORD_FILE or a prompt).")
@pass_state
def mint(state: State, key_type: str, description: str, expires: str | None,
         usd_limit: str | None, diem_limit: str | None, limit_period: str | None,
         model_privacy: str | None, out: str | None, env_out: str | None, keyring: str | None,
         print_: bool, password_file: str | None) -> None:
    """Mint a key with the wallet's signature (needs sVVV on Base).

    The wallet comes from VENICE_WALLET_KEYSTORE (plus a password file or a hidden prompt) or
    VENICE_WALLET_PRIVATE_KEY; the one-time secret goes to exactly one SINK.
    """
    kwargs = key_options(description=description, expires=expires, usd_limit=usd_limit,
                         diem_limit=diem_limit, limit_period=limit_period,
                         model_privacy=model_privacy)
    choice = choose_sink(out, env_out, keyring, print_, json_mode=state.output.json_mode)
    from venice_web3_keys.challenge import check_signing_host

    check_signing_host(state.settings())  # a relay is refused before any password prompt
    settings = unlocked_wallet(state.settings(), password_file)
    api_key_type = validate_api_key_type(key_type)
    new = make_key(state, "Minting with the wallet…", choice, lambda vk: vk.mint_key(
        api_key_type=api_key_type, sink=choice.sink, **kwargs), settings=settings)
    show_new_key(state, new, choice, verb="Minted")
