"""`venice-keys`: the command-line face of the library (parse, validate, call the facade, render).

Only click and the standard library are imported at module load; the facade, rich, and anything
that signs or reads the chain are imported inside the commands that need them.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from venice_web3_keys.cli import failures
from venice_web3_keys.cli.render import Output, to_jsonable, wallet_status_data
from venice_web3_keys.errors import (
    ConfigError,
    InvalidInputError,
    MissingCredentialsError,
    SinkError,
    VeniceKeysError,
)
from venice_web3_keys.validation import API_KEY_TYPES as KEY_TYPES
from venice_web3_keys.validation import LIMIT_PERIODS as PERIODS
from venice_web3_keys.validation import MODEL_PRIVACIES as PRIVACY
from venice_web3_keys.validation import validate_description, validate_key_id, validate_limit

if TYPE_CHECKING:
    from venice_web3_keys.api import AsyncVeniceKeys, NewKey
    from venice_web3_keys.secret import SecretValue
    from venice_web3_keys.settings import Settings
    from venice_web3_keys.sinks import SecretSink

T = TypeVar("T")

PROG = "venice-keys"
COMPLETE_VAR = "_VENICE_KEYS_COMPLETE"
DEBUG_VAR = "VENICE_KEYS_DEBUG"


class _Choice(click.Choice[str]):
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


class _Group(click.Group):
    """Lists its commands in the order they are declared (the workflow order), not A-Z."""

    group_class = type  # sub-groups are _Group too

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)


# ---- shared state --------------------------------------------------------------------------


@dataclass
class State:
    """Global options, resolved settings (loaded once, on first use) and the output."""

    env_file: str | None
    api_base: str | None
    rpc_url: str | None
    output: Output
    _settings: Settings | None = field(default=None, repr=False)
    #: what may have happened if the call in flight is interrupted (None: a read)
    in_flight: str | None = field(default=None, repr=False)

    def settings(self) -> Settings:
        if self._settings is None:
            from venice_web3_keys.settings import load_settings

            overrides: dict[str, Any] = {}
            if self.api_base:
                overrides["api_base_url"] = self.api_base.rstrip("/")
            if self.rpc_url:
                urls = tuple(u.strip() for u in self.rpc_url.split(",") if u.strip())
                if not urls:
                    raise InvalidInputError("--rpc-url is empty", field="rpc_url")
                overrides["rpc_urls"] = urls
            self._settings = load_settings(self.env_file, **overrides)
        return self._settings

    def call(self, what: str, fn: Callable[[AsyncVeniceKeys], Awaitable[T]], *,
             settings: Settings | None = None, writes: str | None = None) -> T:
        """Run one facade call on a fresh event loop, with a spinner on stderr.

        `writes` says what a Ctrl-C during the call may leave behind (None for a read).
        """
        import asyncio

        from venice_web3_keys.api import AsyncVeniceKeys

        resolved = settings or self.settings()
        self.in_flight = writes

        async def go() -> T:
            vk = AsyncVeniceKeys(resolved)
            try:
                return await fn(vk)
            finally:
                await vk.aclose()

        with self.output.spinner(what):
            return asyncio.run(go())


pass_state = click.make_pass_decorator(State)
_STATE: list[State] = []  # the running command's state, for error rendering in main()


def _stdin_is_tty() -> bool:
    return sys.stdin.isatty()


# ---- input validation (all before any request) ---------------------------------------------


def _limit(value: str | None, name: str, *, allow_none: bool) -> tuple[bool, float | None]:
    """(given, value); `none` means "remove the cap" where allowed."""
    if value is None:
        return False, None
    if value.strip().lower() == "none":
        if not allow_none:
            raise InvalidInputError(f"--{name.replace('_', '-')}: give a number "
                                    "(omit the option for no cap)", field=name)
        return True, None
    return True, validate_limit(value, name)


def _key_options(*, description: str | None, expires: str | None, usd_limit: str | None,
                 diem_limit: str | None, limit_period: str | None,
                 model_privacy: str | None, allow_no_cap: bool = False) -> dict[str, Any]:
    """Validated keyword arguments for mint_key / create_key / update_key.

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
        kwargs["limit_period"] = limit_period.upper()
    if model_privacy is not None:
        kwargs["model_privacy"] = model_privacy.upper()
    return kwargs


