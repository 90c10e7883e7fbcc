"""The emulator's state and its Python API: accounts, keys, challenges, limits, persistence.

Everything the HTTP layer does goes through here under one lock, so tests may poke the state
from their own thread (faults, balances, the clock) while uvicorn serves from another.
Secrets are never stored: a key is found by the sha256 of its secret, which is also all that is
persisted.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import secrets
import string
import threading
import uuid
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from venice_web3_keys.sandbox.emulator import jwt
from venice_web3_keys.sandbox.emulator.clock import Clock, SystemClock, iso_ms, parse_iso
from venice_web3_keys.sandbox.emulator.faults import FaultPlan
from venice_web3_keys.secret import ApiKeySecret
from venice_web3_keys.settings import DEFAULT_DIEM_TOKEN, DEFAULT_STAKING_CONTRACT

CREATIONS_PER_MINUTE = 20
MAX_ACTIVE_KEYS = 500
RATE_LIMIT_LOG_SIZE = 50
REQUEST_LOG_SIZE = 2000
SECRET_PREFIX = {"INFERENCE": "VENICE_INFERENCE_KEY_", "ADMIN": "VENICE_ADMIN_KEY_"}
_SECRET_ALPHABET = string.ascii_letters + string.digits

MintVariant = Literal["jwt", "siwe"]

# Texts Venice documents or, where it documents none, our own (marked [I]).
KEY_NOT_FOUND = "API key not found"
KEY_NOT_FOUND_OR_EXPIRED = "API key not found or expired"
KEY_COULD_NOT_BE_FOUND = "API key could not be found"
RATE_LIMITED = "Rate limit exceeded"
TOO_MANY_KEYS = f"Maximum number of active API keys ({MAX_ACTIVE_KEYS}) reached"  # [I]

DEFAULT_RATE_LIMITS: list[dict[str, Any]] = [
    {"apiModelId": "zai-org-glm-5-1",
     "rateLimits": [{"amount": 50, "type": "RPM"}, {"amount": 750000, "type": "TPM"}]},
    {"apiModelId": "venice-uncensored",
     "rateLimits": [{"amount": 75, "type": "RPM"}, {"amount": 750000, "type": "TPM"}]},
    {"apiModelId": "video-model", "rateLimits": []},
]


class EmulatorHTTPError(Exception):
    """An API answer other than success: status, JSON body and optional headers."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def _sha(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _num(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _positive(value: Decimal | None) -> float | None:
    """Live billing reports bundled/earned credits as null unless positive, as Venice does."""
    return float(value) if value is not None and value > 0 else None


def _dec(value: Decimal | float | int | str | None) -> Decimal | None:
    return None if value is None else Decimal(str(value))


@dataclass
class StoredKey:
    id: str
    account: str
    api_key_type: str
    description: str
    secret_sha256: str
    last6: str
    created_at: datetime
    expires_at: datetime | None
    limits: dict[str, float | int | None]
    limit_period: str
    model_privacy: str
    last_used_at: datetime | None = None
    usage_7d: dict[str, Decimal] = field(default_factory=dict)
    usage_period: dict[str, Decimal] = field(default_factory=dict)

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def view(self, *, usage: bool = False) -> dict[str, Any]:
        """The `ApiKey` shape of list/get/patch (`consumptionLimits`, plural)."""
        out: dict[str, Any] = {
            "id": self.id,
            "apiKeyType": self.api_key_type,
            "description": self.description,
            "createdAt": iso_ms(self.created_at),
            "expiresAt": iso_ms(self.expires_at) if self.expires_at else None,
            "lastUsedAt": iso_ms(self.last_used_at) if self.last_used_at else None,
            "last6Chars": self.last6,
            "consumptionLimits": {k: self.limits.get(k) for k in ("usd", "diem", "vcu")},
            "limitPeriod": self.limit_period,
            "modelPrivacy": self.model_privacy,
        }
        if usage:
            seven = {k: f"{self.usage_7d.get(k, Decimal(0)):.4f}" for k in ("usd", "vcu", "diem")}
            out["usage"] = {"trailingSevenDays": seven}
            if self.limits.get("usd") is not None or self.limits.get("diem") is not None:
                out["currentPeriodUsage"] = {
                    k: f"{self.usage_period.get(k, Decimal(0)):.4f}" for k in ("usd", "diem")
                }
        return out

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        for name in ("created_at", "expires_at", "last_used_at"):
            d[name] = iso_ms(d[name]) if d[name] else None
        d["usage_7d"] = {k: str(v) for k, v in self.usage_7d.items()}
        d["usage_period"] = {k: str(v) for k, v in self.usage_period.items()}
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> StoredKey:
        d = dict(d)
        for name in ("created_at", "expires_at", "last_used_at"):
            d[name] = parse_iso(d[name]) if d[name] else None
        d["usage_7d"] = {k: Decimal(v) for k, v in d["usage_7d"].items()}
        d["usage_period"] = {k: Decimal(v) for k, v in d["usage_period"].items()}
        return cls(**d)


