"""Settings from the environment and `.env` files, validated once at load.

Everything a later layer needs is checked here so that a typo fails fast with the variable's name
(never a secret's value) instead of deep inside a signing or network call.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from .addresses import checksum_address
from .errors import ConfigError, InvalidInputError
from .secret import SecretValue, redact_text, redact_url

DEFAULT_API_BASE_URL = "https://api.venice.ai/api/v1"
DEFAULT_RPC_URL = "https://mainnet.base.org"
BASE_CHAIN_ID = 8453
DEFAULT_STAKING_CONTRACT = "0x321b7ff75154472B18EDb199033fF4D116F340Ff"
DEFAULT_VVV_TOKEN = "0xacfE6019Ed1A7Dc6f7B508C02d1b04ec88cC21bf"
DEFAULT_DIEM_TOKEN = "0xF4d97F2da56e8c3098f3a8D538DB630A2606a024"
#: seconds one API or RPC call may take in total: every read, every retry and retry wait
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 2

#: field name -> environment variable (the documented names, see README's settings table)
ENV_VARS: dict[str, str] = {
    "api_base_url": "VENICE_API_BASE_URL",
    "admin_key": "VENICE_ADMIN_KEY",
    "api_key": "VENICE_API_KEY",
    "wallet_private_key": "VENICE_WALLET_PRIVATE_KEY",
    "wallet_keystore": "VENICE_WALLET_KEYSTORE",
    "wallet_password_file": "VENICE_WALLET_PASSWORD_FILE",
    "wallet_password": "VENICE_WALLET_PASSWORD",
    "rpc_urls": "BASE_RPC_URL",
    "chain_id": "VENICE_CHAIN_ID",
    "staking_contract": "VENICE_STAKING_CONTRACT",
    "vvv_token": "VENICE_VVV_TOKEN",
    "diem_token": "VENICE_DIEM_TOKEN",
    "timeout": "VENICE_TIMEOUT",
    "max_retries": "VENICE_MAX_RETRIES",
    "allow_custom_api_host": "VENICE_ALLOW_CUSTOM_API_HOST",
    "budget_url": "VENICE_BUDGET_URL",
    "create_budget": "VENICE_CREATE_BUDGET",
}
#: variables that decide where requests go: a .env that changes them silently is worth a word
ENDPOINT_VARS = ("VENICE_API_BASE_URL", "BASE_RPC_URL")

_SECRET_FIELDS = frozenset({"admin_key", "api_key", "wallet_private_key", "wallet_password"})
#: secrets sent in an HTTP header: a control character would break (and echo) the header
_HEADER_SECRETS = frozenset({"VENICE_ADMIN_KEY", "VENICE_API_KEY"})
#: a raw secp256k1 private key as configured (the signer checks it again)
PRIVATE_KEY_PATTERN = re.compile(r"(0x)?[0-9a-fA-F]{64}")

DEFAULT_BUDGET_URL = "memory://"
#: Venice allows 20 creates per minute; the extra second absorbs request-latency jitter, so a
#: create admitted 60 s after another is not stamped by Venice inside the same minute.
DEFAULT_CREATE_BUDGET = (20, 61)
_BUDGET_SCHEMES = ("memory", "redis", "rediss")
_RATE = re.compile(r"\s*(\d{1,6})\s*(?:/|per)\s*(\d{1,6})?\s*"
                   r"(s|sec|secs|seconds?|m|min|mins|minutes?|h|hours?)\s*", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}


@dataclass(frozen=True)
class SettingSource:
    """Where a variable's value came from: the environment, an env file, or the caller."""

    kind: Literal["environment", "env_file", "argument"]
    path: Path | None = None
    #: an env file nobody named: the `.env` picked up from the working directory
    implicit: bool = False

    def __str__(self) -> str:
        if self.kind == "env_file":
            return str(self.path)
        return "the environment" if self.kind == "environment" else "an explicit setting"