@dataclass
class SinkChoice:
    """The one destination picked for a new secret, already prepared (a file exists, empty).

    For --print the sink writes into `buffer`, which the CLI prints after the key's summary (or
    puts in the one JSON object), so the secret still reaches stdout only through PrintSink.
    """

    sink: SecretSink
    option: str
    buffer: io.StringIO | None = None

    def prepare(self) -> None:
        """Check the destination (and create an --out file) now: a failure sends nothing."""
        try:
            self.sink.prepare()
        except SinkError as exc:
            raise InvalidInputError(f"{self.option}: {exc}", field="sink") from None

    def abort(self) -> None:
        """Undo prepare() when no key was made (removes an empty --out file)."""
        self.sink.abort()


def _sink(out: str | None, env_out: str | None, keyring: str | None, print_: bool) -> SinkChoice:
    """Exactly one SINK option, validated before any request (prepared by `_make_key`)."""
    chosen = {name: val for name, val in (("--out", out), ("--env-out", env_out),
                                          ("--keyring", keyring), ("--print", print_ or None))
              if val is not None}
    if not chosen:
        raise InvalidInputError(
            "say where the one-time secret goes: --out FILE, --env-out PATH[:VAR], "
            "--keyring SERVICE or --print", field="sink")
    if len(chosen) > 1:
        raise InvalidInputError(f"give exactly one destination for the secret, not "
                                f"{' and '.join(chosen)}", field="sink")
    from venice_web3_keys import sinks

    if out is not None and (Path(out).expanduser().exists() or Path(out).is_symlink()):
        raise InvalidInputError(f"--out {out} already exists and is never overwritten: "
                                "pick a new file name", field="out")
    option, value = next(iter(chosen.items()))
    if print_:
        buffer = io.StringIO()
        return SinkChoice(sinks.PrintSink(buffer), option, buffer)
    try:
        return SinkChoice(sinks.parse_sink_spec(option, str(value)), option)
    except SinkError as exc:
        text = str(exc)  # the library names the option itself when the value is empty
        raise InvalidInputError(text if text.startswith(option) else f"{option}: {text}",
                                field="sink") from None


def _read_password_file(path: str | Path) -> SecretValue:
    from venice_web3_keys.secret import SecretValue

    try:
        text = Path(path).expanduser().read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInputError(f"cannot read password file {path}: {exc.strerror}",
                                field="password_file") from None
    text = text.rstrip("\r\n")
    if not text:
        raise InvalidInputError(f"password file {path} is empty", field="password_file")
    return SecretValue(text)


def _prompt_secret(label: str, *, confirm: bool = False) -> SecretValue:
    from venice_web3_keys.secret import SecretValue

    value = click.prompt(label, hide_input=True, confirmation_prompt=confirm, err=True,
                         prompt_suffix=": ")
    if not value:
        raise InvalidInputError("an empty password is not accepted", field="password")
    return SecretValue(str(value))


# ---- rendering helpers ---------------------------------------------------------------------


def _new_key_out(state: State, new: NewKey, choice: SinkChoice, *, verb: str,
                 extra: dict[str, Any] | None = None, notes: Sequence[str] = ()) -> None:
    """Render a new key; the secret reaches stdout only through the --print sink."""
    info: dict[str, Any] = dict(new.to_public_dict())
    info.update(extra or {})
    out = state.output
    printed = choice.buffer.getvalue().strip() if choice.buffer is not None else None
    if printed and sys.stdout.isatty():
        out.warn("the secret is printed below, once; it stays in this terminal's scrollback")
    if out.json_mode:
        if printed:
            info["apiKey"] = printed
        out.emit_json(info)
        return
    out.new_key(info, verb=verb, notes=notes)
    if printed:
        sys.stdout.write(printed + "\n")
        sys.stdout.flush()


_MAY_HAVE_MADE_A_KEY = ("a key may have been made before the interrupt: check "
                        f"`{PROG} keys list` and revoke any you do not want")


