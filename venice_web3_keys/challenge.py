"""Check where and what we are asked to sign BEFORE signing it.

A wallet signature is a bearer credential for whatever text was signed. If the API endpoint were
spoofed or compromised, it could hand us a long-lived token or a sign-in message for another site
and walk away with a signature. So only a current, short-lived Venice mint token (JWT variant) or
an exact Venice key-creation SIWE challenge (EIP-4361 variant) is ever signed.

And only for Venice: real Venice names `api.venice.ai` in every challenge, whatever host the
request went through, so any endpoint can fetch a genuine challenge and relay it to the wallet
(the JWT names no host at all). The wallet therefore signs only when the configured API host is
Venice (over https) or loopback (the sandbox, a local stand-in), or when the operator opted in
for a trusted proxy with VENICE_ALLOW_CUSTOM_API_HOST=1 (`check_signing_host`).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .addresses import HEX_ADDRESS, checksum_address
from .errors import InvalidInputError, UnsafeSigningRequestError, UntrustedSigningHostError
from .timeparse import utc_now

if TYPE_CHECKING:
    from .settings import Settings

#: Clock skew tolerated between this machine and Venice.
SKEW = timedelta(seconds=60)
#: Venice tokens/challenges live 15 minutes; anything valid for more than this is refused.
MAX_LIFETIME = timedelta(hours=1)
MAX_LENGTH = 8192
SIWE_RESOURCE = "urn:venice:api-key:create"
SIWE_STATEMENT = (
    "Authorize Venice API key creation. Only sign this on venice.ai — anyone holding this "
    "signature can create an API key on your Venice account."
)
SIWE_PREAMBLE = " wants you to sign in with your Ethereum account:"
VENICE_API_HOST = "api.venice.ai"
#: the domains a Venice challenge may name (it names api.venice.ai wherever it was fetched)
VENICE_SIWE_DOMAINS = frozenset({VENICE_API_HOST, "venice.ai"})
VENICE_SIWE_URI = "https://api.venice.ai/api/v1/api_keys/generate_web3_key"
ALLOW_CUSTOM_HOST_VAR = "VENICE_ALLOW_CUSTOM_API_HOST"
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*")


@dataclass(frozen=True)
class SigningNotice:
    """The wallet is about to sign for a host the operator vouched for
    (VENICE_ALLOW_CUSTOM_API_HOST=1): a face shows `str(notice)` every time, since that host
    sees what the wallet signs."""

    api_host: str
    address: str | None = None

    def __str__(self) -> str:
        wallet = f"wallet {self.address}" if self.address else "the wallet"
        return (f"{wallet} is signing a Venice challenge fetched from {self.api_host}, which is "
                f"not api.venice.ai ({ALLOW_CUSTOM_HOST_VAR}=1): anyone controlling that host "
                "can mint keys on your account with this signature")


def _is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and `localhost`, nothing else (no IPv4-mapped or 0.0.0.0 forms)."""
    if host == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return False
    return ip.is_loopback


def check_signing_host(settings: Settings) -> SigningNotice | None:
    """None when the wallet may sign for the configured API host (Venice over https, or
    loopback); a SigningNotice to show when it may only because of the opt-in; otherwise
    UntrustedSigningHostError, before any request is sent."""
    parts = urlsplit(settings.api_base_url)
    host = parts.hostname or ""
    if (parts.scheme == "https" and host == VENICE_API_HOST) or _is_loopback(host):
        return None
    shown = settings.api_host
    if settings.allow_custom_api_host:
        return SigningNotice(api_host=shown)
    raise UntrustedSigningHostError(
        f"refusing to sign: the API host {shown} is neither api.venice.ai (over https) nor a "
        "loopback address. Venice's challenges are valid wherever they are relayed, so a host "
        "that is not Venice could keep the wallet's signature and mint keys on your account. "
        f"If {shown} is a proxy you trust, set {ALLOW_CUSTOM_HOST_VAR}=1. Nothing was sent.",
        api_host=shown,
    )

