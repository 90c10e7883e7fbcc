"""One error hierarchy for the whole package.

Modelled on the Stainless SDKs (status classes) plus Venice's own error texts mapped to specific
classes, so callers can branch on *what happened* rather than on strings. No message built here
ever contains a secret: callers pass already-masked values.
"""

from __future__ import annotations

from typing import Any


class VeniceKeysError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigError(VeniceKeysError):
    """A setting is missing, malformed or contradicts another one."""


class MissingCredentialsError(ConfigError):
    """A credential the call needs (admin key, API key, wallet) is not configured; nothing sent.

    Not the server's 402 "no credentials" answer: that is CredentialsRequiredError.
    """


class InvalidInputError(VeniceKeysError, ValueError):
    """Caller input was rejected locally; nothing was sent over the network."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class AmountExceedsBalanceError(InvalidInputError):
    """The amount to stake is more than the wallet's VVV; only balances were read, nothing sent.

    `amount` and `balance` are in base units (wei).
    """

    def __init__(self, message: str, *, amount: int, balance: int) -> None:
        super().__init__(message, field="amount")
        self.amount = amount
        self.balance = balance


class WalletError(VeniceKeysError):
    """No usable wallet: none configured, a keystore that will not open, a wrong password."""


class KeystorePasswordError(WalletError):
    """The keystore password is wrong, or none could be read (an empty or unreadable password
    file, no variable set and no terminal to ask on)."""


class UnsafeSigningRequestError(VeniceKeysError):
    """The server asked us to sign something that is not a well-formed, current Venice challenge."""


class SinkError(VeniceKeysError):
    """A secret could not be delivered to (or prepared in) its destination."""


class BudgetError(VeniceKeysError):
    """The shared create budget (VENICE_BUDGET_URL, e.g. Redis) could not be read or updated.

    Raised before the create it was pacing, so nothing was sent for that key.
    """


class ChainError(VeniceKeysError):
    """Reading Base over JSON-RPC failed."""


class ChainUnreachableError(ChainError):
    """No RPC endpoint in the failover list answered."""


class WrongChainError(ChainError):
    """The RPC endpoint reports a chain id other than the configured one."""

    def __init__(self, message: str, *, expected: int, actual: int) -> None:
        super().__init__(message)
        self.expected = expected
        self.actual = actual


class MissingContractError(ChainError):
    """A configured token/staking address has no code on this chain."""


class TransactionError(ChainError):
    """A transaction (approve, stake) could not be completed as asked.

    The message says what is known on chain: nothing signed, or which transaction (by hash) was
    sent and whether it was mined. `tx_hash` is the transaction concerned, when there is one.
    """

    def __init__(self, message: str, *, tx_hash: str | None = None) -> None:
        super().__init__(message)
        self.tx_hash = tx_hash


class TransactionRefusedError(TransactionError):
    """The node refused a signed transaction (bad nonce, fee, funds...): it was not sent."""


class SimulationRevertedError(TransactionError):
    """Simulating a transaction (eth_call / eth_simulateV1 / eth_estimateGas) reverted, so it
    was not signed. `step` is "approve" or "stake"; `reason` the decoded revert reason."""

    def __init__(self, message: str, *, step: str, reason: str,
                 tx_hash: str | None = None) -> None:
        super().__init__(message, tx_hash=tx_hash)
        self.step = step
        self.reason = reason


class TransactionRevertedError(TransactionError):
    """A transaction was mined but reverted (receipt status 0); it paid gas, changed nothing."""


class TransactionTimeoutError(TransactionError):
    """A sent transaction had no receipt in time. It may still be mined: the message says what
    the node knows of it (`pending`: the node still holds it; False: the node no longer does)."""

    def __init__(self, message: str, *, tx_hash: str, pending: bool | None) -> None:
        super().__init__(message, tx_hash=tx_hash)
        self.pending = pending


class StakeVerificationError(TransactionError):
    """Both transactions were mined but the balances did not move by the amount staked.

    `result` (a StakeResult) holds the hashes, gas, fees and the balances actually read.
    """

    def __init__(self, message: str, *, result: Any) -> None:
        super().__init__(message, tx_hash=getattr(result, "stake_tx", None))
        self.result = result


class NotEligibleError(VeniceKeysError):
    """The wallet lacks what the action needs: staked VVV (sVVV) to mint a key, or ETH for gas."""


class InsufficientGasError(NotEligibleError):
    """The wallet's ETH cannot pay the gas (and Base's L1 data fee) of the transactions; nothing
    was signed. `needed` and `available` are in wei."""

    def __init__(self, message: str, *, needed: int, available: int) -> None:
        super().__init__(message)
        self.needed = needed
        self.available = available


class APIError(VeniceKeysError):
    """The Venice API answered with an error, or could not be reached."""

    status_code: int | None = None

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        body: Any = None,
        method: str | None = None,
        path: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        self.body = body
        self.method = method
        self.path = path
        self.request_id = request_id


class APIConnectionError(APIError):
    """The request did not get a response (DNS, refused connection, reset)."""


class APITimeoutError(APIConnectionError):
    """The request timed out; the server may or may not have acted on it."""


class APIStatusError(APIError):
    """A response with a 4xx/5xx status."""


class BadRequestError(APIStatusError):
    status_code = 400


class ValidationError(BadRequestError):
    """Venice rejected the request body; `field_errors` maps field name to messages."""

    def __init__(self, message: str, *, field_errors: dict[str, list[str]] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.field_errors: dict[str, list[str]] = field_errors or {}


class KeyNotFoundError(BadRequestError):
    """The API key id is unknown, expired or already revoked."""


class ActiveKeyLimitError(BadRequestError):
    """The account already holds the maximum number of active keys (500)."""


class Web3MintError(BadRequestError):
    """The wallet mint endpoint refused the request."""


class InvalidWalletAddressError(Web3MintError):
    pass


class TokenExpiredError(Web3MintError):
    """The signed token/challenge expired before it reached Venice."""


class TokenInvalidError(Web3MintError):
    """The token is malformed, not issued by Venice, or its claims do not match."""


class SignatureMismatchError(Web3MintError):
    """The signature does not recover to the wallet address that was sent."""


class SignatureVerificationUnavailableError(Web3MintError):
    """Venice could not verify the signature on Base right now (transient)."""


class NoStakedVVVError(Web3MintError, NotEligibleError):
    """Venice says the wallet has no staked VVV on Base."""


class ChallengeExpiredError(TokenExpiredError):
    """The SIWE challenge expired."""


class ChallengeUsedError(Web3MintError):
    """The SIWE challenge was already used (its nonce is single-use)."""


class ChallengeInvalidError(Web3MintError):
    """The SIWE challenge was altered, is for another wallet, or is not a Venice challenge."""


class AuthenticationError(APIStatusError):
    status_code = 401


class AdminKeyRequiredError(AuthenticationError):
    """The route needs an ADMIN key; an INFERENCE key was sent."""


class PaymentRequiredError(APIStatusError):
    """402: no credentials were sent, or a spend limit / balance stops the request."""

    status_code = 402


class CredentialsRequiredError(PaymentRequiredError):
    """402 x402 discovery body: the request carried no credentials at all."""


class PermissionDeniedError(APIStatusError):
    status_code = 403


class NotFoundError(APIStatusError):
    status_code = 404


class ConflictError(APIStatusError):
    status_code = 409


class RateLimitError(APIStatusError):
    status_code = 429

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class InternalServerError(APIStatusError):
    """5xx: for a create, the key may or may not exist."""


class AmbiguousCreateError(VeniceKeysError):
    """A key-creating request's outcome could not be established, or left an orphan.

    The message names every orphan key by id and says whether it was revoked; it never
    contains a secret.
    """

    def __init__(
        self,
        message: str,
        *,
        orphan_ids: list[str] | None = None,
        revoked_ids: list[str] | None = None,
        cause: BaseException | None = None,
    ) -> None:
        super().__init__(message)
        self.orphan_ids = orphan_ids or []
        self.revoked_ids = revoked_ids or []
        self.cause = cause


class PolicyError(VeniceKeysError):
    """An operator guardrail (MCP policy) refused the action."""

    def __init__(self, message: str, *, rule: str) -> None:
        super().__init__(message)
        self.rule = rule