def _make_key(state: State, what: str, choice: SinkChoice,
              fn: Callable[[AsyncVeniceKeys], Awaitable[T]], *,
              settings: Settings | None = None) -> T:
    """A key-making call; if it fails, the prepared sink is undone (no empty file left)."""
    choice.prepare()
    try:
        return state.call(what, fn, settings=settings, writes=_MAY_HAVE_MADE_A_KEY)
    except BaseException:
        choice.abort()
        raise


def _show(state: State, data: Any, human: Callable[[Any], None], *,
          as_list: bool = False) -> None:
    """A read command's result: one JSON object (`{"data": [...]}` for a list) or `human`."""
    if state.output.json_mode:
        state.output.emit_json({"data": data} if as_list else data)
    else:
        human(data)


# ---- the group -----------------------------------------------------------------------------


def _print_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    """`--version`: `venice-keys X.Y.Z`, or `{"version": "X.Y.Z"}` with `--json`."""
    if not value or ctx.resilient_parsing:
        return
    import importlib.metadata

    version = importlib.metadata.version("venice-web3-keys")
    if ctx.params.get("json_mode"):
        Output(json_mode=True).emit_json({"version": version})
    else:
        click.echo(f"{PROG} {version}")
    ctx.exit()


_EPILOG = f"""\b
Secrets (wallet private key, admin key, keystore password) come from the
environment, a .env file, a password file or a hidden prompt; never from argv.
Exit codes: 0 ok; 2 invalid input (nothing sent); 3 the wallet cannot mint
(no sVVV); 4 no credential, or authentication/permission refused; 1 other.
\b
Shell completion: eval "$({COMPLETE_VAR}=bash_source {PROG})"
(or zsh_source, fish_source), or `{PROG} completion bash|zsh|fish`.
"""


@click.group(cls=_Group, epilog=_EPILOG,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--env-file", type=click.Path(dir_okay=False), metavar="PATH",
              help="Read settings from this .env file (default: ./.env if present).")
# --json is eager and --version is not, so `--version` sees `--json` wherever it was written.
@click.option("--json", "json_mode", is_flag=True, is_eager=True,
              help="Print exactly one JSON object on stdout.")
@click.option("--api-base", metavar="URL", help="Venice API base URL (VENICE_API_BASE_URL).")
@click.option("--rpc-url", metavar="URL",
              help="Base JSON-RPC endpoint(s), comma-separated failover (BASE_RPC_URL).")
@click.option("--version", is_flag=True, expose_value=False, callback=_print_version,
              help="Show the version and exit.")
@click.pass_context
def cli(ctx: click.Context, env_file: str | None, json_mode: bool, api_base: str | None,
        rpc_url: str | None) -> None:
    """Turn a wallet holding staked VVV on Base into Venice.ai API keys, and manage them."""
    ctx.obj = State(env_file=env_file, api_base=api_base, rpc_url=rpc_url,
                    output=Output(json_mode=json_mode))
    _STATE.append(ctx.obj)