@dataclass(frozen=True, repr=False)
class Settings:
    """Validated configuration. Build it with `load_settings()`; the constructor skips checks."""

    api_base_url: str = DEFAULT_API_BASE_URL
    admin_key: SecretValue | None = None
    api_key: SecretValue | None = None
    wallet_private_key: SecretValue | None = None
    wallet_keystore: Path | None = None
    wallet_password_file: Path | None = None
    wallet_password: SecretValue | None = None
    rpc_urls: tuple[str, ...] = (DEFAULT_RPC_URL,)
    chain_id: int = BASE_CHAIN_ID
    staking_contract: str = DEFAULT_STAKING_CONTRACT
    vvv_token: str = DEFAULT_VVV_TOKEN
    diem_token: str = DEFAULT_DIEM_TOKEN
    timeout: float = DEFAULT_TIMEOUT
    max_retries: int = DEFAULT_MAX_RETRIES
    allow_custom_api_host: bool = False
    #: environment variable -> where its value came from (only variables that were set)
    sources: Mapping[str, SettingSource] = field(default_factory=dict, compare=False)
    budget_url: str = DEFAULT_BUDGET_URL
    create_budget: tuple[int, int] = DEFAULT_CREATE_BUDGET  # (creates, per seconds)

    @property
    def api_host(self) -> str:
        """`host[:port]` of the API, never a `user:pass@` (the host the wallet would sign for)."""
        return urlsplit(self.api_base_url).netloc.rpartition("@")[2]

    @property
    def has_wallet(self) -> bool:
        return self.wallet_private_key is not None or self.wallet_keystore is not None

    def source_of(self, var: str) -> str | None:
        """Where variable `var` was set ("the environment", an env file's path, ...), or None."""
        source = self.sources.get(var)
        return None if source is None else str(source)

    def __repr__(self) -> str:
        # Secrets are SecretValue (masked); RPC URLs may embed provider keys, so show hosts only;
        # a `user:pass@` in the API URL is masked.
        parts = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "sources":
                continue
            if f.name == "rpc_urls":
                value = tuple(redact_url(u) for u in value)
            elif f.name == "api_base_url":
                value = redact_text(value)
            elif f.name == "budget_url" and value != DEFAULT_BUDGET_URL:
                # A Redis URL may carry a password (userinfo, even with a raw '@', or a
                # `?password=` query): only the host is shown, as for the RPC URLs.
                value = redact_url(value)
            parts.append(f"{f.name}={value!r}")
        return f"Settings({', '.join(parts)})"

    __str__ = __repr__


def _read_env_file(env_file: str | Path | None) -> tuple[dict[str, str], SettingSource | None]:
    """The file's values and its SettingSource (None: no file was read)."""
    if env_file is None:
        default = Path(".env")
        if not default.is_file():
            return {}, None
        path, implicit = default.absolute(), True
    else:
        path, implicit = Path(env_file).expanduser(), False
        if not path.is_file():
            raise ConfigError(f"env file {path} does not exist or is not a file")
    from dotenv import dotenv_values  # only when there is a file to read

    try:
        raw = dotenv_values(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"env file {path} cannot be read: {type(exc).__name__}") from None
    values = {k: v for k, v in raw.items() if v is not None}
    return values, SettingSource("env_file", path=path, implicit=implicit)


def _is_http_url(text: str) -> bool:
    """http(s) scheme, a host, and a port (if any) that parses."""
    try:
        parts = urlsplit(text)
        _ = parts.port  # raises ValueError on a bad port
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _check_url(value: str, var: str) -> str:
    text = value.strip().rstrip("/")
    if not _is_http_url(text):
        raise ConfigError(f"{var} must be an http(s) URL with a host (got {redact_url(text)})")
    if any(ch.isspace() for ch in text):
        raise ConfigError(f"{var} must not contain whitespace")
    parts = urlsplit(text)
    if parts.query or parts.fragment:
        raise ConfigError(f"{var} must not have a query string or fragment")
    return text


