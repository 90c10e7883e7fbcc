"""`venice-keys keys`: list, get, create, update, revoke and rotate keys with the ADMIN key.

Every ID argument is a key's full id or a unique prefix of it (8 characters or more, as `keys
list` shows them), resolved by the library with one list call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from venice_web3_keys.cli.commands.provision import keys_provision
from venice_web3_keys.cli.delivery import (
    MAY_HAVE_MADE_A_KEY,
    SinkChoice,
    choose_sink,
    make_key,
    show_new_key,
)
from venice_web3_keys.cli.options import (
    PERIOD_HELP,
    PERIODS,
    PRIVACY,
    Choice,
    Group,
    key_create_options,
    key_options,
    sink_options,
)
from venice_web3_keys.cli.render import short_id
from venice_web3_keys.cli.state import PROG, State, pass_state, stdin_is_tty
from venice_web3_keys.errors import InvalidInputError, KeyNotFoundError
from venice_web3_keys.serialize import plain
from venice_web3_keys.validation import (
    update_changes,
    validate_api_key_type,
    validate_key_id_prefix,
)

if TYPE_CHECKING:
    from venice_web3_keys.api import AsyncVeniceKeys, RotationProgress, RotationResult
    from venice_web3_keys.models import ApiKey

ID_HELP = "ID is a key's id, or its first 8 or more characters (as `keys list` shows them)."


CALLING_KEY = "this is the key this command authenticates with (VENICE_ADMIN_KEY)"


@click.group(cls=Group)
def keys() -> None:
    """Manage API keys with an ADMIN key (VENICE_ADMIN_KEY)."""


@keys.command("list")
@click.option("--wide", is_flag=True,
              help="Full ids, expiry dates and usage (wider than 80 columns).")
@pass_state
def keys_list(state: State, wide: bool) -> None:
    """All active keys, newest first (secrets masked).

    A key shows only its last 6 characters; ids are shortened to their first 8 characters,
    which any command taking an ID accepts. `--json` prints `{"data": [...]}`.
    """
    items = state.call("Listing keys…", lambda vk: vk.list_keys())
    state.show(items, lambda data: state.output.keys_table(data, wide=wide), as_list=True)


@keys.command("get", epilog=ID_HELP)
@click.argument("key_id", metavar="ID")
@pass_state
def keys_get(state: State, key_id: str) -> None:
    """One key, with its usage."""
    target = validate_key_id_prefix(key_id)

    async def fetch(vk: AsyncVeniceKeys) -> ApiKey:
        return await vk.get_key(await vk.resolve_key_id(target))

    state.show(state.call("Fetching key…", fetch), state.output.key_detail)


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
    choice = choose_sink(out, env_out, keyring, print_, json_mode=state.output.json_mode)
    api_key_type = validate_api_key_type(key_type)
    new = make_key(state, "Creating key…", choice, lambda vk: vk.create_key(
        api_key_type=api_key_type, sink=choice.sink, **kwargs))
    show_new_key(state, new, choice, verb="Created")


@keys.command("update", epilog=ID_HELP)
@click.argument("key_id", metavar="ID")
@click.option("--description", metavar="TEXT",
              help="New description (1-64 characters; an emoji counts as 2, as Venice counts).")
@click.option("--expires", metavar="WHEN", help="New expiry (see `keys create`).")
@click.option("--no-expiry", is_flag=True, help="Remove the expiry.")
@click.option("--usd-limit", metavar="N|none", help="New USD cap, or `none` to remove it.")
@click.option("--diem-limit", metavar="N|none", help="New DIEM cap, or `none` to remove it.")
@click.option("--limit-period", type=Choice(PERIODS), metavar="|".join(PERIODS),
              help=PERIOD_HELP.split(" Omitted")[0])
@click.option("--model-privacy", type=Choice(PRIVACY),
              metavar="|".join(PRIVACY), help="Which models the key may call.")
@pass_state
def keys_update(state: State, key_id: str, description: str | None, expires: str | None,
                no_expiry: bool, usd_limit: str | None, diem_limit: str | None,
                limit_period: str | None, model_privacy: str | None) -> None:
    """Change a key's description, expiry, caps, period or model privacy."""
    target = validate_key_id_prefix(key_id)
    changes = update_changes(
        key_options(description=description, expires=expires, usd_limit=usd_limit,
                    diem_limit=diem_limit, limit_period=limit_period,
                    model_privacy=model_privacy, allow_no_cap=True),
        remove_expiry=no_expiry)

    async def update(vk: AsyncVeniceKeys) -> ApiKey:
        return await vk.update_key(await vk.resolve_key_id(target), **changes)

    key = state.call("Updating key…", update,
                     writes=f"the update may have been applied: check `{PROG} keys get {target}`")
    if state.output.json_mode:
        state.output.emit_json(key)
    else:
        state.output.out.print("[green]✓[/green] Updated.")
        state.output.key_detail(key)


