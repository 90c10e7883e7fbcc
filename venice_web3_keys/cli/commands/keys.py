"""`venice-keys keys`: list, get, create, update, revoke and rotate keys with the ADMIN key."""

from __future__ import annotations

import click

from venice_web3_keys.cli.commands.provision import keys_provision
from venice_web3_keys.cli.delivery import choose_sink, make_key, show_new_key
from venice_web3_keys.cli.options import (
    PERIODS,
    PRIVACY,
    Choice,
    Group,
    key_create_options,
    key_options,
    sink_options,
)
from venice_web3_keys.cli.state import PROG, State, pass_state, stdin_is_tty
from venice_web3_keys.errors import InvalidInputError
from venice_web3_keys.validation import update_changes, validate_key_id


@click.group(cls=Group)
def keys() -> None:
    """Manage API keys with an ADMIN key (VENICE_ADMIN_KEY)."""


@keys.command("list")
@pass_state
def keys_list(state: State) -> None:
    """All active keys, newest first (secrets masked).

    A key shows only its last 6 characters; `--json` prints `{"data": [...]}`.
    """
    items = state.call("Listing keys…", lambda vk: vk.list_keys())
    state.show(items, state.output.keys_table, as_list=True)


@keys.command("get")
@click.argument("key_id", metavar="ID")
@pass_state
def keys_get(state: State, key_id: str) -> None:
    """One key, with its usage."""
    key_id = validate_key_id(key_id)
    key = state.call("Fetching key…", lambda vk: vk.get_key(key_id))
    state.show(key, state.output.key_detail)


@keys.command("create")
@key_create_options
@sink_options
@pass_state
def keys_create(state: State, key_type: str, description: str, expires: str | None,
                usd_limit: str | None, diem_limit: str | None, limit_period: str | None,
                model_privacy: str | None, out: str | None, env_out: str | None,
                keyring: str | None, print_: bool) -> None:
    """Create a key with the ADMIN key (secret to one SINK)."""
    kwargs = key_options(description=description, expires=expires, usd_limit=usd_limit,
                         diem_limit=diem_limit, limit_period=limit_period,
                         model_privacy=model_privacy)
    choice = choose_sink(out, env_out, keyring, print_)
    new = make_key(state, "Creating key…", choice, lambda vk: vk.create_key(
        api_key_type=key_type.upper(), sink=choice.sink, **kwargs))
    show_new_key(state, new, choice, verb="Created")


@keys.command("update")
@click.argument("key_id", metavar="ID")
@click.option("--description", metavar="TEXT", help="New description (1-64 characters).")
@click.option("--expires", metavar="WHEN", help="New expiry (see `keys create`).")
@click.option("--no-expiry", is_flag=True, help="Remove the expiry.")
@click.option("--usd-limit", metavar="N|none", help="New USD cap, or `none` to remove it.")
@click.option("--diem-limit", metavar="N|none", help="New DIEM cap, or `none` to remove it.")
@click.option("--limit-period", type=Choice(PERIODS),
              metavar="|".join(PERIODS), help="When the caps reset.")
@click.option("--model-privacy", type=Choice(PRIVACY),
              metavar="|".join(PRIVACY), help="Which models the key may call.")
@pass_state
def keys_update(state: State, key_id: str, description: str | None, expires: str | None,
                no_expiry: bool, usd_limit: str | None, diem_limit: str | None,
                limit_period: str | None, model_privacy: str | None) -> None:
    """Change a key's description, expiry, caps, period or model privacy."""
    key_id = validate_key_id(key_id)
    kwargs = update_changes(
        key_options(description=description, expires=expires, usd_limit=usd_limit,
                    diem_limit=diem_limit, limit_period=limit_period,
                    model_privacy=model_privacy, allow_no_cap=True),
        remove_expiry=no_expiry)
    key = state.call("Updating key…", lambda vk: vk.update_key(key_id, **kwargs),
                     writes=f"the update may have been applied: check `{PROG} keys get {key_id}`")
    if state.output.json_mode:
        state.output.emit_json(key)
    else:
        state.output.out.print("[green]✓[/green] Updated.")
        state.output.key_detail(key)


@keys.command("revoke")
@click.argument("key_id", metavar="ID")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_state
def keys_revoke(state: State, key_id: str, yes: bool) -> None:
    """Revoke a key immediately (asks first on a terminal unless --yes)."""
    key_id = validate_key_id(key_id)
    if not yes:
        if not stdin_is_tty():
            raise InvalidInputError(f"refusing to revoke {key_id} without confirmation: "
                                    "pass --yes (no terminal to ask on)", field="yes")
        if not click.confirm(f"Revoke key {key_id}? It stops working at once", err=True):
            raise click.Abort()
    state.call("Revoking key…", lambda vk: vk.revoke_key(key_id),
               writes=f"the key may be revoked already: check `{PROG} keys list`")
    if state.output.json_mode:
        state.output.emit_json({"id": key_id, "revoked": True})
    else:
        state.output.out.print(f"[green]✓[/green] Revoked {key_id}.")


@keys.command("rotate")
@click.argument("key_id", metavar="ID")
@sink_options
@pass_state
def keys_rotate(state: State, key_id: str, out: str | None, env_out: str | None,
                keyring: str | None, print_: bool) -> None:
    """Replace a key: new one verified, then the old one revoked.

    The successor copies the old key's type, description, expiry, caps and model privacy.
    """
    key_id = validate_key_id(key_id)
    choice = choose_sink(out, env_out, keyring, print_)
    result = make_key(state, "Rotating key…", choice,
                      lambda vk: vk.rotate_key(key_id, sink=choice.sink))
    show_new_key(state, result.new_key, choice, verb="Rotated to",
                 extra={"rotatedFrom": key_id, "revokedKeyId": result.revoked_key_id,
                        "verified": result.verified},
                 notes=[f"old key: {result.revoked_key_id} revoked; new key "
                        f"{'verified working' if result.verified else 'NOT verified'}"])


keys.add_command(keys_provision)