_B64URL = re.compile(r"[A-Za-z0-9_-]+")
_NONCE = re.compile(r"[A-Za-z0-9]{8,}")


def _refuse(reason: str) -> UnsafeSigningRequestError:
    return UnsafeSigningRequestError(f"refusing to sign: {reason}")


def _b64json(part: str, what: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        value = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError):
        raise _refuse(f"the token's {what} is not base64url-encoded JSON") from None
    if not isinstance(value, dict):
        raise _refuse(f"the token's {what} is not a JSON object")
    return value


def _numeric_date(claims: dict[str, Any], name: str) -> datetime | None:
    if name not in claims:
        return None
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _refuse(f"the token's {name!r} claim is not a number")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise _refuse(f"the token's {name!r} claim is out of range") from None


def validate_jwt_token(
    token: str, *, now: datetime | None = None, expected_address: str | None = None
) -> None:
    """Accept only a well-formed, current, short-lived JWT; else UnsafeSigningRequestError.

    The signature part cannot be verified here (Venice's key is not public); the point is to refuse
    anything that is not shaped like a Venice mint token, or that would stay usable for long.
    """
    current = utc_now(now)
    if not isinstance(token, str) or not token:
        raise _refuse("the server sent no token")
    if len(token) > MAX_LENGTH:
        raise _refuse("the token is implausibly long")
    parts = token.split(".")
    if len(parts) != 3 or not all(_B64URL.fullmatch(p) for p in parts):
        raise _refuse("the token is not a JWT (three base64url parts separated by dots)")
    header = _b64json(parts[0], "header")
    claims = _b64json(parts[1], "payload")
    alg = header.get("alg")
    if not isinstance(alg, str) or not alg:
        raise _refuse("the token header has no algorithm")
    if alg.strip().lower() == "none":
        raise _refuse("the token is unsigned (alg 'none'), so Venice did not issue it")
    exp = _numeric_date(claims, "exp")
    if exp is None:
        raise _refuse("the token has no expiry ('exp'); a Venice mint token expires in 15 minutes")
    if exp <= current - SKEW:
        raise _refuse("the token has already expired")
    iat = _numeric_date(claims, "iat")
    if iat is not None:
        if iat > current + SKEW:
            raise _refuse("the token claims to be issued in the future")
        lifetime = exp - iat
    else:
        lifetime = exp - current
    if lifetime > MAX_LIFETIME:
        raise _refuse(
            f"the token is valid for {_human(lifetime)}; a Venice mint token lives 15 minutes, "
            f"and anything over {_human(MAX_LIFETIME)} is refused"
        )
    nbf = _numeric_date(claims, "nbf")
    if nbf is not None and nbf > current + SKEW:
        raise _refuse("the token is not valid yet ('nbf' is in the future)")
    _check_jwt_claims(claims, expected_address)


#: claims that make a "token" an EIP-712 typed-data payload or a transaction, not a mint token
_FOREIGN_SHAPES = (("types", "primaryType"), ("domain", "message"), ("to", "value"),
                   ("to", "data"), ("chainId", "to"))
_ADDRESS_CLAIMS = ("address", "wallet", "walletAddress", "sub")


def _check_jwt_claims(claims: dict[str, Any], expected_address: str | None) -> None:
    for shape in _FOREIGN_SHAPES:
        if all(name in claims for name in shape):
            raise _refuse(
                f"the token's payload has {' and '.join(map(repr, shape))} fields: it looks "
                "like typed data or a transaction, not a Venice mint token"
            )
    if expected_address is None:
        return
    ours = checksum_address(expected_address)
    for name in _ADDRESS_CLAIMS:
        value = claims.get(name)
        if not (isinstance(value, str) and HEX_ADDRESS.fullmatch(value.strip())):
            continue  # only a claim that IS an Ethereum address can name another wallet
        theirs = checksum_address(value.strip())
        if theirs != ours:
            raise _refuse(f"the token's {name!r} claim names wallet {theirs}, not ours ({ours})")


