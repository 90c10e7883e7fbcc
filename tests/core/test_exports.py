"""The public names of `venice_web3_keys`, pinned (like httpx's tests/test_exported_members.py),
and the one error tree: every error class in errors.py, drawn in its docstring."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import venice_web3_keys
from venice_web3_keys import errors

PUBLIC = [
    "__version__",
    # facade and results
    "VeniceKeys", "AsyncVeniceKeys", "NewKey", "RotationResult", "RotationProgress", "Revocation",
    "StakeResult", "StakeProgress", "ProvisionResult",
    # settings, secrets, sinks, signing notices
    "Settings", "load_settings", "SecretValue", "ApiKeySecret", "SecretSink", "SinkReceipt",
    "FileSink", "EnvFileSink", "KeyringSink", "PrintSink", "SigningNotice",
    # errors (errors.py, in its order)
    "VeniceKeysError", "ConfigError", "MissingCredentialsError", "InvalidInputError",
    "AmbiguousKeyIdError", "AmountExceedsBalanceError", "WalletError", "KeystorePasswordError",
    "UnsafeSigningRequestError",
    "UntrustedSigningHostError", "SinkError", "DeliveryFailedError", "BudgetError", "ChainError",
    "ChainUnreachableError", "WrongChainError", "MissingContractError", "TransactionError",
    "TransactionRefusedError", "SimulationRevertedError", "TransactionRevertedError",
    "TransactionTimeoutError", "StakeVerificationError", "NotEligibleError", "InsufficientGasError",
    "APIError", "APIConnectionError", "APITimeoutError", "APIResponseValidationError",
    "MalformedSecretError", "APIStatusError", "BadRequestError", "ValidationError",
    "KeyNotFoundError", "ActiveKeyLimitError", "Web3MintError", "InvalidWalletAddressError",
    "TokenExpiredError", "TokenInvalidError", "SignatureMismatchError",
    "SignatureVerificationUnavailableError", "NoStakedVVVError", "ChallengeExpiredError",
    "ChallengeUsedError", "ChallengeInvalidError", "AuthenticationError", "AdminKeyRequiredError",
    "PaymentRequiredError", "CredentialsRequiredError", "PermissionDeniedError", "NotFoundError",
    "ConflictError", "RateLimitError", "InternalServerError", "AmbiguousCreateError",
    "RotationError", "RotationFailedError", "OldKeyNotRevokedError", "PartialRevokeError",
    "PolicyError", "AuditLockError",
]


def test_public_names_are_pinned() -> None:
    assert venice_web3_keys.__all__ == PUBLIC


def test_every_public_name_resolves_and_says_where_it_lives() -> None:
    for name in PUBLIC[1:]:
        value = getattr(venice_web3_keys, name)
        assert value.__module__.startswith("venice_web3_keys."), name
        assert name in dir(venice_web3_keys)


def test_every_package_error_lives_in_errors_py() -> None:
    """A class the package raises on purpose (a VeniceKeysError) is defined in errors.py only."""
    root = Path(venice_web3_keys.__file__).parent
    outside: list[str] = []
    for path in sorted(root.rglob("*.py")):
        if path == root / "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                bases = {ast.unparse(base).split(".")[-1] for base in node.bases}
                if any(base.endswith("Error") and base in PUBLIC for base in bases):
                    outside.append(f"{path.relative_to(root)}: {node.name}")
    assert outside == []


def test_errors_docstring_draws_the_whole_tree() -> None:
    """Every error class is drawn, under a class it really inherits from."""
    classes = {name for name, value in vars(errors).items()
               if inspect.isclass(value) and issubclass(value, venice_web3_keys.VeniceKeysError)}
    drawn = {"VeniceKeysError"}
    parents = [errors.VeniceKeysError]  # parents[d]: the class drawn last at depth d
    for line in (errors.__doc__ or "").splitlines():
        match = re.match(r"^((?:│   |    )*)[├└]── ([A-Za-z0-9]+)", line)
        if match is None:
            continue
        depth = len(match.group(1)) // 4 + 1
        child = getattr(errors, match.group(2))
        assert issubclass(child, parents[depth - 1]), line
        del parents[depth:]
        parents.append(child)
        drawn.add(match.group(2))
    assert drawn == classes


def test_partial_outcomes_carry_the_keys_they_made() -> None:
    from venice_web3_keys.errors import (
        AmbiguousCreateError,
        DeliveryFailedError,
        MalformedSecretError,
        PartialRevokeError,
        RotationFailedError,
        VeniceKeysError,
    )

    assert VeniceKeysError("x").created_key_ids == ()
    assert AmbiguousCreateError("x", orphan_ids=["a", "b"]).created_key_ids == ("a", "b")
    assert DeliveryFailedError("x", key_id="k", revoked=True).created_key_ids == ("k",)
    assert MalformedSecretError("x", key_id="k").created_key_ids == ("k",)
    assert RotationFailedError("x", old_key_id="o", new_key_id=None,
                               successor_revoked=False).created_key_ids == ()
    assert RotationFailedError("x", old_key_id="o", new_key_id="n",
                               successor_revoked=True).created_key_ids == ("n",)
    assert PartialRevokeError("x", customer_id="c", revoked_ids=["a"],
                              failed_ids=["b"]).created_key_ids == ()
