"""What a failed tool call means for the agent and for the books: whether a key may exist
because of it (the hourly cap counts those, and ownership records their ids), and the next step
to take, worded as the CLI's hints (venice_web3_keys/hints.py) are, for an agent."""

from __future__ import annotations

from typing import TYPE_CHECKING

from venice_web3_keys.errors import (
    AmbiguousCreateError,
    APIError,
    AuditLockError,
    ChainError,
    ConfigError,
    InvalidInputError,
    NotEligibleError,
    RotationFailedError,
    UnsafeSigningRequestError,
    VeniceKeysError,
    WalletError,
)
from venice_web3_keys.hints import NextSteps, next_step
from venice_web3_keys.mcp.catalog import (
    BILLING_BALANCE,
    LIST_KEYS,
    RATE_LIMITS,
    REVOKE_KEY,
    STAKE_VVV,
    WALLET_STATUS,
)
from venice_web3_keys.settings import DEFAULT_API_BASE_URL, DEFAULT_STAKING_CONTRACT

if TYPE_CHECKING:
    from venice_web3_keys.settings import Settings

# Failures that prove no key was made: refused or invalid before any create request, or a
# definite answer from Venice (a 4xx; a 5xx the flows reconciled to "nothing was created").
NOTHING_MADE = (
    InvalidInputError,
    ConfigError,
    WalletError,
    UnsafeSigningRequestError,
    ChainError,
    NotEligibleError,
    APIError,
    AuditLockError,
)


def keys_a_failure_made(exc: BaseException) -> tuple[bool, list[str]]:
    """(may a key exist because of this failed key-making call, the ids known to exist).

    Read from the error's class and `created_key_ids` (errors.py), never its message. Anything
    not proven harmless counts: an ambiguous create, a rotation that made a successor, a lost
    delivery, a deadline or a cancellation.
    """
    if isinstance(exc, VeniceKeysError) and exc.created_key_ids:
        return True, list(exc.created_key_ids)
    if isinstance(exc, AmbiguousCreateError):
        return True, []
    if isinstance(exc, RotationFailedError):  # no successor known: did the attempt make one?
        return keys_a_failure_made(exc.cause) if exc.cause is not None else (False, [])
    if isinstance(exc, NOTHING_MADE):
        return False, []
    return True, []


# The CLI's next steps (venice_web3_keys/hints.py), worded for an agent: tools instead of
# commands, and the operator for whatever only the operator can change.
MCP_STEPS = NextSteps(
    wallet_status=WALLET_STATUS.name,
    list_keys=LIST_KEYS.name,
    revoke_key=REVOKE_KEY.name,
    revoke_this_key=REVOKE_KEY.name,
    limits=f"{RATE_LIMITS.name} and {BILLING_BALANCE.name}",
    fix="ask the operator to {}",
    configure_wallet="VENICE_WALLET_KEYSTORE plus VENICE_WALLET_PASSWORD_FILE (or "
    "VENICE_WALLET_PRIVATE_KEY) for this server",
    create_wallet="ask the operator to configure this server's wallet; "
    f"{WALLET_STATUS.name} with an `address` reads any wallet without one",
    password_file="put the keystore password alone in a file (chmod 600) and set "
    "VENICE_WALLET_PASSWORD_FILE to it",
    new_destination="ask the operator to check this server's secrets directory",
    stake_preview=f"{STAKE_VVV.name} stakes it, where the operator allows staking",
    stake_all=f"{STAKE_VVV.name} takes an exact amount of VVV",
    stake_recheck=f"check the balances with {WALLET_STATUS.name} before trying again",
)


def next_step_text(exc: BaseException, settings: Settings | None) -> str:
    """" Next step: ..." for the error, as the CLI would advise it (or nothing)."""
    text = next_step(
        exc,
        MCP_STEPS,
        staking_contract=settings.staking_contract if settings else DEFAULT_STAKING_CONTRACT,
        api_base=settings.api_base_url if settings else DEFAULT_API_BASE_URL,
    )
    return f" Next step: {text}." if text else ""