def _check_rpc_urls(value: str | Sequence[str], var: str) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else list(value)
    urls: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise ConfigError(f"{var} must be a list of URLs")
        item = item.strip()
        if not item:
            continue
        if not _is_http_url(item) or any(ch.isspace() for ch in item):
            raise ConfigError(f"{var} entry {redact_url(item)} is not an http(s) URL with a host")
        urls.append(item if urlsplit(item).query else item.rstrip("/"))  # a query's "/" is data
    if not urls:
        raise ConfigError(f"{var} must name at least one RPC URL")
    return tuple(urls)


def _check_int(value: Any, var: str, *, minimum: int) -> int:
    if isinstance(value, bool):
        raise ConfigError(f"{var} must be an integer")
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip()
        if not re.fullmatch(r"\d+", text):
            raise ConfigError(f"{var} must be a whole number (got {text[:20]!r})")
        number = int(text)
    if number < minimum:
        raise ConfigError(f"{var} must be at least {minimum}")
    return number


def _check_timeout(value: Any, var: str) -> float:
    if isinstance(value, bool):
        raise ConfigError(f"{var} must be a number of seconds")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{var} must be a number of seconds") from None
    if not math.isfinite(number) or number <= 0:
        raise ConfigError(f"{var} must be a positive, finite number of seconds")
    return number


def _check_budget_url(value: Any, var: str) -> str:
    """`memory://`, or `redis[s]://[user:password@]host[:port][/db]` (db a whole number)."""
    text = str(value).strip()
    try:
        parts = urlsplit(text)
        _ = parts.port
    except ValueError:
        raise ConfigError(f"{var} is not a valid URL (got {redact_url(text)})") from None
    scheme = parts.scheme.lower()
    if scheme not in _BUDGET_SCHEMES or any(ch.isspace() for ch in text):
        raise ConfigError(f"{var} must be memory:// or redis://host:port/db "
                          f"(got {redact_url(text)})")
    if scheme == "memory":
        if parts.netloc or parts.path.strip("/") or parts.query:
            raise ConfigError(f"{var}: memory:// takes nothing after the scheme")
        return DEFAULT_BUDGET_URL
    if not parts.hostname:
        raise ConfigError(f"{var} must name the Redis host (got {redact_url(text)})")
    if not re.fullmatch(r"/?(\d{1,5})?", parts.path) or parts.fragment:
        raise ConfigError(f"{var}: the path of a Redis URL is the database number, e.g. "
                          f"redis://127.0.0.1:6379/0 (got {redact_url(text)})")
    return text


def _check_rate(value: Any, var: str) -> tuple[int, int]:
    """`20/minute`, `20 per 61 seconds`, `5 per 2 s`: (creates, window in whole seconds)."""
    if isinstance(value, tuple) and len(value) == 2 and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        amount, seconds = value
    else:
        match = _RATE.fullmatch(str(value))
        if not match:
            raise ConfigError(f"{var} must look like 20/minute or 20 per 61 seconds "
                              f"(got {str(value)[:40]!r})")
        amount = int(match.group(1))
        seconds = int(match.group(2) or 1) * _UNIT_SECONDS[match.group(3)[0].lower()]
    if amount < 1 or seconds < 1:
        raise ConfigError(f"{var} must allow at least 1 create per at least 1 second")
    return amount, seconds


def _check_address(value: Any, var: str) -> str:
    try:
        return checksum_address(str(value), field=var)
    except InvalidInputError as exc:
        raise ConfigError(str(exc)) from None


def _check_flag(value: Any, var: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{var} must be 1 or 0 (got {text[:20]!r})")


def _secret(value: Any, var: str) -> SecretValue | None:
    if isinstance(value, SecretValue):
        text = value.reveal()
    elif isinstance(value, str):
        text = value
    else:
        raise ConfigError(f"{var} must be a string")
    text = text.strip()
    if var in _HEADER_SECRETS and any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text):
        raise ConfigError(f"{var} contains a control character (e.g. a newline); "
                          "its value is not shown")
    return SecretValue(text) if text else None


