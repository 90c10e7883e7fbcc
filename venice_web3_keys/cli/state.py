"""What every command shares: the global options, settings loaded once, the output, one facade call.

Only click and the standard library are imported here; the facade is imported inside `call`.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import click

from venice_web3_keys.cli.render import Output
from venice_web3_keys.errors import InvalidInputError

if TYPE_CHECKING:
    from venice_web3_keys.api import AsyncVeniceKeys
    from venice_web3_keys.settings import Settings

T = TypeVar("T")

PROG = "venice-keys"


@dataclass
class State:
    """Global options, resolved settings (loaded once, on first use) and the output."""

    env_file: str | None
    api_base: str | None
    rpc_url: str | None
    output: Output
    _settings: Settings | None = field(default=None, repr=False)
    #: what may have happened if the call in flight is interrupted (None: a read); a callable
    #: is asked at the moment of the interrupt (a rotation knows how far it got)
    in_flight: str | Callable[[], str] | None = field(default=None, repr=False)
    #: `venice-keys keys update`: the running command, for "see ... --help" hints
    command_path: str = PROG
    #: fields a failure's JSON object must carry (a --print secret delivered before it)
    failure_extra: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def loaded_settings(self) -> Settings | None:
        """The settings if a command has loaded them (error hints use them, never load them)."""
        return self._settings

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
            from venice_web3_keys.settings import env_file_endpoint_notice

            if notice := env_file_endpoint_notice(self._settings):
                sys.stderr.write(f"note: {notice}\n")
        return self._settings

    def call(self, what: str, fn: Callable[[AsyncVeniceKeys], Awaitable[T]], *,
             settings: Settings | None = None,
             writes: str | Callable[[], str] | None = None, spinner: bool = True) -> T:
        """Run one facade call on a fresh event loop, with a spinner on stderr (unless the
        command shows its own progress).

        `writes` says what a Ctrl-C during the call may leave behind (None for a read).
        """
        import asyncio

        from venice_web3_keys.api import AsyncVeniceKeys

        resolved = settings or self.settings()
        self.in_flight = writes

        def announce(notice: object) -> None:  # a signature for a non-Venice host, each time
            sys.stderr.write(f"warning: {notice}\n")

        async def with_facade() -> T:
            async with AsyncVeniceKeys(resolved, on_sign=announce) as vk:
                return await fn(vk)

        if not spinner:
            return asyncio.run(with_facade())
        with self.output.spinner(what):
            return asyncio.run(with_facade())

    def interrupted_text(self) -> str | None:
        """What the interrupted call may have left behind (None: it was a read)."""
        return self.in_flight() if callable(self.in_flight) else self.in_flight

    def show(self, data: Any, human: Callable[[Any], None], *, as_list: bool = False) -> None:
        """A read command's result: one JSON object (`{"data": [...]}` for a list) or `human`."""
        if self.output.json_mode:
            self.output.emit_json({"data": data} if as_list else data)
        else:
            human(data)


pass_state = click.make_pass_decorator(State)
#: the running command's state, for error rendering in main() after click has unwound
STATES: list[State] = []


def stdin_is_tty() -> bool:
    return sys.stdin.isatty()
