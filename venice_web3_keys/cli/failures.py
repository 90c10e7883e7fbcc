"""Failures: exit codes, the one-line hint that says what to do next, and how both are shown.

In `--json` mode a failure is the one JSON object on stdout; its message always goes to stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from venice_web3_keys import errors
from venice_web3_keys.cli.render import Output
from venice_web3_keys.cli.state import PROG
from venice_web3_keys.hints import NextSteps, next_step

if TYPE_CHECKING:
    from venice_web3_keys.cli.state import State

DEBUG_VAR = "VENICE_KEYS_DEBUG"

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_NOT_ELIGIBLE = 3
EXIT_AUTH = 4
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports it

def exit_code(exc: BaseException) -> int:
    """The documented exit code (README, `venice-keys --help`) for an exception from a command."""
    if isinstance(exc, errors.RotationFailedError) and exc.cause is not None:
        return exit_code(exc.cause)  # what stopped it decides (the old key is unchanged)
    if isinstance(exc, errors.MissingCredentialsError | errors.KeystorePasswordError):
        return EXIT_AUTH  # a credential missing or refused: nothing could be authenticated
    if isinstance(exc, errors.InvalidInputError | errors.ConfigError):
        return EXIT_USAGE
    if isinstance(exc, errors.NotEligibleError):
        return EXIT_NOT_ELIGIBLE
    if isinstance(exc, errors.AuthenticationError | errors.PermissionDeniedError
                  | errors.CredentialsRequiredError):
        return EXIT_AUTH
    return EXIT_FAILURE


#: the library's field names, as the flags (or argument) a user typed them
FLAGS = {
    "api_key_type": "--type", "description": "--description", "expires_at": "--expires",
    "usd_limit": "--usd-limit", "diem_limit": "--diem-limit", "limit_period": "--limit-period",
    "model_privacy": "--model-privacy", "address": "--address", "keystore": "--keystore",
    "eth": "--eth", "vvv": "--vvv", "svvv": "--svvv", "diem": "--diem",
}


def message(exc: BaseException) -> str:
    """The error's text; an input error names the flag that was typed (`--usd-limit must be
    ...`), not the library's field name."""
    text = str(exc) or type(exc).__name__
    field = getattr(exc, "field", None) if isinstance(exc, errors.InvalidInputError) else None
    flag = FLAGS.get(field or "")
    if flag is None or flag in text:
        return text
    if text.startswith(f"{field} "):
        return flag + text[len(field or ""):]
    return f"{flag}: {text}"


# How the CLI words the next steps of venice_web3_keys/hints.py (the MCP server words them too).
CLI_STEPS = NextSteps(
    wallet_status="`venice-keys wallet status`",
    list_keys="`venice-keys keys list`",
    revoke_key="`keys revoke ID`",
    revoke_this_key="`venice-keys keys revoke {}`",
    limits="`venice-keys limits`",
    fix="{}",
    configure_wallet="VENICE_WALLET_KEYSTORE (create one with `venice-keys wallet new --keystore "
    "PATH`) plus VENICE_WALLET_PASSWORD_FILE, or a hidden prompt",
    create_wallet="create a keystore with `venice-keys wallet new --keystore PATH`; `wallet status "
    "--address ADDR` reads any wallet without one",
    password_file="put the password alone in a file (chmod 600) and set "
    "VENICE_WALLET_PASSWORD_FILE to it, or pass --password-file F",
    new_destination="pick another destination (--out NEW_FILE, --env-out, ...)",
    stake_preview="`venice-keys wallet stake AMOUNT --dry-run` shows what staking would do",
    stake_all="`all` stakes all of it",
    stake_recheck="`venice-keys wallet stake AMOUNT --dry-run` re-checks",
    mint_admin_key="a wallet with sVVV can mint one: `venice-keys mint --type ADMIN --description "
    "admin --env-out .env:VENICE_ADMIN_KEY`",
    full_ids="`venice-keys keys list --wide` shows them whole",
)


def hint(exc: BaseException, *, staking_contract: str, api_base: str,
         command: str = PROG) -> str | None:
    """One line telling the user how to get past this error (never contains a secret).

    Decided by the error's class and attributes (venice_web3_keys/hints.py), never its text.
    """
    step = next_step(exc, CLI_STEPS, staking_contract=staking_contract, api_base=api_base)
    if step is None and isinstance(exc, errors.InvalidInputError | errors.ConfigError):
        return f"nothing was sent; see `{command} --help`"
    return step