@dataclass
class Account:
    """A wallet address is an account; it holds balances, keys and its own logs.

    DIEM follows the wallet's DIEM token balance on chain (read at mint and on the balance
    views) until `pinned` is set by `set_balances`, after which the test's numbers stand.
    """

    address: str
    usd: Decimal | None = Decimal(0)
    diem: Decimal | None = None
    diem_epoch_allocation: Decimal = Decimal(0)
    bundled_credits: Decimal | None = None
    earned_credits: Decimal | None = None
    pinned: bool = False
    creations: list[float] = field(default_factory=list)  # epoch seconds, rolling window
    rate_limit_log: list[dict[str, str]] = field(default_factory=list)  # newest first

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        for name in ("usd", "diem", "diem_epoch_allocation", "bundled_credits", "earned_credits"):
            d[name] = None if d[name] is None else str(d[name])
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Account:
        d = dict(d)
        for name in ("usd", "diem", "diem_epoch_allocation", "bundled_credits", "earned_credits"):
            d[name] = _dec(d[name])
        return cls(**d)


@dataclass
class Challenge:
    """An issued SIWE challenge: single use, bound to one address."""

    nonce: str
    address: str
    issued_at: str
    expires_at: str
    used: bool = False


@dataclass(frozen=True)
class RecordedRequest:
    """What the request log keeps: never a header value or a body."""

    method: str
    path: str
    query: str
    has_auth: bool
    status: int | None  # None: the connection was dropped or left hanging
    route: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class EmulatorState:
    """The Venice emulator's Python API. See ARCHITECTURE.md (sandbox)."""

    def __init__(
        self,
        *,
        rpc_url: str,
        chain_id: int = 8453,
        staking_contract: str = DEFAULT_STAKING_CONTRACT,
        diem_token: str = DEFAULT_DIEM_TOKEN,
        mint_variant: MintVariant = "jwt",
        clock: Clock | None = None,
        persist_path: Path | str | None = None,
        rpc_timeout: float = 5.0,
        starting_usd: Decimal | float | int | str = 0,
    ) -> None:
        """`starting_usd` is the USD credit of every new account: 0 is Venice's empty account;
        the `Sandbox` gives more so a fresh wallet's keys pass `rate_limits.accessPermitted`."""
        self.rpc_url = rpc_url
        self.chain_id = chain_id
        self.staking_contract = staking_contract
        self.diem_token = diem_token
        self.starting_usd = Decimal(str(starting_usd))
        if not self.starting_usd.is_finite() or self.starting_usd < 0:
            raise ValueError("starting_usd must be a number >= 0")
        self.rpc_timeout = rpc_timeout
        self.clock: Clock = clock or SystemClock()
        # Venice's create limit: `create_limit` per rolling `create_window` seconds. Benchmarks
        # and tests may shrink the window (real seconds), together with the client's budget.
        self.create_limit = CREATIONS_PER_MINUTE
        self.create_window = 60.0
        self.persist_path = Path(persist_path) if persist_path else None
        self.faults = FaultPlan()
        self.request_log: deque[RecordedRequest] = deque(maxlen=REQUEST_LOG_SIZE)
        self.lock = threading.RLock()
        self.hang_release = threading.Event()
        self._mint_variant: MintVariant = "jwt"
        self.mint_variant = mint_variant
        self.jwt_secret = secrets.token_bytes(32)
        self.accounts: dict[str, Account] = {}
        self.keys: dict[str, StoredKey] = {}
        self._by_hash: dict[str, str] = {}
        self.challenges: dict[str, Challenge] = {}
        if self.persist_path and self.persist_path.exists():
            try:
                self._load(self.persist_path)
            except (ValueError, KeyError, TypeError) as exc:  # JSONDecodeError is a ValueError
                raise ValueError(f"{self.persist_path} is not a readable emulator state file "
                                 f"({type(exc).__name__}); delete it or pick another "
                                 "path") from None

    # -- configuration -------------------------------------------------------------------------
    @property
    def mint_variant(self) -> MintVariant:
        return self._mint_variant

    @mint_variant.setter
    def mint_variant(self, value: str) -> None:
        if value not in ("jwt", "siwe"):
            raise ValueError("mint_variant must be 'jwt' or 'siwe'")
        self._mint_variant = value  # type: ignore[assignment]

    def now(self) -> datetime:
        return self.clock.now()

    def release_hangs(self) -> None:
        """End every request held open by a `hang` fault (call before stopping the server)."""
        self.hang_release.set()

    # -- accounts --------------------------------------------------------------------------------
    def account(self, address: str) -> Account:
        """The account of `address` (any case), created on first use."""
        with self.lock:
            acct = self.accounts.get(address.lower())
            if acct is None:
                acct = Account(address=address, usd=self.starting_usd)
                self.accounts[address.lower()] = acct
            return acct

    def set_balances(
        self,
        address: str,
        *,
        usd: Decimal | float | int | str | None = None,
        diem: Decimal | float | int | str | None = None,
        diem_epoch_allocation: Decimal | float | int | str | None = None,
        bundled_credits: Decimal | float | int | str | None = None,
    ) -> None:
        """Set an account's balances; a `None` DIEM means "does not stake DIEM".

        The values are pinned: the on-chain DIEM balance no longer overrides them.
        """
        with self.lock:
            acct = self.account(address)
            acct.pinned = True
            acct.usd = _dec(usd)
            acct.diem = _dec(diem)
            acct.diem_epoch_allocation = _dec(diem_epoch_allocation) or acct.diem or Decimal(0)
            acct.bundled_credits = _dec(bundled_credits)
            self._save()

    def record_rate_limit_event(
        self, key_id: str, *, model_id: str = "zai-org-glm-5-1", tier: str = "paid",
        limit_type: str = "RPM",
    ) -> None:
        """Append a rate-limit log entry for a key (the log keeps the newest 50)."""
        with self.lock:
            key = self.keys[key_id]
            acct = self.account(key.account)
            entry = {"apiKeyId": key_id, "modelId": model_id, "rateLimitTier": tier,
                     "rateLimitType": limit_type, "timestamp": iso_ms(self.now())}
            acct.rate_limit_log.insert(0, entry)
            del acct.rate_limit_log[RATE_LIMIT_LOG_SIZE:]
            self._save()

    def record_usage(
        self, key_id: str, *, usd: Decimal | float | str = 0, diem: Decimal | float | str = 0,
        vcu: Decimal | float | str = 0,
    ) -> None:
        """Add spend to a key (shows in usage, currentPeriodUsage and rate_limits balances)."""
        with self.lock:
            key = self.keys[key_id]
            for name, amount in (("usd", usd), ("diem", diem), ("vcu", vcu)):
                value = Decimal(str(amount))
                key.usage_7d[name] = key.usage_7d.get(name, Decimal(0)) + value
                if name != "vcu":
                    key.usage_period[name] = key.usage_period.get(name, Decimal(0)) + value
            self._save()

    def create_account_with_admin_key(
        self, address: str | None = None
    ) -> tuple[str, ApiKeySecret]:
        """Test helper: an account (random address by default) and an ADMIN key, without a mint."""
        if address is None:
            address = "0x" + secrets.token_hex(20)
        with self.lock:
            key, secret = self._insert_key(self.account(address), "ADMIN", "Sandbox admin key",
                                           None, {}, "EPOCH", "ALL", enforce_limits=False)
            self._save()
            return key.id, secret

    def seed_keys(self, address: str, count: int, *,
                  description: str = "seeded") -> list[str]:
        """Test helper: `count` INFERENCE keys in an account, made past the create limits."""
        with self.lock:
            acct = self.account(address)
            ids = [self._insert_key(acct, "INFERENCE", description, None, {}, "EPOCH", "ALL",
                                    enforce_limits=False)[0].id for _ in range(count)]
            self._save()
            return ids

    def sync_chain_diem(self, address: str, diem_wei: int) -> None:
        """Follow the wallet's DIEM on chain: held DIEM is treated as staked, so its amount is
        both the epoch allocation and the balance (null when zero, as for a non-staker)."""
        with self.lock:
            acct = self.account(address)
            if acct.pinned:
                return
            amount = Decimal(diem_wei) / Decimal(10**18) if diem_wei > 0 else None
            if (acct.diem, acct.diem_epoch_allocation) != (amount, amount or Decimal(0)):
                acct.diem = amount
                acct.diem_epoch_allocation = amount or Decimal(0)
                self._save()

    # -- keys ------------------------------------------------------------------------------------
    def authenticate(self, secret: str) -> StoredKey | None:
        """The live key for a Bearer secret, or None (unknown, revoked or expired)."""
        with self.lock:
            key_id = self._by_hash.get(_sha(secret))
            key = self.keys.get(key_id) if key_id else None
            now = self.now()
            if key is None or key.expired(now):
                return None
            key.last_used_at = now
            self._save()  # lastUsedAt survives a restart, like every other change
            return key

    def _insert_key(
        self, acct: Account, api_key_type: str, description: str, expires_at: datetime | None,
        limits: dict[str, Any], limit_period: str, model_privacy: str, *, enforce_limits: bool,
    ) -> tuple[StoredKey, ApiKeySecret]:
        now = self.now()
        if enforce_limits:
            window_start = now.timestamp() - self.create_window
            acct.creations = [t for t in acct.creations if t > window_start]
            if len(acct.creations) >= self.create_limit:
                retry = max(1, math.ceil(acct.creations[0] - window_start))
                raise EmulatorHTTPError(429, {"error": RATE_LIMITED},
                                        {"Retry-After": str(retry)})
            active = sum(1 for k in self.keys.values()
                         if k.account.lower() == acct.address.lower() and not k.expired(now))
            if active >= MAX_ACTIVE_KEYS:
                raise EmulatorHTTPError(400, {"error": TOO_MANY_KEYS})
        raw = SECRET_PREFIX[api_key_type] + "".join(
            secrets.choice(_SECRET_ALPHABET) for _ in range(42)
        )
        key = StoredKey(
            id=str(uuid.uuid4()), account=acct.address, api_key_type=api_key_type,
            description=description, secret_sha256=_sha(raw), last6=raw[-6:], created_at=now,
            expires_at=expires_at,
            limits={k: limits.get(k) for k in ("usd", "diem", "vcu")},
            limit_period=limit_period, model_privacy=model_privacy,
        )
        self.keys[key.id] = key
        self._by_hash[key.secret_sha256] = key.id
        if enforce_limits:  # keys a test helper plants do not spend the account's minute
            acct.creations.append(now.timestamp())
        return key, ApiKeySecret(raw)

    def create_key(self, acct: Account, body: dict[str, Any]) -> tuple[StoredKey, ApiKeySecret]:
        """Create a key from a validated create/mint body, enforcing the per-account limits."""
        expires = self._expiry(body.get("expiresAt"))
        with self.lock:
            key, secret = self._insert_key(
                acct, body["apiKeyType"], body.get("description", "Web3 API Key"), expires,
                dict(body.get("consumptionLimit") or {}), body.get("limitPeriod", "EPOCH"),
                body.get("modelPrivacy", "ALL"), enforce_limits=True,
            )
            self._save()
            return key, secret

    def _expiry(self, value: str | None) -> datetime | None:
        if not value:
            return None
        when = parse_iso(value)
        if when <= self.now():
            # [I] Venice documents no text for a past expiry; refusing it keeps keys sane.
            raise EmulatorHTTPError(400, {
                "error": "Invalid request parameters",
                "details": {"_errors": [], "expiresAt": {
                    "_errors": ["Expiration date must be in the future"]}},
                "issues": [{"code": "custom", "message": "Expiration date must be in the future",
                            "path": ["expiresAt"]}],
            })
        return when

    def live_keys(self, account: str) -> list[StoredKey]:
        """Non-expired keys of an account, newest first."""
        now = self.now()
        with self.lock:
            keys = [k for k in self.keys.values()
                    if k.account.lower() == account.lower() and not k.expired(now)]
        # Reversed insertion order first, so keys made in the same instant are newest first too.
        return sorted(reversed(keys), key=lambda k: k.created_at, reverse=True)

    def find_key(self, account: str, key_id: str) -> StoredKey | None:
        """A live key of this account; other accounts' keys are invisible."""
        with self.lock:
            key = self.keys.get(key_id)
            if key is None or key.account.lower() != account.lower() or key.expired(self.now()):
                return None
            return key

    def update_key(self, account: str, body: dict[str, Any]) -> StoredKey:
        with self.lock:
            key = self.find_key(account, body["id"])
            if key is None:
                raise EmulatorHTTPError(400, {"error": KEY_NOT_FOUND_OR_EXPIRED})
            if "expiresAt" in body:
                key.expires_at = self._expiry(body["expiresAt"])  # "" and null remove it
            if "description" in body:
                key.description = body["description"]
            for name, value in (body.get("consumptionLimit") or {}).items():
                if name in ("usd", "diem", "vcu"):
                    key.limits[name] = value  # null removes that cap
            if "limitPeriod" in body:
                key.limit_period = body["limitPeriod"]
            if "modelPrivacy" in body:
                key.model_privacy = body["modelPrivacy"]
            self._save()
            return key

    def delete_key(self, account: str, key_id: str) -> None:
        with self.lock:
            key = self.keys.get(key_id)
            if key is None or key.account.lower() != account.lower():
                raise EmulatorHTTPError(400, {"error": KEY_COULD_NOT_BE_FOUND})
            del self.keys[key_id]
            self._by_hash.pop(key.secret_sha256, None)
            self._save()

    # -- views -------------------------------------------------------------------------------------
    def rate_limits_view(self, key: StoredKey) -> dict[str, Any]:
        """`GET /api_keys/rate_limits` for the calling key: balances clamped to its limits."""
        with self.lock:
            acct = self.account(key.account)
            now = self.now()
            balances: dict[str, float] = {}
            for name, have in (("USD", acct.usd), ("DIEM", acct.diem)):
                if have is None:
                    continue
                limit = key.limits.get(name.lower())
                if limit is not None:
                    left = Decimal(str(limit)) - key.usage_period.get(name.lower(), Decimal(0))
                    have = max(Decimal(0), min(have, left))
                balances[name] = float(have)
            if acct.bundled_credits:
                balances["BUNDLED_CREDITS"] = float(acct.bundled_credits)
            permitted = any(v > 0 for v in balances.values())
            tomorrow = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0,
                                                         microsecond=0)
            return {
                "accessPermitted": permitted,
                "apiTier": {"id": "paid", "isCharged": True} if permitted
                else {"id": "free", "isCharged": False},
                "balances": balances,
                "keyExpiration": iso_ms(key.expires_at) if key.expires_at else None,
                "nextEpochBegins": iso_ms(tomorrow),
                "rateLimits": DEFAULT_RATE_LIMITS,
            }

    def billing_view(self, address: str) -> dict[str, Any]:
        with self.lock:
            acct = self.account(address)
            if acct.diem:
                currency: str | None = "DIEM"
            elif acct.earned_credits:
                currency = "EARNED_CREDITS"
            elif acct.bundled_credits:
                currency = "BUNDLED_CREDITS"
            elif acct.usd:
                currency = "USD"
            else:
                currency = None
            return {
                "canConsume": currency is not None,
                "consumptionCurrency": currency,
                "balances": {
                    "diem": _num(acct.diem), "usd": _num(acct.usd),
                    "bundledCredits": _positive(acct.bundled_credits),
                    "earnedCredits": _positive(acct.earned_credits),
                },
                "diemEpochAllocation": float(acct.diem_epoch_allocation),
            }

    # -- SIWE challenges and JWTs ---------------------------------------------------------------
    def issue_token(self) -> str:
        return jwt.issue(self.jwt_secret, self.now())

    def new_challenge(self, address: str, expires_at: datetime) -> Challenge:
        with self.lock:
            challenge = Challenge(nonce=secrets.token_hex(16), address=address,
                                  issued_at=iso_ms(self.now()), expires_at=iso_ms(expires_at))
            self.challenges[challenge.nonce] = challenge
            # Forget long-expired challenges so the table cannot grow without bound.
            horizon = self.now() - timedelta(hours=1)
            for nonce in [n for n, c in self.challenges.items()
                          if parse_iso(c.expires_at) < horizon]:
                del self.challenges[nonce]
            self._save()
            return challenge

    # -- housekeeping ----------------------------------------------------------------------------
    def record_request(self, entry: RecordedRequest) -> None:
        with self.lock:
            self.request_log.append(entry)

    def requests(self) -> list[RecordedRequest]:
        with self.lock:
            return list(self.request_log)

    def reset(self) -> None:
        """Forget every account, key, challenge, fault and logged request."""
        with self.lock:
            self.accounts.clear()
            self.keys.clear()
            self._by_hash.clear()
            self.challenges.clear()
            self.faults.clear()
            self.request_log.clear()
            self.hang_release.clear()
            self._save()

    def snapshot(self) -> dict[str, Any]:
        """The persisted form: hashes of secrets only, never a secret."""
        with self.lock:
            return {
                "version": 1,
                "mint_variant": self.mint_variant,
                "jwt_secret": self.jwt_secret.hex(),
                "accounts": [a.to_json() for a in self.accounts.values()],
                "keys": [k.to_json() for k in self.keys.values()],
                "challenges": [asdict(c) for c in self.challenges.values()],
            }

    def _save(self) -> None:
        if self.persist_path is None:
            return
        data = json.dumps(self.snapshot(), indent=1)
        tmp = self.persist_path.with_name(self.persist_path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0),
                     0o600)  # never write through a planted symlink
        os.fchmod(fd, 0o600)  # a leftover .tmp keeps its old mode otherwise
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(data)
        os.replace(tmp, self.persist_path)

    def _load(self, path: Path) -> None:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("version") != 1:
            raise ValueError(f"unsupported emulator state file version in {path}")
        self.mint_variant = data["mint_variant"]
        self.jwt_secret = bytes.fromhex(data["jwt_secret"])
        self.accounts = {a["address"].lower(): Account.from_json(a) for a in data["accounts"]}
        self.keys = {k["id"]: StoredKey.from_json(k) for k in data["keys"]}
        self._by_hash = {k.secret_sha256: k.id for k in self.keys.values()}
        self.challenges = {c["nonce"]: Challenge(**c) for c in data["challenges"]}

    def save(self) -> None:
        """Write the state file now (it is also written after every change)."""
        with self.lock:
            self._save()