def _path(value: Any) -> Path:
    return Path(str(value)).expanduser()


#: field -> check(value, variable name), run in this order; wallet paths are checked afterwards
_CHECKS: dict[str, Callable[[Any, str], Any]] = {
    "api_base_url": lambda value, var: _check_url(str(value), var),
    **dict.fromkeys(sorted(_SECRET_FIELDS), _secret),
    "rpc_urls": _check_rpc_urls,
    "chain_id": functools.partial(_check_int, minimum=1),
    **dict.fromkeys(("staking_contract", "vvv_token", "diem_token"), _check_address),
    "timeout": _check_timeout,
    "max_retries": functools.partial(_check_int, minimum=0),
    "allow_custom_api_host": _check_flag,
    "budget_url": _check_budget_url,
    "create_budget": _check_rate,
}


def load_settings(
    env_file: str | Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Read `env_file` (default `./.env` if present), let the process environment win, apply
    `overrides` (field names; a None override means "not given"), validate, return Settings."""
    unknown = set(overrides) - set(ENV_VARS)
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    file_values, file_source = _read_env_file(env_file)
    process = os.environ if environ is None else environ
    environment = SettingSource("environment")

    raw: dict[str, Any] = {}
    sources: dict[str, SettingSource] = {}
    for name, var in ENV_VARS.items():
        value: Any = None
        source: SettingSource | None = None
        if overrides.get(name) is not None:
            value, source = overrides[name], SettingSource("argument")
        elif var in process:  # the environment wins, even blank (which means "not set")
            value, source = process[var], environment
        elif var in file_values:
            value, source = file_values[var], file_source
        if isinstance(value, str) and not value.strip():
            value = None
        if value is not None and source is not None:
            raw[name] = value
            sources[var] = source

    fields = {name: check(raw[name], ENV_VARS[name]) for name, check in _CHECKS.items()
              if name in raw}

    key = fields.get("wallet_private_key")
    if key is not None and not PRIVATE_KEY_PATTERN.fullmatch(key.reveal()):
        raise ConfigError(
            "VENICE_WALLET_PRIVATE_KEY is not a hex private key (expected 64 hex digits, "
            "optionally 0x-prefixed); its value is not shown"
        )
    if "wallet_keystore" in raw:  # a keystore AND a private key: only a signing call minds
        keystore = _path(raw["wallet_keystore"])
        if not keystore.is_file():
            raise ConfigError(f"VENICE_WALLET_KEYSTORE: no keystore file at {keystore}")
        fields["wallet_keystore"] = keystore
    if "wallet_password_file" in raw:
        pw_file = _path(raw["wallet_password_file"])
        try:
            with pw_file.open("rb") as fh:
                fh.read(1)
        except OSError as exc:
            raise ConfigError(
                f"VENICE_WALLET_PASSWORD_FILE: {pw_file} is not readable ({type(exc).__name__})"
            ) from None
        fields["wallet_password_file"] = pw_file
    return Settings(**fields, sources=sources)


def env_file_endpoint_notice(settings: Settings) -> str | None:
    """A line naming the `.env` found in the working directory when it changes where requests
    go (VENICE_API_BASE_URL, BASE_RPC_URL), for a face to show once; None otherwise.

    A file picked up without being named can redirect a wallet's requests unnoticed.
    """
    shown = {"VENICE_API_BASE_URL": (settings.api_base_url != DEFAULT_API_BASE_URL,
                                     redact_text(settings.api_base_url)),
             "BASE_RPC_URL": (settings.rpc_urls != (DEFAULT_RPC_URL,),
                              ",".join(redact_url(u) for u in settings.rpc_urls))}
    changed = [(var, text) for var, (differs, text) in shown.items()
               if differs and (source := settings.sources.get(var)) and source.implicit]
    if not changed:
        return None
    path = settings.sources[changed[0][0]].path
    settings_text = ", ".join(f"{var}={text}" for var, text in changed)
    return f"{path} (found in the working directory) sets {settings_text}"
