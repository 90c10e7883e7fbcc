"""`venice-keys`: the command-line face of the library (parse, validate, call the facade, render).

This module holds the top-level group and `main`; the commands live in `cli/commands/`, one
module per noun. Only click and the standard library are imported at module load; the facade,
rich, and anything that signs or reads the chain are imported inside the commands that need them.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from typing import TextIO

import click

from venice_web3_keys import lean_imports
from venice_web3_keys.cli import failures
from venice_web3_keys.cli.commands.account import billing, limits
from venice_web3_keys.cli.commands.completion import COMPLETE_VAR, completion
from venice_web3_keys.cli.commands.keys import keys
from venice_web3_keys.cli.commands.mint import mint
from venice_web3_keys.cli.commands.sandbox import demo, sandbox
from venice_web3_keys.cli.commands.wallet import wallet
from venice_web3_keys.cli.options import Group
from venice_web3_keys.cli.render import Output
from venice_web3_keys.cli.state import PROG, STATES, State
from venice_web3_keys.errors import VeniceKeysError
from venice_web3_keys.serialize import plain

__all__ = ["cli", "main", "stderr_log_handler"]


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
(no sVVV) or pay gas; 4 a credential missing or refused (admin key, wallet,
keystore password); 130 interrupted (Ctrl-C); 1 any other failure (e.g. a
transaction that reverts).
\b
Shell completion: eval "$({COMPLETE_VAR}=bash_source {PROG})"
(or zsh_source, fish_source), or `{PROG} completion bash|zsh|fish`.
"""


@click.group(cls=Group, epilog=_EPILOG,
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
    STATES.append(ctx.obj)


for _command in (wallet, mint, keys, limits, billing, sandbox, demo, completion):
    cli.add_command(_command)


def _late_json(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        state = ctx.find_object(State)
        if state is not None:
            state.output.json_mode = True


def _accept_json_anywhere(group: click.Group) -> None:
    """`venice-keys keys list --json` works as well as `venice-keys --json keys list`."""
    for command in group.commands.values():
        command.params.append(click.Option(["--json"], is_flag=True, hidden=True,
                                           expose_value=False, callback=_late_json))
        if isinstance(command, click.Group):
            _accept_json_anywhere(command)


_accept_json_anywhere(cli)


class _InertFormatter(logging.Formatter):
    """`warning: message`, with the message shown inert (it may quote server text)."""

    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname.lower()}: {plain(record.getMessage())}"


def stderr_log_handler(stream: TextIO | None = None) -> logging.Handler:
    """Library warnings (e.g. an orphan key revoked) as plain `warning:` lines on stderr."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(_InertFormatter())
    return handler


def _log_to_stderr() -> None:
    logger = logging.getLogger("venice_web3_keys")
    logger.addHandler(stderr_log_handler())
    logger.setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point: run the CLI and exit with the interface's exit codes."""
    import os

    args = list(sys.argv[1:] if argv is None else argv)
    STATES.clear()  # a second main() in one process must not render with the first one's state
    lean_imports.skip_httpx_cli()
    lean_imports.skip_pydantic_plugins()
    lean_imports.defer_bls12_381()
    _log_to_stderr()
    state = None
    try:
        try:
            rv = cli.main(args=args, prog_name=PROG, complete_var=COMPLETE_VAR,
                          standalone_mode=False)
        finally:
            state = STATES[-1] if STATES else None
        code = rv if isinstance(rv, int) else 0
    except click.Abort as exc:  # click turns Ctrl-C and EOF at a prompt into Abort
        if isinstance(exc.__cause__, KeyboardInterrupt):
            code = failures.report_interrupt(args, state)
        else:  # declined a confirmation, or stdin closed at a prompt
            code = failures.report_abort(args, state)
    except KeyboardInterrupt:
        code = failures.report_interrupt(args, state)
    except (click.ClickException, VeniceKeysError) as exc:
        code = failures.report(args, exc, state)
    except Exception as exc:
        if os.environ.get(failures.DEBUG_VAR):
            raise
        code = failures.report_unexpected(args, exc, state)
    if argv is None:  # this process's own command line: it normally ends here
        _spare_the_exit_its_cycle_collection()
    sys.exit(code)


def _spare_the_exit_its_cycle_collection() -> None:
    """Freeze every live object out of the cycle collector's sight before the process exits.

    At exit CPython collects cycles over everything still alive, twice, and frees what it
    finds: with pydantic, httpx and asyncio loaded that takes as long as the request itself
    (`benchmarks/cli_startup.py` times whole processes). Exit handlers, the flushing of stdout
    and stderr and everything the command closed are unaffected; what is skipped is finalizers
    of objects still in a reference cycle at exit, which CPython never promises to run.

    The freeze is an exit handler, not done here: a caller that catches the SystemExit (a test,
    a wrapper reading sys.argv) goes on living, and would keep everything alive now, garbage
    cycles included, frozen and uncollectable, once per call. Registered last, it runs first.
    """
    import atexit
    import gc

    atexit.unregister(gc.freeze)  # one registration however many times main() runs
    atexit.register(gc.freeze)
