"""Options shared by several commands, and their conversion to the facade's keyword arguments.

Every value is checked by the library's own validators here, before any request is sent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import click

from venice_web3_keys.cli.state import State
from venice_web3_keys.errors import InvalidInputError
from venice_web3_keys.validation import API_KEY_TYPES as KEY_TYPES
from venice_web3_keys.validation import LIMIT_PERIODS as PERIODS
from venice_web3_keys.validation import MODEL_PRIVACIES as PRIVACY
from venice_web3_keys.validation import (
    validate_description,
    validate_limit,
    validate_limit_period,
    validate_model_privacy,
)

__all__ = ["EXPIRES_HELP", "KEY_TYPES", "PERIODS", "PERIOD_HELP", "PRIVACY", "Choice", "Command",
           "Group", "key_create_options", "key_options", "prompt_secret", "sink_options"]


class Choice(click.Choice[str]):
    """Case-insensitive choice that completes (and shows) the upper-case API spelling."""

    def __init__(self, choices: Sequence[str]) -> None:
        super().__init__(choices, case_sensitive=False)

    def shell_complete(self, ctx: click.Context, param: click.Parameter,
                       incomplete: str) -> list[Any]:
        from click.shell_completion import CompletionItem

        return [CompletionItem(c) for c in self.choices
                if str(c).lower().startswith(incomplete.lower())]

    def get_invalid_choice_message(self, value: Any, ctx: click.Context | None) -> str:
        # click lower-cases the choices it lists for a case-insensitive option; show the
        # spelling Venice and the docs use.
        listed = ", ".join(repr(str(c)) for c in self.choices)
        return f"{value!r} is not one of {listed}."


def _record_command(ctx: click.Context) -> None:
    """Remember which command runs, so an input error can point at its `--help`."""
    state = ctx.find_object(State)
    if state is not None:
        state.command_path = ctx.command_path


class Command(click.Command):
    """A command that records itself as the running one."""

    def invoke(self, ctx: click.Context) -> Any:
        _record_command(ctx)
        return super().invoke(ctx)


class Group(click.Group):
    """Lists its commands in the order they are declared (the workflow order), not A-Z."""

    command_class = Command
    group_class = type  # sub-groups are Group too

    def invoke(self, ctx: click.Context) -> Any:
        _record_command(ctx)
        return super().invoke(ctx)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)


EXPIRES_HELP = ("When the key stops working: YYYY-MM-DD, ISO 8601 with Z or an offset, or a "
                "duration from now (12h, 30d, 4w; at least an hour). Omitted: it never expires.")
PERIOD_HELP = ("When the caps reset: EPOCH every day at 00:00 UTC (so a cap is per day), MONTH "
               "on the 1st, LIFETIME never. Omitted: Venice applies EPOCH.")


def _apply(fn: Callable[..., Any], options: list[Callable[..., Any]]) -> Callable[..., Any]:
    for option in reversed(options):
        fn = option(fn)
    return fn


def sink_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """SINK: exactly one destination for a new key's one-time secret."""
    return _apply(fn, [
        click.option("--out", metavar="FILE",
                     help="Write the secret to a NEW file, mode 0600 (never overwrites)."),
        click.option("--env-out", metavar="PATH[:VAR]",
                     help="Set VAR (default VENICE_API_KEY) in a .env file, atomically, 0600."),
        click.option("--keyring", metavar="SERVICE", help="Store the secret in the OS keyring."),
        click.option("--print", "print_", is_flag=True,
                     help="Print the secret alone on stdout (explicit opt-in); the summary "
                     "goes to stderr, so KEY=$(venice-keys ... --print) captures the secret."),
    ])


def key_create_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """KEY OPTIONS of a new key (mint, create)."""
    return _apply(fn, [
        click.option("--type", "key_type", required=True, metavar="|".join(KEY_TYPES),
                     type=Choice(KEY_TYPES), help="Key type."),
        click.option("--description", required=True, metavar="TEXT",
                     help="1-64 characters (an emoji counts as 2, as Venice counts)."),
        click.option("--expires", metavar="WHEN", help=EXPIRES_HELP),
        click.option("--usd-limit", metavar="N",
                     help="USD spend cap per limit period. Omitted: no USD cap."),
        click.option("--diem-limit", metavar="N",
                     help="DIEM spend cap per limit period. Omitted: no DIEM cap."),
        click.option("--limit-period", type=Choice(PERIODS), metavar="|".join(PERIODS),
                     help=PERIOD_HELP),
        click.option("--model-privacy", type=Choice(PRIVACY), metavar="|".join(PRIVACY),
                     help="Which models the key may call. Omitted: ALL."),
    ])


def _limit(value: str | None, name: str, *, allow_none: bool) -> tuple[bool, Decimal | None]:
    """(given, value); `none` means "remove the cap" where allowed."""
    if value is None:
        return False, None
    if value.strip().lower() == "none":
        if not allow_none:
            raise InvalidInputError(f"--{name.replace('_', '-')}: give a number "
                                    "(omit the option for no cap)", field=name)
        return True, None
    return True, validate_limit(value, name)


def key_options(*, description: str | None, expires: str | None, usd_limit: str | None,
                diem_limit: str | None, limit_period: str | None,
                model_privacy: str | None, allow_no_cap: bool = False) -> dict[str, Any]:
    """Validated keyword arguments for mint_key / create_key / update_key (only those given).

    `allow_no_cap` (update only): a limit of `none` removes the cap.
    """
    from venice_web3_keys.timeparse import parse_expires

    kwargs: dict[str, Any] = {}
    if description is not None:
        kwargs["description"] = validate_description(description)
    if expires is not None:
        kwargs["expires_at"] = parse_expires(expires)
    for name, raw in (("usd_limit", usd_limit), ("diem_limit", diem_limit)):
        given, value = _limit(raw, name, allow_none=allow_no_cap)
        if given:
            kwargs[name] = value
    if limit_period is not None:
        kwargs["limit_period"] = validate_limit_period(limit_period)
    if model_privacy is not None:
        kwargs["model_privacy"] = validate_model_privacy(model_privacy)
    return kwargs


def prompt_secret(label: str, *, confirm: bool = False) -> str:
    """A hidden prompt on the terminal (stderr), for a password."""
    value = click.prompt(label, hide_input=True, confirmation_prompt=confirm, err=True,
                         prompt_suffix=": ")
    if not value:
        raise InvalidInputError("an empty password is not accepted", field="password")
    return str(value)
