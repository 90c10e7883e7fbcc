"""Map errors to exit codes and to a hint that says what to do next."""

from __future__ import annotations

from typing import Any

from venice_web3_keys import errors as E
from venice_web3_keys.hints import NextSteps, next_step

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_NOT_ELIGIBLE = 3
EXIT_AUTH = 4
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports it


def exit_code(exc: BaseException) -> int:
    """The documented exit code (README, `venice-keys --help`) for an exception from a command."""
    if isinstance(exc, E.MissingCredentialsError):
        return EXIT_AUTH  # the request could not be authenticated: same fix as a refused key
    if isinstance(exc, E.InvalidInputError | E.ConfigError):
        return EXIT_USAGE
    if isinstance(exc, E.NotEligibleError):
        return EXIT_NOT_ELIGIBLE
    if isinstance(exc, E.AuthenticationError | E.PermissionDeniedError
                  | E.CredentialsRequiredError):
        return EXIT_AUTH
    return EXIT_FAILURE


# How the CLI words the next steps of venice_web3_keys/hints.py (the MCP server words them too).
CLI_STEPS = NextSteps(
    wallet_status="`venice-keys wallet status`",
    list_keys="`venice-keys keys list`",
    revoke_key="`keys revoke ID`",
    limits="`venice-keys limits`",
    fix="{}",
    configure_wallet="VENICE_WALLET_KEYSTORE (create one with `venice-keys wallet new --keystore "
    "PATH`) plus VENICE_WALLET_PASSWORD_FILE, or a hidden prompt",
    new_destination="pick another destination (--out NEW_FILE, --env-out, ...)",
    mint_admin_key="a wallet with sVVV can mint one: `venice-keys mint --type ADMIN --description "
    "admin --env-out .env:VENICE_ADMIN_KEY`",
)


def hint(exc: BaseException, *, staking_contract: str, api_base: str) -> str | None:
    """One line telling the user how to get past this error (never contains a secret)."""
    return next_step(exc, CLI_STEPS, staking_contract=staking_contract, api_base=api_base)


def error_fields(exc: BaseException) -> dict[str, Any]:
    """Extra JSON fields for an error object (orphan ids of an ambiguous create, ...)."""
    out: dict[str, Any] = {}
    if isinstance(exc, E.AmbiguousCreateError):
        out["orphanIds"] = list(exc.orphan_ids)
        out["revokedIds"] = list(exc.revoked_ids)
    if isinstance(exc, E.InvalidInputError) and exc.field:
        out["field"] = exc.field
    if isinstance(exc, E.APIError):
        if exc.status_code is not None:
            out["status"] = exc.status_code
        if exc.request_id:
            out["requestId"] = exc.request_id
    return out