def error_fields(exc: BaseException) -> dict[str, Any]:
    """Extra JSON fields for an error object (orphan ids of an ambiguous create, ...)."""
    out: dict[str, Any] = {}
    if isinstance(exc, errors.AmbiguousCreateError):
        out["orphanIds"] = list(exc.orphan_ids)
        out["revokedIds"] = list(exc.revoked_ids)
    if isinstance(exc, errors.InvalidInputError) and exc.field:
        out["field"] = exc.field
    if isinstance(exc, errors.AmbiguousKeyIdError):
        out["matches"] = list(exc.matches)
    if isinstance(exc, errors.MissingCredentialsError):
        out["credential"] = exc.credential
    if isinstance(exc, errors.DeliveryFailedError | errors.MalformedSecretError):
        out.update(keyId=exc.key_id, revoked=exc.revoked)
    if isinstance(exc, errors.RotationError):
        out["oldKeyId"] = exc.old_key_id
    if isinstance(exc, errors.RotationFailedError):
        out.update(newKeyId=exc.new_key_id, successorRevoked=exc.successor_revoked)
    if isinstance(exc, errors.OldKeyNotRevokedError):
        out["newKeyId"] = exc.new_key.id
    if isinstance(exc, errors.PartialRevokeError):
        out.update(revokedIds=list(exc.revoked_ids), failedIds=list(exc.failed_ids))
    if isinstance(exc, errors.TransactionError) and exc.tx_hash:
        out["txHash"] = exc.tx_hash
    if isinstance(exc, errors.APIError) and exc.method is not None:  # an HTTP answer
        if exc.status_code is not None:
            out["status"] = exc.status_code
        if exc.request_id:
            out["requestId"] = exc.request_id
    return out


# ---- rendering ---------------------------------------------------------------------------------


def wants_json(argv: Sequence[str]) -> bool:
    """`--json` anywhere before a `--` (it is accepted after the command name too)."""
    for arg in argv:
        if arg == "--":
            return False
        if arg == "--json":
            return True
    return False


def output_for(argv: Sequence[str], state: State | None) -> Output:
    """The running command's output, in JSON mode if `--json` was given anywhere."""
    json_mode = wants_json(argv) or (state is not None and state.output.json_mode)
    output = state.output if state is not None else Output(json_mode=json_mode)
    output.json_mode = json_mode
    return output


def report(argv: Sequence[str], exc: click.ClickException | errors.VeniceKeysError,
           state: State | None) -> int:
    """Report a failure (one JSON object in `--json` mode; always on stderr); the exit code."""
    output = output_for(argv, state)
    from venice_web3_keys.settings import DEFAULT_STAKING_CONTRACT

    staking, api_base = DEFAULT_STAKING_CONTRACT, "the Venice API"
    settings = state.loaded_settings if state is not None else None
    if settings is not None:
        staking, api_base = settings.staking_contract, settings.api_base_url
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
    extra = {**error_fields(exc), **(state.failure_extra if state is not None else {})}
    command = state.command_path if state is not None else PROG
    output.error(type(exc).__name__, message(exc),
                 hint(exc, staking_contract=staking, api_base=api_base, command=command), extra)
    return exit_code(exc)


def report_interrupt(argv: Sequence[str], state: State | None) -> int:
    """Ctrl-C: say what the interrupted call may have left behind; exit 130 like a shell."""
    in_flight = state.interrupted_text() if state is not None else None
    output_for(argv, state).error(
        "Interrupted", "interrupted" if in_flight else "interrupted: nothing was changed",
        in_flight, state.failure_extra if state is not None else None)
    return EXIT_INTERRUPTED


def report_abort(argv: Sequence[str], state: State | None) -> int:
    """A declined confirmation, or stdin closed at a prompt."""
    output_for(argv, state).error("Aborted", "aborted: nothing was changed", None)
    return EXIT_FAILURE


def report_unexpected(argv: Sequence[str], exc: Exception, state: State | None) -> int:
    """A failure no error class describes: its type (not its text, which might hold a secret)."""
    detail = f": {exc.strerror} ({exc.filename})" if isinstance(exc, OSError) and \
        exc.strerror else ""
    output_for(argv, state).error(
        "UnexpectedError", f"unexpected {type(exc).__name__}{detail}",
        f"rerun with {DEBUG_VAR}=1 for a traceback, and report it if it looks like a bug",
        state.failure_extra if state is not None else None)
    return EXIT_FAILURE