def _sink_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    opts = [
        click.option("--out", metavar="FILE",
                     help="Write the secret to a NEW file, mode 0600 (never overwrites)."),
        click.option("--env-out", metavar="PATH[:VAR]",
                     help="Set VAR (default VENICE_API_KEY) in a .env file, atomically, 0600."),
        click.option("--keyring", metavar="SERVICE", help="Store the secret in the OS keyring."),
        click.option("--print", "print_", is_flag=True,
                     help="Print the secret on stdout (explicit opt-in)."),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


def _key_create_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    opts = [
        click.option("--type", "key_type", required=True, metavar="|".join(KEY_TYPES),
                     type=_Choice(KEY_TYPES), help="Key type."),
        click.option("--description", required=True, metavar="TEXT", help="1-64 characters."),
        click.option("--expires", metavar="WHEN",
                     help="YYYY-MM-DD, ISO 8601 with Z/offset, or a duration (12h, 30d, 6w)."),
        click.option("--usd-limit", metavar="N", help="USD spend cap per limit period."),
        click.option("--diem-limit", metavar="N", help="DIEM spend cap per limit period."),
        click.option("--limit-period", type=_Choice(PERIODS),
                     metavar="|".join(PERIODS), help="When the caps reset."),
        click.option("--model-privacy", type=_Choice(PRIVACY),
                     metavar="|".join(PRIVACY), help="Which models the key may call."),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


# ---- wallet --------------------------------------------------------------------------------


@cli.group()
def wallet() -> None:
    """The minting wallet: create a keystore, check balances on Base."""


@wallet.command("new")
@click.option("--keystore", required=True, metavar="PATH", help="Where to write the keystore.")
@click.option("--password-file", metavar="F", help="Read the keystore password from this file.")
@pass_state
def wallet_new(state: State, keystore: str, password_file: str | None) -> None:
    """Create an encrypted keystore for a new random wallet and print its address."""
    path = Path(keystore).expanduser()
    if path.exists() or path.is_symlink():
        raise InvalidInputError(f"{keystore} already exists; it is never overwritten",
                                field="keystore")
    if not path.parent.is_dir():
        raise InvalidInputError(f"folder {path.parent} does not exist", field="keystore")
    if password_file is not None:
        password = _read_password_file(password_file)
    else:
        settings = state.settings()
        if settings.wallet_password_file is not None:
            password = _read_password_file(settings.wallet_password_file)
        elif settings.wallet_password is not None:
            password = settings.wallet_password
        elif _stdin_is_tty():
            password = _prompt_secret("New keystore password", confirm=True)
        else:
            raise InvalidInputError(
                "no keystore password: pass --password-file F, set VENICE_WALLET_PASSWORD_FILE, "
                "or run on a terminal to be prompted", field="password")
    from venice_web3_keys.signer import create_keystore

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
        if not settings.has_wallet:
            raise MissingCredentialsError(
                "no wallet configured: pass --address ADDR, or set "
                "VENICE_WALLET_KEYSTORE / VENICE_WALLET_PRIVATE_KEY")
        settings = _with_password(settings, None)
    status = state.call("Reading balances on Base…", lambda vk: vk.wallet_status(address),
                        settings=settings)
    data = wallet_status_data(status)
    if state.output.json_mode:
        state.output.emit_json(data)
    else:
        state.output.wallet_status(data, staking_contract=settings.staking_contract)


# ---- mint ----------------------------------------------------------------------------------


@cli.command()
@_key_create_options
@_sink_options
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
    kwargs = _key_options(description=description, expires=expires, usd_limit=usd_limit,
                          diem_limit=diem_limit, limit_period=limit_period,
                          model_privacy=model_privacy)
    choice = _sink(out, env_out, keyring, print_)
    settings = state.settings()
    if not settings.has_wallet:
        raise MissingCredentialsError(
            "minting needs a wallet: set VENICE_WALLET_KEYSTORE (create one with "
            f"`{PROG} wallet new --keystore PATH`) or VENICE_WALLET_PRIVATE_KEY")
    settings = _with_password(settings, password_file)
    new = _make_key(state, "Minting with the wallet…", choice, lambda vk: vk.mint_key(
        api_key_type=key_type.upper(), sink=choice.sink, **kwargs), settings=settings)
    _new_key_out(state, new, choice, verb="Minted")


def _with_password(settings: Settings, password_file: str | None) -> Settings:
    """Resolve the keystore password before any spinner starts (prompting needs the terminal)."""
    import dataclasses

    if settings.wallet_keystore is None:
        return settings
    if password_file is not None:
        return dataclasses.replace(settings, wallet_password=_read_password_file(password_file),
                                   wallet_password_file=None)
    if settings.wallet_password is not None or settings.wallet_password_file is not None:
        return settings
    if not _stdin_is_tty():
        raise ConfigError("the keystore needs a password: set VENICE_WALLET_PASSWORD_FILE or "
                          "pass --password-file F (no terminal to prompt on)")
    return dataclasses.replace(settings, wallet_password=_prompt_secret(
        f"Password for {settings.wallet_keystore}"))


# ---- keys ----------------------------------------------------------------------------------


@cli.group()
def keys() -> None:
    """Manage API keys with an ADMIN key (VENICE_ADMIN_KEY)."""


@keys.command("list")
@pass_state
def keys_list(state: State) -> None:
    """All active keys, newest first (secrets masked).

    A key shows only its last 6 characters; `--json` prints `{"data": [...]}`.
    """
    items = state.call("Listing keys…", lambda vk: vk.list_keys())
    _show(state, items, state.output.keys_table, as_list=True)


@keys.command("get")
@click.argument("key_id", metavar="ID")
@pass_state
def keys_get(state: State, key_id: str) -> None:
    """One key, with its usage."""
    key_id = validate_key_id(key_id)
    key = state.call("Fetching key…", lambda vk: vk.get_key(key_id))
    _show(state, key, state.output.key_detail)


@keys.command("create")
@_key_create_options
@_sink_options
@pass_state
def keys_create(state: State, key_type: str, description: str, expires: str | None,
                usd_limit: str | None, diem_limit: str | None, limit_period: str | None,
                model_privacy: str | None, out: str | None, env_out: str | None,
                keyring: str | None, print_: bool) -> None:
    """Create a key with the ADMIN key (secret to one SINK)."""
    kwargs = _key_options(description=description, expires=expires, usd_limit=usd_limit,
                          diem_limit=diem_limit, limit_period=limit_period,
                          model_privacy=model_privacy)
    choice = _sink(out, env_out, keyring, print_)
    new = _make_key(state, "Creating key…", choice, lambda vk: vk.create_key(
        api_key_type=key_type.upper(), sink=choice.sink, **kwargs))
    _new_key_out(state, new, choice, verb="Created")


@keys.command("update")
@click.argument("key_id", metavar="ID")
@click.option("--description", metavar="TEXT", help="New description (1-64 characters).")
@click.option("--expires", metavar="WHEN", help="New expiry (see `keys create`).")
@click.option("--no-expiry", is_flag=True, help="Remove the expiry.")
@click.option("--usd-limit", metavar="N|none", help="New USD cap, or `none` to remove it.")
@click.option("--diem-limit", metavar="N|none", help="New DIEM cap, or `none` to remove it.")
@click.option("--limit-period", type=_Choice(PERIODS),
              metavar="|".join(PERIODS), help="When the caps reset.")
@click.option("--model-privacy", type=_Choice(PRIVACY),
              metavar="|".join(PRIVACY), help="Which models the key may call.")
@pass_state
def keys_update(state: State, key_id: str, description: str | None, expires: str | None,
                no_expiry: bool, usd_limit: str | None, diem_limit: str | None,
                limit_period: str | None, model_privacy: str | None) -> None:
    """Change a key's description, expiry, caps, period or model privacy."""
    key_id = validate_key_id(key_id)
    if expires is not None and no_expiry:
        raise InvalidInputError("give --expires or --no-expiry, not both", field="expires_at")
    kwargs = _key_options(description=description, expires=expires, usd_limit=usd_limit,
                          diem_limit=diem_limit, limit_period=limit_period,
                          model_privacy=model_privacy, allow_no_cap=True)
    if no_expiry:
        kwargs["expires_at"] = None
    if not kwargs:
        raise InvalidInputError("nothing to update: give at least one option "
                                "(see `venice-keys keys update --help`)")
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
        if not _stdin_is_tty():
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
@_sink_options
@pass_state
def keys_rotate(state: State, key_id: str, out: str | None, env_out: str | None,
                keyring: str | None, print_: bool) -> None:
    """Replace a key: new one verified, then the old one revoked.

    The successor copies the old key's type, description, expiry, caps and model privacy.
    """
    key_id = validate_key_id(key_id)
    choice = _sink(out, env_out, keyring, print_)
    result = _make_key(state, "Rotating key…", choice,
                       lambda vk: vk.rotate_key(key_id, sink=choice.sink))
    _new_key_out(state, result.new_key, choice, verb="Rotated to",
                 extra={"rotatedFrom": key_id, "revokedKeyId": result.revoked_key_id,
                        "verified": result.verified},
                 notes=[f"old key: {result.revoked_key_id} revoked; new key "
                        f"{'verified working' if result.verified else 'NOT verified'}"])


# ---- limits / billing ----------------------------------------------------------------------


@cli.group(invoke_without_command=True)
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
    _show(state, data, lambda d: state.output.rate_limits(to_jsonable(d)))


@limits.command("log")
@pass_state
def limits_log(state: State) -> None:
    """Recent rate-limit breaches of the account (admin)."""
    entries = state.call("Reading the rate-limit log…", lambda vk: vk.rate_limit_log())
    _show(state, entries, lambda d: state.output.rate_limit_log(to_jsonable(d)), as_list=True)


@cli.command()
@pass_state
def billing(state: State) -> None:
    """Account balance (admin)."""
    data = state.call("Reading the balance…", lambda vk: vk.billing_balance())
    _show(state, data, lambda d: state.output.billing(to_jsonable(d)))


# ---- sandbox / demo / completion -----------------------------------------------------------


@cli.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
             add_help_option=False)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def sandbox(ctx: click.Context, args: Sequence[str]) -> None:
    """Run the local Venice emulator and Base chain.

    Prints .env lines (API base, RPC URL, a funded throwaway wallet); Ctrl-C stops them.
    `venice-keys sandbox --help` lists its options.
    """
    state = ctx.find_object(State)
    if (state is not None and state.output.json_mode) or _wants_json(args):
        # It streams .env lines and logs until stopped: there is no one JSON object to print.
        raise click.UsageError("sandbox has no --json output (it runs until stopped and "
                               "prints .env lines); run it without --json", ctx)
    from venice_web3_keys.sandbox.__main__ import main as sandbox_main

    rc = sandbox_main(list(args))
    raise SystemExit(rc or 0)


@cli.command()
@click.option("--keep", is_flag=True, help="Keep the temporary folder of demo secrets.")
@pass_state
def demo(state: State, keep: bool) -> None:
    """The whole flow, narrated, on a throwaway local sandbox.

    Starts a local chain and the Venice emulator, funds a wallet, mints an ADMIN key, makes a
    capped customer key, rotates and revokes it, then stops everything. Nothing real is touched.
    """
    from venice_web3_keys.cli.demo import run_demo

    run_demo(state.output, keep=keep)


@cli.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the shell completion script for bash, zsh or fish.

    For example: venice-keys completion bash >> ~/.bashrc
    (with --json: {"shell": ..., "script": ...})
    """
    from click.shell_completion import get_completion_class

    comp_cls = get_completion_class(shell)
    assert comp_cls is not None
    root = ctx.find_root().command
    script = comp_cls(root, {}, PROG, COMPLETE_VAR).source()
    state = ctx.find_object(State)
    if state is not None and state.output.json_mode:
        state.output.emit_json({"shell": shell, "script": script})
    else:
        sys.stdout.write(script + "\n")


# ---- entry point ---------------------------------------------------------------------------


def _late_json(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        state = ctx.find_object(State)
        if state is not None:
            state.output.json_mode = True


def _accept_json_anywhere(group: click.Group) -> None:
    """`venice-keys keys list --json` works as well as `venice-keys --json keys list`."""
    for command in group.commands.values():
        if command.name != "sandbox":  # its argv goes to the sandbox's own parser
            command.params.append(click.Option(["--json"], is_flag=True, hidden=True,
                                               expose_value=False, callback=_late_json))
        if isinstance(command, click.Group):
            _accept_json_anywhere(command)


_accept_json_anywhere(cli)


def _wants_json(argv: Sequence[str]) -> bool:
    for arg in argv:
        if arg == "--":
            return False
        if arg == "--json":
            return True
    return False


def _output_for(argv: Sequence[str], state: State | None) -> Output:
    """The running command's output, in JSON mode if `--json` was given anywhere."""
    json_mode = _wants_json(argv) or (state is not None and state.output.json_mode)
    output = state.output if state is not None else Output(json_mode=json_mode)
    output.json_mode = json_mode
    return output


def _fail(argv: Sequence[str], exc: BaseException, state: State | None) -> int:
    """Report a failure (one JSON object in `--json` mode; always on stderr); the exit code."""
    output = _output_for(argv, state)
    from venice_web3_keys.settings import DEFAULT_STAKING_CONTRACT

    staking, api_base = DEFAULT_STAKING_CONTRACT, "the Venice API"
    if state is not None and state._settings is not None:
        staking = state._settings.staking_contract
        api_base = state._settings.api_base_url
    if isinstance(exc, click.exceptions.NoArgsIsHelpError):
        # `venice-keys` or `venice-keys keys` alone: the help, not an "error: Usage: ..." wall
        if output.json_mode:
            output.error("UsageError", "missing command", f"see `{exc.ctx.command_path} --help`")
        else:
            sys.stderr.write(exc.format_message() + "\n")
        return exc.exit_code
    if isinstance(exc, click.ClickException):
        usage_ctx = getattr(exc, "ctx", None)
        path = usage_ctx.command_path if usage_ctx is not None else PROG
        output.error(type(exc).__name__, exc.format_message(),
                     f"see `{path} --help`" if exc.exit_code == 2 else None)
        return exc.exit_code
    message = str(exc) or type(exc).__name__
    output.error(type(exc).__name__, message,
                 failures.hint(exc, staking_contract=staking, api_base=api_base),
                 failures.error_fields(exc))
    return failures.exit_code(exc)


def _interrupted(argv: Sequence[str], state: State | None) -> int:
    """Ctrl-C: say what the interrupted call may have left behind; exit 130 like a shell."""
    hint = state.in_flight if state is not None else None
    _output_for(argv, state).error(
        "Interrupted", "interrupted" if hint else "interrupted: nothing was changed", hint)
    return failures.EXIT_INTERRUPTED


def _unexpected(argv: Sequence[str], exc: Exception, state: State | None) -> int:
    """A failure no error class describes: its type (not its text, which might hold a secret)."""
    detail = f": {exc.strerror} ({exc.filename})" if isinstance(exc, OSError) and \
        exc.strerror else ""
    _output_for(argv, state).error(
        "UnexpectedError", f"unexpected {type(exc).__name__}{detail}",
        f"rerun with {DEBUG_VAR}=1 for a traceback, and report it if it looks like a bug")
    return failures.EXIT_FAILURE


def _log_to_stderr() -> None:
    """Library warnings (e.g. an orphan key revoked) as plain `warning:` lines on stderr."""
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    logger = logging.getLogger("venice_web3_keys")
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)


