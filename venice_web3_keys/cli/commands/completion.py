"""`venice-keys completion bash|zsh|fish`: the shell completion script."""

from __future__ import annotations

import sys

import click

from venice_web3_keys.cli.options import Command
from venice_web3_keys.cli.state import PROG, State

COMPLETE_VAR = "_VENICE_KEYS_COMPLETE"


@click.command(cls=Command)
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