def _human(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds >= 2 * 86400:
        return f"{seconds // 86400} days"
    if seconds >= 2 * 3600:
        return f"{seconds // 3600} hours"
    return f"{seconds // 60} minutes"


@dataclass(frozen=True)
class SiweMessage:
    """The fields of an EIP-4361 message, as parsed (values are the text's, unvalidated)."""

    scheme: str | None
    domain: str
    address: str
    statement: str | None
    uri: str
    version: str
    chain_id: str
    nonce: str
    issued_at: str
    expiration_time: str | None
    not_before: str | None
    request_id: str | None
    resources: tuple[str, ...]


def parse_siwe_message(message: str) -> SiweMessage:
    """Parse EIP-4361 text strictly (field order, spelling, no extra lines); refuse otherwise."""
    if not isinstance(message, str) or not message:
        raise _refuse("the server sent no challenge message")
    if len(message) > MAX_LENGTH:
        raise _refuse("the challenge message is implausibly long")
    if any(ch != "\n" and (ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0) for ch in message):
        raise _refuse("the challenge contains control characters")
    lines = message.split("\n")
    pos = 0

    def take() -> str:
        nonlocal pos
        if pos >= len(lines):
            raise _refuse("the challenge is not an EIP-4361 sign-in message (it ends early)")
        line = lines[pos]
        pos += 1
        return line

    first = take()
    if not first.endswith(SIWE_PREAMBLE):
        raise _refuse("the challenge is not an EIP-4361 sign-in message")
    origin = first[: -len(SIWE_PREAMBLE)]
    scheme: str | None = None
    if "://" in origin:
        scheme, origin = origin.split("://", 1)
    address = take()
    if take() != "":
        raise _refuse("the challenge is not an EIP-4361 sign-in message (line 3 must be empty)")
    statement: str | None = None
    line = take()
    if not line.startswith("URI: "):
        statement = line
        if take() != "":
            raise _refuse("the challenge's statement must be one line followed by an empty line")
        line = take()

    def field(line: str, name: str) -> str:
        prefix = f"{name}: "
        if not line.startswith(prefix):
            raise _refuse(f"the challenge is not an EIP-4361 message (expected {name!r} field)")
        return line[len(prefix):]

    uri = field(line, "URI")
    version = field(take(), "Version")
    chain_id = field(take(), "Chain ID")
    nonce = field(take(), "Nonce")
    issued_at = field(take(), "Issued At")
    optional: dict[str, str | None] = {
        "Expiration Time": None, "Not Before": None, "Request ID": None,
    }
    resources: list[str] = []
    rest = lines[pos:]
    i = 0
    for name in optional:
        if i < len(rest) and rest[i].startswith(f"{name}: "):
            optional[name] = rest[i][len(name) + 2:]
            i += 1
    if i < len(rest):
        if rest[i] != "Resources:":
            raise _refuse("the challenge has unexpected or out-of-order lines")
        i += 1
        while i < len(rest) and rest[i].startswith("- "):
            resources.append(rest[i][2:])
            i += 1
        if not resources:
            raise _refuse("the challenge has an empty Resources list")
    if i != len(rest):
        raise _refuse("the challenge has unexpected trailing lines")
    fields = {"domain": origin, "scheme": scheme, "address": address, "URI": uri,
              "Version": version, "Chain ID": chain_id, "Nonce": nonce, "Issued At": issued_at,
              **optional, "Resources": "".join(resources)}
    for label, value in fields.items():
        # Only the statement is prose (Venice's has an em dash); everything else is ASCII, so
        # an invisible or look-alike character cannot hide in it.
        if value is not None and not _PRINTABLE_ASCII.fullmatch(value):
            raise _refuse(f"the challenge's {label} is not printable ASCII")
    if statement is not None and any(
            unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in statement):
        raise _refuse("the challenge's statement contains invisible or bidirectional "
                      "control characters")
    return SiweMessage(
        scheme=scheme, domain=origin, address=address, statement=statement, uri=uri,
        version=version, chain_id=chain_id, nonce=nonce, issued_at=issued_at,
        expiration_time=optional["Expiration Time"], not_before=optional["Not Before"],
        request_id=optional["Request ID"], resources=tuple(resources),
    )


def _timestamp(value: str, name: str) -> datetime:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", value):
        raise _refuse(f"the challenge's {name} is not an RFC 3339 timestamp")
    try:
        return datetime.fromisoformat(value).astimezone(UTC)
    except ValueError:
        raise _refuse(f"the challenge's {name} is not a valid timestamp") from None


def validate_siwe_message(
    message: str,
    *,
    expected_address: str,
    chain_id: int,
    now: datetime | None = None,
) -> None:
    """Accept only Venice's key-creation challenge (Venice's domain and URI) for this wallet and
    chain, valid now and for at most an hour; otherwise UnsafeSigningRequestError naming the
    first thing wrong. Where it may be signed at all is `check_signing_host`'s question."""
    current = utc_now(now)
    ours = checksum_address(expected_address)
    msg = parse_siwe_message(message)
    if msg.domain not in VENICE_SIWE_DOMAINS:
        raise _refuse(
            f"the challenge is for domain {msg.domain[:100]!r}, not Venice's "
            f"({' or '.join(sorted(VENICE_SIWE_DOMAINS))})"
        )
    if msg.scheme is not None and msg.scheme != "https":
        raise _refuse(f"the challenge's scheme {msg.scheme[:20]!r} is not https")
    expected_uri = VENICE_SIWE_URI
    try:
        if not HEX_ADDRESS.fullmatch(msg.address):  # exactly: checksum_address would strip padding
            raise InvalidInputError("not an address")
        theirs = checksum_address(msg.address)
    except InvalidInputError:  # malformed, or mixed case with a wrong checksum
        raise _refuse("the challenge's address line is not an Ethereum address") from None
    if theirs != ours:
        raise _refuse(f"the challenge is for wallet {theirs}, not ours ({ours})")
    if msg.statement != SIWE_STATEMENT:
        raise _refuse("the challenge's statement is not Venice's API key authorization text")
    if msg.uri != expected_uri:
        raise _refuse(f"the challenge's URI {msg.uri[:200]!r} is not {expected_uri!r}")
    if msg.version != "1":
        raise _refuse("the challenge's Version is not 1")
    if msg.chain_id != str(chain_id):
        raise _refuse(f"the challenge is for chain {msg.chain_id[:20]!r}, not {chain_id}")
    if not _NONCE.fullmatch(msg.nonce):
        raise _refuse("the challenge's nonce is missing or shorter than 8 alphanumerics")
    issued = _timestamp(msg.issued_at, "Issued At")
    if issued > current + SKEW:
        raise _refuse("the challenge claims to be issued in the future")
    if msg.expiration_time is None:
        raise _refuse("the challenge has no Expiration Time; an open-ended signature is refused")
    expires = _timestamp(msg.expiration_time, "Expiration Time")
    if expires <= current:
        raise _refuse("the challenge has already expired")
    if expires - current > MAX_LIFETIME or expires - issued > MAX_LIFETIME + SKEW:
        raise _refuse(
            f"the challenge stays valid for more than {_human(MAX_LIFETIME)} "
            "(Venice challenges expire after 15 minutes)"
        )
    if msg.not_before is not None and _timestamp(msg.not_before, "Not Before") > current + SKEW:
        raise _refuse("the challenge is not valid yet ('Not Before' is in the future)")
    if msg.resources != (SIWE_RESOURCE,):
        raise _refuse(
            f"the challenge's Resources must be exactly {SIWE_RESOURCE!r}; a signature over "
            "other resources could authorise something else"
        )
