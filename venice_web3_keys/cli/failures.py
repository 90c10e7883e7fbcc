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

if TYPE_CHECKING:
    from venice_web3_keys.cli.state import State

DEBUG_VAR = "VENICE_KEYS_DEBUG"

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_NOT_ELIGIBLE = 3
EXIT_AUTH = 4
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports it

_CHECK_ID = "check the id with `venice-keys keys list` (expired and revoked keys are gone)"


def exit_code(exc: BaseException) -> int:
    """The documented exit code (README, `venice-keys --help`) for an exception from a command."""
    if isinstance(exc, errors.KeystorePasswordError):
        return EXIT_USAGE
    if isinstance(exc, errors.MissingCredentialsError):
        return EXIT_AUTH  # the request could not be authenticated: same fix as a refused key
    if isinstance(exc, errors.InvalidInputError | errors.ConfigError):
        return EXIT_USAGE
    if isinstance(exc, errors.NotEligibleError):
        return EXIT_NOT_ELIGIBLE
    if isinstance(exc, errors.AuthenticationError | errors.PermissionDeniedError
                  | errors.CredentialsRequiredError):
        return EXIT_AUTH
    return EXIT_FAILURE


def hint(exc: BaseException, *, staking_contract: str, api_base: str) -> str | None:
    """One line telling the user how to get past this error (never contains a secret)."""
    if isinstance(exc, errors.InsufficientGasError):
        return ("send a little ETH on Base to the wallet for gas, then check it with "
                "`venice-keys wallet status`")
    if isinstance(exc, errors.NotEligibleError):
        if "VVV that is not staked" in str(exc):
            return "`venice-keys wallet stake AMOUNT --dry-run` shows what staking would do"
        if staking_contract.lower() in str(exc).lower():
            return "check the balances with `venice-keys wallet status`"
        return (f"this wallet holds no sVVV on Base: stake VVV at {staking_contract} first "
                "(any non-zero amount is enough), then run `venice-keys wallet status`")
    if isinstance(exc, errors.AmountExceedsBalanceError):
        return "`venice-keys wallet status` shows the VVV balance; `all` stakes all of it"
    if isinstance(exc, errors.SimulationRevertedError):
        return "nothing more was signed; `venice-keys wallet stake AMOUNT --dry-run` re-checks"
    if isinstance(exc, errors.TransactionTimeoutError):
        return ("look the transaction up on a Base block explorer; `venice-keys wallet status` "
                "shows whether the balances moved")
    if isinstance(exc, errors.MissingCredentialsError) and "VENICE_ADMIN_KEY" in str(exc):
        return ("put VENICE_ADMIN_KEY in the environment or .env; a wallet with sVVV can mint "
                "one: `venice-keys mint --type ADMIN --description admin --env-out .env:"
                "VENICE_ADMIN_KEY`")
    if isinstance(exc, errors.MissingCredentialsError) and "VENICE_WALLET" in str(exc):
        return ("create a keystore with `venice-keys wallet new --keystore PATH`; "
                "`wallet status --address ADDR` reads any wallet without one")
    if isinstance(exc, errors.KeystorePasswordError):
        return ("put the password alone in a file (chmod 600) and set "
                "VENICE_WALLET_PASSWORD_FILE to it, or pass --password-file F")
    if isinstance(exc, errors.CredentialsRequiredError):
        return ("no API key was sent: set VENICE_ADMIN_KEY in the environment or a .env file "
                "(mint one with `venice-keys mint --type ADMIN ... --out admin.key`)")
    if isinstance(exc, errors.AdminKeyRequiredError):
        return "this command needs an ADMIN key in VENICE_ADMIN_KEY, not an INFERENCE key"
    if isinstance(exc, errors.AuthenticationError):
        return "the key was refused: check VENICE_ADMIN_KEY / VENICE_API_KEY (revoked or expired?)"
    if isinstance(exc, errors.PermissionDeniedError):
        return "this key is not allowed to do that (model privacy or key type)"
    if isinstance(exc, errors.KeyNotFoundError):
        return _CHECK_ID
    if isinstance(exc, errors.NotFoundError):
        return f"{_CHECK_ID}, and that VENICE_API_BASE_URL ({api_base}) is the Venice API"
    if isinstance(exc, errors.WrongChainError):
        if exc.expected == 8453:
            return f"BASE_RPC_URL reports chain {exc.actual}; point it at a Base RPC (chain 8453)"
        return (f"BASE_RPC_URL reports chain {exc.actual} but VENICE_CHAIN_ID is {exc.expected}: "
                f"fix whichever is wrong (Venice mints on Base, chain 8453)")
    if isinstance(exc, errors.ChainUnreachableError):
        return "no Base RPC endpoint answered: check BASE_RPC_URL (comma-separate fallbacks)"
    if isinstance(exc, errors.MissingContractError):
        return "a token address has no code on this chain: is BASE_RPC_URL really Base mainnet?"
    if isinstance(exc, errors.WalletError):
        return ("configure a wallet: VENICE_WALLET_KEYSTORE (create one with `venice-keys wallet "
                "new --keystore PATH`) plus VENICE_WALLET_PASSWORD_FILE, or a hidden prompt")
    if isinstance(exc, errors.RateLimitError):
        wait = f" {exc.retry_after:.0f} s" if exc.retry_after else " a minute"
        return f"rate limited: wait{wait} and try again"
    if isinstance(exc, errors.ActiveKeyLimitError):
        return "revoke unused keys (`venice-keys keys list`, `keys revoke ID`) and try again"
    if isinstance(exc, errors.PaymentRequiredError):
        return "the key's spend limit or the account balance stops this: see `venice-keys limits`"
    if isinstance(exc, errors.APIConnectionError) and not isinstance(exc, errors.APITimeoutError):
        return f"could not reach {api_base}: check VENICE_API_BASE_URL and the network"
    if isinstance(exc, errors.SinkError):
        return "no secret was lost: pick another destination (--out NEW_FILE, --env-out, ...)"
    if isinstance(exc, errors.UnsafeSigningRequestError):
        return "nothing was signed; the server's challenge did not look like Venice's"
    return None


def error_fields(exc: BaseException) -> dict[str, Any]:
    """Extra JSON fields for an error object (orphan ids of an ambiguous create, ...)."""
    out: dict[str, Any] = {}
    if isinstance(exc, errors.AmbiguousCreateError):
        out["orphanIds"] = list(exc.orphan_ids)
        out["revokedIds"] = list(exc.revoked_ids)
    if isinstance(exc, errors.InvalidInputError) and exc.field:
        out["field"] = exc.field
    if isinstance(exc, errors.TransactionError) and exc.tx_hash:
        out["txHash"] = exc.tx_hash
    if isinstance(exc, errors.APIError):
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
    message = str(exc) or type(exc).__name__
    output.error(type(exc).__name__, message,
                 hint(exc, staking_contract=staking, api_base=api_base),
                 error_fields(exc))
    return exit_code(exc)


def report_interrupt(argv: Sequence[str], state: State | None) -> int:
    """Ctrl-C: say what the interrupted call may have left behind; exit 130 like a shell."""
    in_flight = state.in_flight if state is not None else None
    output_for(argv, state).error(
        "Interrupted", "interrupted" if in_flight else "interrupted: nothing was changed",
        in_flight)
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
        f"rerun with {DEBUG_VAR}=1 for a traceback, and report it if it looks like a bug")
    return EXIT_FAILURE
