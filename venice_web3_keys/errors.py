"""Every error class the package raises on purpose, in one tree.

Callers branch on the class and read its attributes, never its message. A message is redacted
when the error is built (`secret.redact_text`), so no secret-shaped text survives in one.

VeniceKeysError
├── ConfigError                          a setting is missing, malformed or contradicts another
│   ├── MissingCredentialsError          .credential: the wallet, admin key or API key
│   └── UntrustedSigningHostError        .api_host: the wallet would sign for a non-Venice host
├── InvalidInputError                    caller input refused locally (.field); nothing was sent
│   ├── AmbiguousKeyIdError              an id prefix that matches several keys (.matches)
│   └── AmountExceedsBalanceError        a stake amount above the VVV balance
├── WalletError                          a keystore that will not open
│   └── KeystorePasswordError            a wrong password, or none could be read
├── UnsafeSigningRequestError            what the server asked us to sign is not Venice's
│   └── UntrustedSigningHostError        (also a ConfigError)
├── SinkError                            a secret's destination cannot be prepared or written
│   └── DeliveryFailedError              .key_id, .revoked: a key made, its secret not stored
├── BudgetError                          the shared create budget (VENICE_BUDGET_URL) is unusable
├── ChainError                           reading Base over JSON-RPC failed
│   ├── ChainUnreachableError
│   ├── WrongChainError                  .expected, .actual
│   ├── MissingContractError
│   └── TransactionError                 an approve/stake not completed as asked (.tx_hash)
│       ├── TransactionRefusedError      the node refused the signed transaction: not sent
│       ├── SimulationRevertedError      the simulation reverted: nothing signed (.step, .reason)
│       ├── TransactionRevertedError     mined, but reverted
│       ├── TransactionTimeoutError      sent, no receipt in time (.pending)
│       └── StakeVerificationError       mined, balances did not move by the amount (.result)
├── NotEligibleError                     the wallet cannot mint (.address, .staked, .unstaked)
│   └── InsufficientGasError             not enough ETH for gas (.needed, .available in wei)
├── APIError                             Venice answered with an error, or could not be reached
│   ├── APIConnectionError
│   │   └── APITimeoutError              VENICE_TIMEOUT passed (every read and retry included)
│   ├── APIResponseValidationError       a 2xx whose body is unreadable (ambiguous for a create)
│   │   └── MalformedSecretError         .key_id, .revoked: the new key's secret is not key-shaped
│   └── APIStatusError                   a 4xx/5xx answer (.status_code, .body, .request_id)
│       ├── BadRequestError              400
│       │   ├── ValidationError          .field_errors
│       │   ├── KeyNotFoundError
│       │   ├── ActiveKeyLimitError
│       │   └── Web3MintError
│       │       ├── InvalidWalletAddressError
│       │       ├── TokenExpiredError
│       │       │   └── ChallengeExpiredError
│       │       ├── TokenInvalidError
│       │       ├── SignatureMismatchError
│       │       ├── SignatureVerificationUnavailableError
│       │       ├── NoStakedVVVError     (also a NotEligibleError)
│       │       ├── ChallengeUsedError
│       │       └── ChallengeInvalidError
│       ├── AuthenticationError          401
│       │   └── AdminKeyRequiredError
│       ├── PaymentRequiredError         402
│       │   └── CredentialsRequiredError
│       ├── PermissionDeniedError        403
│       ├── NotFoundError                404
│       ├── ConflictError                409
│       ├── RateLimitError               429 (.retry_after)
│       └── InternalServerError          5xx
├── AmbiguousCreateError                 a create's outcome unknown, or an orphan (.orphan_ids)
├── RotationError                        .old_key_id
│   ├── RotationFailedError              the old key is unchanged (.new_key_id, .successor_revoked)
│   └── OldKeyNotRevokedError            the successor works, the old key is still live (.new_key)
├── PartialRevokeError                   .revoked_ids, .failed_ids
├── PolicyError                          an MCP operator guardrail refused (.rule)
└── AuditLockError                       the MCP key-making lock was held too long

Partial outcomes carry `created_key_ids`: every key the failed call made, revoked or not (empty on
every other error), so a caller counting keys made never reads a message.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from .secret import ApiKeySecret, redact_text

CredentialKind = Literal["wallet", "admin_key", "api_key"]


class NewKeyView(Protocol):
    """What an error needs of a new key (flows/_result.py NewKey): its id and its secret."""

    @property
    def id(self) -> str: ...

    @property
    def secret(self) -> ApiKeySecret: ...

    def to_public_dict(self) -> dict[str, Any]: ...


class VeniceKeysError(Exception):
    """Base class of every error this package raises on purpose."""

    #: keys this failed call made (revoked or not); set by the partial-outcome classes
    created_key_ids: tuple[str, ...] = ()

    def __init__(self, message: str = "", *args: object, public: tuple[str, ...] = ()) -> None:
        """`public`: 0x values in `message` known not to be secrets (hashes of sent
        transactions), left unmasked by the redactor."""
        super().__init__(
            redact_text(message, public=public) if isinstance(message, str) else message, *args
        )


class ConfigError(VeniceKeysError):
    """A setting is missing, malformed or contradicts another one."""


class MissingCredentialsError(ConfigError):
    """A credential the call needs (`credential`) is not configured; nothing was sent.

    Not the server's 402 "no credentials" answer: that is CredentialsRequiredError.
    """

    def __init__(self, message: str, *, credential: CredentialKind) -> None:
        super().__init__(message)
        self.credential: CredentialKind = credential


class InvalidInputError(VeniceKeysError, ValueError):
    """Caller input was rejected locally; nothing was sent over the network."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class AmbiguousKeyIdError(InvalidInputError):
    """A key id prefix matches more than one key; `matches` lists their full ids."""

    def __init__(self, message: str, *, matches: list[str]) -> None:
        super().__init__(message, field="key_id")
        self.matches = matches


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


