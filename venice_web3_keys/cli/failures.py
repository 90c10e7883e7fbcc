"""Map errors to exit codes and to a hint that says what to do next."""

from __future__ import annotations

from typing import Any

from venice_web3_keys import errors as E

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_NOT_ELIGIBLE = 3
EXIT_AUTH = 4
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports it

_CHECK_ID = "check the id with `venice-keys keys list` (expired and revoked keys are gone)"


def exit_code(exc: BaseException) -> int:
    """The documented exit code (README, `venice-keys --help`) for an exception from a command."""
    if isinstance(exc, E.RotationFailedError) and exc.cause is not None:
        return exit_code(exc.cause)  # what stopped it decides (the old key is unchanged)
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


def hint(exc: BaseException, *, staking_contract: str, api_base: str) -> str | None:
    """One line telling the user how to get past this error (never contains a secret).

    Decided by the error's class and attributes, never by its message text.
    """
    from venice_web3_keys.secret import redact_text

    api_base = redact_text(api_base)  # never a `user:pass@`
    if isinstance(exc, E.RotationFailedError) and exc.cause is not None:
        return hint(exc.cause, staking_contract=staking_contract, api_base=api_base)
    if isinstance(exc, E.NotEligibleError):
        if exc.staked is not None:  # our own read of the chain, which the message details
            return "check the balances with `venice-keys wallet status`"
        return (f"this wallet holds no sVVV on Base: stake VVV at {staking_contract} first "
                "(any non-zero amount is enough), then run `venice-keys wallet status`")
    if isinstance(exc, E.MissingCredentialsError) and exc.credential == "admin_key":
        return ("put VENICE_ADMIN_KEY in the environment or .env; a wallet with sVVV can mint "
                "one: `venice-keys mint --type ADMIN --description admin --env-out .env:"
                "VENICE_ADMIN_KEY`")
    if isinstance(exc, E.UntrustedSigningHostError):
        return (f"point VENICE_API_BASE_URL at https://api.venice.ai/api/v1, or set "
                f"VENICE_ALLOW_CUSTOM_API_HOST=1 only if {exc.api_host} is a proxy you trust")
    if isinstance(exc, E.DeliveryFailedError | E.MalformedSecretError):
        if exc.revoked:
            return "the new key was revoked; nothing usable was left behind: try again"
        return f"revoke key {exc.key_id} (`venice-keys keys revoke {exc.key_id}`)"
    if isinstance(exc, E.CredentialsRequiredError):
        return ("no API key was sent: set VENICE_ADMIN_KEY in the environment or a .env file "
                "(mint one with `venice-keys mint --type ADMIN ... --out admin.key`)")
    if isinstance(exc, E.AdminKeyRequiredError):
        return "this command needs an ADMIN key in VENICE_ADMIN_KEY, not an INFERENCE key"
    if isinstance(exc, E.AuthenticationError):
        return "the key was refused: check VENICE_ADMIN_KEY / VENICE_API_KEY (revoked or expired?)"
    if isinstance(exc, E.PermissionDeniedError):
        return "this key is not allowed to do that (model privacy or key type)"
    if isinstance(exc, E.KeyNotFoundError):
        return _CHECK_ID
    if isinstance(exc, E.NotFoundError):
        return f"{_CHECK_ID}, and that VENICE_API_BASE_URL ({api_base}) is the Venice API"
    if isinstance(exc, E.WrongChainError):
        if exc.expected == 8453:
            return f"BASE_RPC_URL reports chain {exc.actual}; point it at a Base RPC (chain 8453)"
        return (f"BASE_RPC_URL reports chain {exc.actual} but VENICE_CHAIN_ID is {exc.expected}: "
                f"fix whichever is wrong (Venice mints on Base, chain 8453)")
    if isinstance(exc, E.ChainUnreachableError):
        return "no Base RPC endpoint answered: check BASE_RPC_URL (comma-separate fallbacks)"
    if isinstance(exc, E.MissingContractError):
        return "a token address has no code on this chain: is BASE_RPC_URL really Base mainnet?"
    if isinstance(exc, E.WalletError) or (isinstance(exc, E.MissingCredentialsError)
                                          and exc.credential in ("wallet", "wallet_password")):
        return ("configure a wallet: VENICE_WALLET_KEYSTORE (create one with `venice-keys wallet "
                "new --keystore PATH`) plus VENICE_WALLET_PASSWORD_FILE, or a hidden prompt")
    if isinstance(exc, E.RateLimitError):
        wait = f" {exc.retry_after:.0f} s" if exc.retry_after else " a minute"
        return f"rate limited: wait{wait} and try again"
    if isinstance(exc, E.ActiveKeyLimitError):
        return "revoke unused keys (`venice-keys keys list`, `keys revoke ID`) and try again"
    if isinstance(exc, E.PaymentRequiredError):
        return "the key's spend limit or the account balance stops this: see `venice-keys limits`"
    if isinstance(exc, E.APIConnectionError) and not isinstance(exc, E.APITimeoutError):
        return f"could not reach {api_base}: check VENICE_API_BASE_URL and the network"
    if isinstance(exc, E.SinkError):
        return "no secret was lost: pick another destination (--out NEW_FILE, --env-out, ...)"
    if isinstance(exc, E.UnsafeSigningRequestError):
        return "nothing was signed; the server's challenge did not look like Venice's"
    return None


def error_fields(exc: BaseException) -> dict[str, Any]:
    """Extra JSON fields for an error object (orphan ids of an ambiguous create, ...)."""
    out: dict[str, Any] = {}
    if isinstance(exc, E.AmbiguousCreateError):
        out["orphanIds"] = list(exc.orphan_ids)
        out["revokedIds"] = list(exc.revoked_ids)
    if isinstance(exc, E.InvalidInputError) and exc.field:
        out["field"] = exc.field
    if isinstance(exc, E.MissingCredentialsError):
        out["credential"] = exc.credential
    if isinstance(exc, E.DeliveryFailedError | E.MalformedSecretError):
        out.update(keyId=exc.key_id, revoked=exc.revoked)
    if isinstance(exc, E.RotationError):
        out["oldKeyId"] = exc.old_key_id
    if isinstance(exc, E.RotationFailedError):
        out.update(newKeyId=exc.new_key_id, successorRevoked=exc.successor_revoked)
    if isinstance(exc, E.OldKeyNotRevokedError):
        out["newKeyId"] = exc.new_key.id
    if isinstance(exc, E.PartialRevokeError):
        out.update(revokedIds=list(exc.revoked_ids), failedIds=list(exc.failed_ids))
    if isinstance(exc, E.APIError):
        if exc.status_code is not None:
            out["status"] = exc.status_code
        if exc.request_id:
            out["requestId"] = exc.request_id
    return out
