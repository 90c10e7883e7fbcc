"""Values that must never be printed (private keys, admin keys, new API keys, passwords), and the
one redactor for secret-shaped text.

`str()`, `repr()`, `format()` and pickling of a SecretValue never show the value; only
`.reveal()` does. Text that did not arrive as a SecretValue (an error message, a log line, a tool
argument, a server's answer) goes through `redact_text()` / `redact()`: every error of the package
(errors.py), every log record of its loggers (`RedactingFilter`) and the MCP audit log use it.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any, NoReturn
from urllib.parse import urlsplit


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


# --------------------------------------------------------------------------- key shape

#: A Venice API key as Venice issues it: `VENICE_<TYPE>_KEY_` and URL-safe characters, bounded.
#: A new key's secret must match before any sink sees it (a sink writes it into .env files,
#: keyrings and terminals, where anything else could be interpreted).
VENICE_KEY_SHAPE = re.compile(r"VENICE_[A-Z]{1,32}_KEY_[A-Za-z0-9_-]{16,256}")


def looks_like_venice_key(text: object) -> bool:
    """True when `text` has the shape of a Venice API key (and nothing else around it)."""
    return isinstance(text, str) and VENICE_KEY_SHAPE.fullmatch(text) is not None


# --------------------------------------------------------------------------- the redactor

REDACTED = "[redacted]"
#: JSON fields whose value is a secret whatever it looks like
SECRET_FIELD_NAMES = frozenset({"apikey", "api_key", "secret", "authorization", "privatekey",
                                "private_key", "password", "token"})
_SECRET_TEXT = re.compile(
    r"(?P<venice>VENICE_[A-Z]+_KEY_[A-Za-z0-9_-]+)"
    r"|(?P<bearer>\bBearer\s+)[^\s\"',;]+"  # the header's spelling, not prose
    # a 32-byte 0x value is a private key as often as a hash: masked either way
    r"|(?P<hex32>(?<![0-9A-Za-z])0x[0-9a-fA-F]{64}(?![0-9A-Za-z]))"
    # up to the LAST '@' of the authority: a password may hold a raw '@' (`:p@ss@host`)
    r"|(?P<userinfo>(?<=://)[^/\s:@]*):[^/\s]*(?=@)"
)
_LONG_TOKEN = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{40,}(?![A-Za-z0-9_-])")


def _masked(match: re.Match[str]) -> str:
    if match.group("venice"):
        return mask(match.group("venice"))
    if match.group("bearer"):
        return match.group("bearer") + REDACTED
    if match.group("hex32"):
        return "0x" + REDACTED
    return f"{match.group('userinfo')}:***"


def redact_text(text: str, *, long_tokens: bool = False, public: Iterable[str] = ()) -> str:
    """`text` with secret-shaped parts masked: Venice keys (last 6 kept), bearer tokens, 0x-hex
    32-byte values (private keys), URL passwords; with `long_tokens`, also any run of 40+
    token characters (for text that may hold a credential of unknown shape, e.g. agent input).

    `public`: 0x values the caller knows are not secrets (transaction hashes it just sent), kept
    as they are; a private key and a hash have the same shape, so only the caller can tell.
    """
    known = {value.lower() for value in public if value}

    def masked(match: re.Match[str]) -> str:
        if match.group("hex32") and match.group("hex32").lower() in known:
            return match.group(0)
        return _masked(match)

    redacted = _SECRET_TEXT.sub(masked, text)
    return _LONG_TOKEN.sub(lambda m: mask(m.group(0)), redacted) if long_tokens else redacted


def redact_url(url: str) -> str:
    """`scheme://host[:port]` plus `/***` when there was more: RPC providers put API keys in paths,
    queries and userinfo, so only the host is ever shown."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<invalid url>"
    if not parts.scheme or not host:
        return "<invalid url>"
    shown = f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")
    if parts.path.strip("/") or parts.query or parts.fragment or parts.username or parts.password:
        shown += "/***"
    return shown


def redact(value: Any, *, long_tokens: bool = False, max_text: int | None = None) -> Any:
    """A copy of a JSON-like value with secret-named fields and secret-shaped strings masked
    (and strings cut to `max_text` characters when given)."""
    if isinstance(value, SecretValue):
        return str(value)
    if isinstance(value, str):
        return redact_text(value, long_tokens=long_tokens)[:max_text]
    if isinstance(value, Mapping):
        return {redact_text(str(k)): REDACTED if str(k).lower() in SECRET_FIELD_NAMES
                else redact(v, long_tokens=long_tokens, max_text=max_text)
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v, long_tokens=long_tokens, max_text=max_text) for v in value]
    return value


class RedactingFilter(logging.Filter):
    """Redact a record's message and traceback before any handler formats it.

    Attached to the package's loggers by `get_logger()`, so it holds whatever handlers the
    application installs (a logger's filters apply to the records logged on it).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg, record.args = redact_text(message), None
        if record.exc_info and not record.exc_text:
            import traceback

            text = "".join(traceback.format_exception(*record.exc_info))
            record.exc_text = text.removesuffix("\n")
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        return True


_FILTER = RedactingFilter()


def get_logger(name: str) -> logging.Logger:
    """`logging.getLogger(name)` with the redacting filter attached (once)."""
    logger = logging.getLogger(name)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return logger