@keys.command("revoke", epilog=ID_HELP)
@click.argument("key_id", metavar="ID")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_state
def keys_revoke(state: State, key_id: str, yes: bool) -> None:
    """Revoke a key immediately (asks first on a terminal unless --yes).

    Revoking is idempotent: a key that is already revoked (or expired) is reported as such,
    with exit code 0.
    """
    target = validate_key_id_prefix(key_id)
    if not yes and not stdin_is_tty():
        raise InvalidInputError(f"refusing to revoke {target} without confirmation: "
                                "pass --yes (no terminal to ask on)", field="yes")

    async def look_up(vk: AsyncVeniceKeys) -> tuple[ApiKey | None, bool]:
        try:
            key = await vk.find_key(target)
        except KeyNotFoundError:
            if len(target) < 36:
                raise
            return None, False  # a full id no longer listed: revoke_key says what it was
        return key, vk.is_calling_key(key)

    key, own = state.call("Finding key…", look_up)
    full_id = key.id if key is not None else target
    if own:
        state.output.alarm(f"{CALLING_KEY}: revoking it locks you out of every admin command "
                           "until VENICE_ADMIN_KEY holds another ADMIN key")
    if key is not None and not yes:
        question = (f"Revoke {key.api_key_type} key {key.id} \"{key.description}\" "
                    f"(…{key.last6_chars})? It stops working at once")
        if not click.confirm(plain(question), err=True):
            raise click.Abort()
    outcome = state.call("Revoking key…", lambda vk: vk.revoke_key(full_id),
                         writes=f"the key may be revoked already: check `{PROG} keys list`")
    if state.output.json_mode:
        state.output.emit_json(outcome.to_public_dict())
    elif outcome.already_revoked:
        state.output.out.print(f"Key {full_id} was already revoked (or has expired): "
                               "nothing to do.")
    else:
        state.output.out.print(f"[green]✓[/green] Revoked {full_id}.")


@keys.command("rotate", epilog=ID_HELP)
@click.argument("key_id", metavar="ID")
@sink_options
@pass_state
def keys_rotate(state: State, key_id: str, out: str | None, env_out: str | None,
                keyring: str | None, print_: bool) -> None:
    """Replace a key: new one verified, then the old one revoked.

    The successor copies the old key's type, description, expiry, caps and model privacy.
    """
    from venice_web3_keys.api import RotationProgress

    target = validate_key_id_prefix(key_id)
    choice = choose_sink(out, env_out, keyring, print_, json_mode=state.output.json_mode)
    progress = RotationProgress()

    async def rotate(vk: AsyncVeniceKeys) -> RotationResult:
        old = await vk.find_key(target)
        if vk.is_calling_key(old):
            state.output.alarm(f"{CALLING_KEY}: it is revoked as soon as the new key works, "
                               "which locks you out of every admin command until "
                               f"VENICE_ADMIN_KEY holds the new key ({choice.sink.location})")
        return await vk.rotate_key(old.id, sink=choice.sink, progress=progress)

    result = make_key(state, "Rotating key…", choice, rotate,
                      writes=lambda: rotation_interrupted(progress, choice))
    show_new_key(state, result.new_key, choice, verb="Rotated to",
                 extra={"rotatedFrom": result.revoked_key_id,
                        "revokedKeyId": result.revoked_key_id, "verified": result.verified},
                 notes=[f"old key: {result.revoked_key_id} revoked; new key "
                        f"{'verified working' if result.verified else 'NOT verified'}"])


def rotation_interrupted(progress: RotationProgress, choice: SinkChoice) -> str:
    """Exactly what an interrupted rotation left, and the command that finishes or undoes it."""
    new = progress.new_key
    old = progress.old_key_id
    if new is None or not old:
        return MAY_HAVE_MADE_A_KEY
    where = new.sink.location if new.sink is not None else choice.sink.location
    made = f"the new key {new.id} ({short_id(new.id)}) was made, its secret → {where}"
    if progress.successor_revoked:
        return (f"{made}, but it was not checked yet, so it was revoked again; the old key {old} "
                "is unchanged and still works")
    if progress.old_key_revoked:
        return f"the rotation had finished: {made}; the old key {old} is revoked"
    if progress.revoking_old_key:
        return (f"{made} and works; the old key {old} may still be live (its revocation was "
                f"interrupted): revoke it with `{PROG} keys revoke {old} --yes`")
    return (f"{made}; the old key {old} still works too. Finish the rotation with "
            f"`{PROG} keys revoke {old} --yes`, or undo it with "
            f"`{PROG} keys revoke {new.id} --yes`")


keys.add_command(keys_provision)
