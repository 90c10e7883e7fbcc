"""Values that must never be printed: private keys, admin keys, new API keys, passwords.

`str()`, `repr()`, `format()` and pickling never show the value; only `.reveal()` does.
"""

from __future__ import annotations

import hashlib
from typing import Any, NoReturn


class SecretValue:
    """An opaque secret string; masked everywhere except `.reveal()`."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("SecretValue wraps a str")
        object.__setattr__(self, "_value", value)

    def reveal(self) -> str:
        """The real value. Call only where the secret must leave the process on purpose."""
        return str(object.__getattribute__(self, "_value"))

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError("SecretValue is immutable")

    def _masked(self) -> str:
        return "********"

    def __str__(self) -> str:
        return self._masked()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._masked()!r})"

    def __format__(self, spec: str) -> str:
        return format(self._masked(), spec)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SecretValue):
            import hmac

            return hmac.compare_digest(self.reveal().encode(), other.reveal().encode())
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.reveal())

    def __bool__(self) -> bool:
        return bool(self.reveal())

    def __reduce__(self) -> NoReturn:
        raise TypeError("secrets cannot be pickled")

    def __len__(self) -> int:
        return len(self.reveal())


class ApiKeySecret(SecretValue):
    """The one-time secret of a new Venice API key.

    Identified in output by its last 6 characters and a sha256 fingerprint, neither of which
    lets anyone use the key.
    """

    __slots__ = ()

    @property
    def last6(self) -> str:
        return self.reveal()[-6:]

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.reveal().encode()).hexdigest()

    def _masked(self) -> str:
        return f"…{self.last6}"


def mask(value: str, *, keep: int = 6) -> str:
    """Mask a secret-looking string for display, keeping its last `keep` characters."""
    if len(value) <= keep:
        return "*" * len(value)
    return "…" + value[-keep:]