def _skip_unused_imports() -> None:
    """Keep two imports no command uses off every run (together they cost about as much as
    the rest of a `keys list`).

    - httpx imports its own command line (`httpx._main`: rich, pygments) whenever click and rich
      are installed, as they are here. A `None` entry in `sys.modules` makes that one import
      fail, and httpx falls back to a stub `httpx.main`; this process never runs httpx's CLI.
    - pydantic looks up plugins through `importlib.metadata` entry points on its first
      validation; the CLI uses none (an explicit PYDANTIC_DISABLE_PLUGINS setting wins).
    """
    import os

    if "httpx" not in sys.modules:
        sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point: run the CLI and exit with the interface's exit codes."""
    import os

    args = list(sys.argv[1:] if argv is None else argv)
    _STATE.clear()  # a second main() in one process must not render with the first one's state
    _skip_unused_imports()
    _log_to_stderr()
    state = None
    try:
        try:
            rv = cli.main(args=args, prog_name=PROG, complete_var=COMPLETE_VAR,
                          standalone_mode=False)
        finally:
            state = _STATE[-1] if _STATE else None
        code = rv if isinstance(rv, int) else 0
    except click.Abort as exc:  # click turns Ctrl-C and EOF at a prompt into Abort
        if isinstance(exc.__cause__, KeyboardInterrupt):
            code = _interrupted(args, state)
        else:  # declined a confirmation, or stdin closed at a prompt
            _output_for(args, state).error("Aborted", "aborted: nothing was changed", None)
            code = failures.EXIT_FAILURE
    except KeyboardInterrupt:
        code = _interrupted(args, state)
    except (click.ClickException, VeniceKeysError) as exc:
        code = _fail(args, exc, state)
    except Exception as exc:
        if os.environ.get(DEBUG_VAR):
            raise
        code = _unexpected(args, exc, state)
    sys.exit(code)
