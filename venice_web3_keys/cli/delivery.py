"""Where a new key's secret goes (the SINK options), the key-making call, and its summary."""

from __future__ import annotations

import io
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from venice_web3_keys.cli.state import PROG, State
from venice_web3_keys.errors import InvalidInputError, SinkError

if TYPE_CHECKING:
    from venice_web3_keys.api import AsyncVeniceKeys, NewKey
    from venice_web3_keys.settings import Settings
    from venice_web3_keys.sinks import SecretSink

T = TypeVar("T")

MAY_HAVE_MADE_A_KEY = ("a key may have been made before the interrupt: check "
                       f"`{PROG} keys list` and revoke any you do not want")


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


def choose_sink(out: str | None, env_out: str | None, keyring: str | None,
                print_: bool) -> SinkChoice:
    """Exactly one SINK option, validated before any request (prepared by `make_key`)."""
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


def make_key(state: State, what: str, choice: SinkChoice,
             fn: Callable[[AsyncVeniceKeys], Awaitable[T]], *,
             settings: Settings | None = None) -> T:
    """A key-making call; if it fails, the prepared sink is undone (no empty file left)."""
    choice.prepare()
    try:
        return state.call(what, fn, settings=settings, writes=MAY_HAVE_MADE_A_KEY)
    except BaseException:
        choice.abort()
        raise


def show_new_key(state: State, new: NewKey, choice: SinkChoice, *, verb: str,
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