class UntrustedSigningHostError(UnsafeSigningRequestError, ConfigError):
    """The configured API host is neither Venice nor loopback: the wallet would sign for a relay.

    Raised before any request; VENICE_ALLOW_CUSTOM_API_HOST=1 is the opt-in for a trusted proxy.
    """

    def __init__(self, message: str, *, api_host: str) -> None:
        super().__init__(message)
        self.api_host = api_host


class SinkError(VeniceKeysError):
    """A secret could not be delivered to (or prepared in) its destination."""


class DeliveryFailedError(SinkError):
    """Key `key_id` was made but its secret could not be stored; `revoked` says if it is gone."""

    def __init__(self, message: str, *, key_id: str, revoked: bool) -> None:
        super().__init__(message)
        self.key_id = key_id
        self.revoked = revoked
        self.created_key_ids = (key_id,)


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
        super().__init__(message, public=(tx_hash,) if tx_hash else ())
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
    """The wallet lacks what the action needs: staked VVV (sVVV) to mint a key, or ETH for gas.

    `staked` / `unstaked` are the sVVV / VVV balances read on chain (None when Venice, not our own
    read, said so).
    """

    def __init__(self, message: str = "", *args: object, address: str | None = None,
                 staked: Any = None, unstaked: Any = None) -> None:
        super().__init__(message, *args)
        self.address = address
        self.staked = staked
        self.unstaked = unstaked


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
        self.message: str = self.args[0]  # as redacted by VeniceKeysError
        if status_code is not None:
            self.status_code = status_code
        self.body = body
        self.method = method
        self.path = path
        self.request_id = request_id


class APIConnectionError(APIError):
    """The request did not get a response (DNS, refused connection, reset)."""


class APITimeoutError(APIConnectionError):
    """The call ran out of time (VENICE_TIMEOUT); the server may or may not have acted on it."""


class APIResponseValidationError(APIError):
    """A 2xx answer whose body could not be read (not JSON, wrong shape, too large).

    For a request that creates a key the outcome is ambiguous: the key may exist.
    """


class MalformedSecretError(APIResponseValidationError):
    """Key `key_id` was made, but its secret is not shaped like a Venice key: it was never
    delivered anywhere. `revoked` is True/False once the flow tried to revoke it (None before)."""

    def __init__(self, message: str, *, key_id: str, revoked: bool | None = None,
                 **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.key_id = key_id
        self.revoked = revoked
        self.created_key_ids = (key_id,)


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
        self.created_key_ids = tuple(self.orphan_ids)


class RotationError(VeniceKeysError):
    """A rotation of key `old_key_id` that did not complete."""

    def __init__(self, message: str, *, old_key_id: str) -> None:
        super().__init__(message)
        self.old_key_id = old_key_id


class RotationFailedError(RotationError):
    """The rotation stopped and the old key was left unchanged.

    `new_key_id` is None when it stopped before a successor existed; otherwise the successor was
    made and `successor_revoked` says whether it was revoked again (False: it is still live).
    `cause` is the error that stopped it.
    """

    def __init__(self, message: str, *, old_key_id: str, new_key_id: str | None,
                 successor_revoked: bool, cause: BaseException | None = None) -> None:
        super().__init__(message, old_key_id=old_key_id)
        self.new_key_id = new_key_id
        self.successor_revoked = successor_revoked
        self.cause = cause
        self.created_key_ids = (new_key_id,) if new_key_id else ()


class OldKeyNotRevokedError(RotationError):
    """The successor `new_key` works and its secret was delivered, but revoking the old key
    failed: both keys are usable. `new_key.secret` is the only copy when no sink was given."""

    def __init__(self, message: str, *, old_key_id: str, new_key: NewKeyView,
                 cause: BaseException | None = None) -> None:
        super().__init__(message, old_key_id=old_key_id)
        self.new_key = new_key
        self.cause = cause
        self.created_key_ids = (new_key.id,)


class PartialRevokeError(VeniceKeysError):
    """Revoking a customer's keys: `revoked_ids` are gone, `failed_ids` are still active."""

    def __init__(self, message: str, *, customer_id: str, revoked_ids: list[str],
                 failed_ids: list[str]) -> None:
        super().__init__(message)
        self.customer_id = customer_id
        self.revoked_ids = revoked_ids
        self.failed_ids = failed_ids


class PolicyError(VeniceKeysError):
    """An operator guardrail (MCP policy) refused the action; `rules` names every rule broken."""

    def __init__(self, message: str, *, rule: str, rules: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.rule = rule
        self.rules: tuple[str, ...] = rules or (rule,)


class AuditLockError(VeniceKeysError):
    """Another MCP server sharing the audit log held the key-making lock for too long."""
