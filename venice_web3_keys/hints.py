"""The one-line "what to do next" after an error, worded for the face that shows it.

Every face gives the same advice for the same error: the CLI names its commands, the MCP server
its tools, and where only the operator can act (settings, staking) the MCP wording asks the
operator. A face describes itself once with `NextSteps`; the decisions live here, and read the
error's class and attributes, never its message text.
"""

from __future__ import annotations

from dataclasses import dataclass

from venice_web3_keys import errors
from venice_web3_keys.secret import redact_text


@dataclass(frozen=True)
class NextSteps:
    """How a face names the actions a hint points to."""

    wallet_status: str  # checks a wallet's balances, e.g. "`venice-keys wallet status`"
    list_keys: str
    revoke_key: str
    revoke_this_key: str  # revokes key "{}" (the id is filled in)
    limits: str  # the configured key's limits and balances
    fix: str  # wraps a change to settings or funds: "{}" (the reader does it) or "ask ... {}"
    configure_wallet: str  # where a wallet comes from
    create_wallet: str  # when no wallet is configured at all
    password_file: str  # how a keystore password is given
    new_destination: str  # after a secret could not be stored
    stake_preview: str  # how to see what a stake would do
    stake_all: str  # how to stake the whole balance (or that one names the amount)
    stake_recheck: str  # how to check a stake again after its simulation failed
    mint_admin_key: str | None = None  # how to get an admin key, where the face can
    full_ids: str = "list the keys to see their full ids"  # after an ambiguous id prefix


# Errors whose fix is a setting: (error class, what happened, the change to make). Checked in
# order, so a subclass comes before its parent.
SETTING_FIXES: tuple[tuple[type[errors.VeniceKeysError], str, str], ...] = (
    (errors.AdminKeyRequiredError, "this needs an ADMIN key, not an INFERENCE key",
     "put one in VENICE_ADMIN_KEY"),
    (errors.AuthenticationError, "the key was refused",
     "check VENICE_ADMIN_KEY / VENICE_API_KEY (revoked or expired?)"),
    (errors.ChainUnreachableError, "no Base RPC endpoint answered",
     "check BASE_RPC_URL (comma-separate fallbacks)"),
    (errors.MissingContractError, "a token address has no code on this chain",
     "check that BASE_RPC_URL is really Base mainnet"),
)


def next_step(
    exc: BaseException, steps: NextSteps, *, staking_contract: str, api_base: str
) -> str | None:
    """One line telling the reader how to get past `exc` (never contains a secret)."""
    api_base = redact_text(api_base)  # never a `user:pass@`
    fix = steps.fix.format
    if isinstance(exc, errors.RotationFailedError) and exc.cause is not None:
        return next_step(exc.cause, steps, staking_contract=staking_contract, api_base=api_base)
    if isinstance(exc, errors.AmbiguousKeyIdError):
        return f"give more characters of the id ({steps.full_ids})"
    if isinstance(exc, errors.InsufficientGasError):
        return fix("send a little ETH on Base to the wallet for gas") + (
            f", then check it with {steps.wallet_status}"
        )
    if isinstance(exc, errors.NotEligibleError):
        if exc.unstaked:  # VVV in the wallet that only needs staking
            return steps.stake_preview
        if exc.staked is not None:  # our own read of the chain, which the message details
            return f"check the balances with {steps.wallet_status}"
        return (
            "this wallet holds no sVVV on Base: "
            + fix(f"stake VVV at {staking_contract} first (any non-zero amount is enough)")
            + f", then run {steps.wallet_status}"
        )
    if isinstance(exc, errors.AmountExceedsBalanceError):
        return f"{steps.wallet_status} shows the VVV balance; {steps.stake_all}"
    if isinstance(exc, errors.SimulationRevertedError):
        return f"nothing more was signed; {steps.stake_recheck}"
    if isinstance(exc, errors.TransactionTimeoutError):
        return (
            f"look the transaction up on a Base block explorer; {steps.wallet_status} shows "
            "whether the balances moved"
        )
    if isinstance(exc, errors.MissingCredentialsError) and exc.credential == "admin_key":
        admin = f"; {steps.mint_admin_key}" if steps.mint_admin_key else ""
        return fix("put VENICE_ADMIN_KEY in the environment or .env") + admin
    if isinstance(exc, errors.UntrustedSigningHostError):
        return fix(
            "point VENICE_API_BASE_URL at https://api.venice.ai/api/v1, or set "
            f"VENICE_ALLOW_CUSTOM_API_HOST=1 only if {exc.api_host} is a proxy you trust"
        )
    if isinstance(exc, errors.DeliveryFailedError | errors.MalformedSecretError):
        if exc.revoked:
            return "the new key was revoked; nothing usable was left behind: try again"
        return f"revoke key {exc.key_id} ({steps.revoke_this_key.format(exc.key_id)})"
    if isinstance(exc, errors.MissingCredentialsError) and exc.credential == "wallet":
        return steps.create_wallet
    if isinstance(exc, errors.KeystorePasswordError):
        return fix(steps.password_file)
    if isinstance(exc, errors.CredentialsRequiredError):
        admin = f" ({steps.mint_admin_key})" if steps.mint_admin_key else ""
        setting = fix("set VENICE_ADMIN_KEY in the environment or a .env file")
        return f"no API key was sent: {setting}{admin}"
    for kind, problem, change in SETTING_FIXES:
        if isinstance(exc, kind):
            return f"{problem}: {fix(change)}"
    if isinstance(exc, errors.PermissionDeniedError):
        return "this key is not allowed to do that (model privacy or key type)"
    check_id = f"check the id with {steps.list_keys} (expired and revoked keys are gone)"
    if isinstance(exc, errors.KeyNotFoundError):
        return check_id
    if isinstance(exc, errors.NotFoundError):
        return f"{check_id}, and " + fix(
            f"check that VENICE_API_BASE_URL ({api_base}) is the Venice API"
        )
    if isinstance(exc, errors.WrongChainError):
        if exc.expected == 8453:
            return f"BASE_RPC_URL reports chain {exc.actual}; " + fix(
                "point it at a Base RPC (chain 8453)"
            )
        return (
            f"BASE_RPC_URL reports chain {exc.actual} but VENICE_CHAIN_ID is {exc.expected}: "
            + fix("fix whichever is wrong (Venice mints on Base, chain 8453)")
        )
    if isinstance(exc, errors.WalletError):
        return fix(f"configure a wallet: {steps.configure_wallet}")
    if isinstance(exc, errors.RateLimitError):
        wait = f" {exc.retry_after:.0f} s" if exc.retry_after else " a minute"
        return f"rate limited: wait{wait} and try again"
    if isinstance(exc, errors.ActiveKeyLimitError):
        return f"revoke unused keys ({steps.list_keys}, {steps.revoke_key}) and try again"
    if isinstance(exc, errors.PaymentRequiredError):
        return f"the key's spend limit or the account balance stops this: see {steps.limits}"
    if isinstance(exc, errors.APIConnectionError) and not isinstance(exc, errors.APITimeoutError):
        return f"could not reach {api_base}: " + fix("check VENICE_API_BASE_URL and the network")
    if isinstance(exc, errors.SinkError):
        return f"no secret was lost: {steps.new_destination}"
    if isinstance(exc, errors.UnsafeSigningRequestError):
        return "nothing was signed; the server's challenge did not look like Venice's"
    return None
