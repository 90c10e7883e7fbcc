"""Strict request validation with zod-style DetailedError bodies, as Venice's backend answers.

Venice validates bodies with zod: unknown top-level fields are rejected, each problem becomes an
issue with a path, and `details` is zod's `format()` tree (`{"_errors": [], "field": {"_errors":
[...]}}`). Reproducing that shape lets client error mapping be tested against the real thing.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from typing import Any

API_KEY_TYPES = ("INFERENCE", "ADMIN")
LIMIT_PERIODS = ("EPOCH", "MONTH", "LIFETIME")
MODEL_PRIVACY = ("ALL", "PRIVATE_TEXT", "PRIVATE_ONLY")
LIMIT_MAX = 9_999_999_999
DESCRIPTION_MAX = 64
ERROR_TEXT = "Invalid request parameters"

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$")

Path = tuple[str | int, ...]


class RequestValidationError(Exception):
    """Raised with the issues collected; `body()` is the DetailedError to send."""

    def __init__(self, issues: list[dict[str, Any]]) -> None:
        super().__init__(ERROR_TEXT)
        self.issues = issues

    def body(self) -> dict[str, Any]:
        details: dict[str, Any] = {"_errors": []}
        for issue in self.issues:
            node = details
            for part in issue["path"]:
                node = node.setdefault(str(part), {"_errors": []})
            node["_errors"].append(issue["message"])
        return {"error": ERROR_TEXT, "details": details, "issues": self.issues}


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


class Validator:
    """Collects issues for one body; `done()` raises if there were any."""

    def __init__(self, body: Any) -> None:
        self.issues: list[dict[str, Any]] = []
        self.body: dict[str, Any] = body if isinstance(body, dict) else {}
        if not isinstance(body, dict):
            self._issue((), "invalid_type", f"Expected object, received {_type_name(body)}")

    def _issue(self, path: Path, code: str, message: str, **extra: Any) -> None:
        self.issues.append({"code": code, "message": message, "path": list(path), **extra})

    def strict_keys(self, allowed: set[str], required: set[str]) -> None:
        unknown = [k for k in self.body if k not in allowed]
        if unknown:
            names = ", ".join(f"'{k}'" for k in unknown)
            self._issue((), "unrecognized_keys", f"Unrecognized key(s) in object: {names}",
                        keys=unknown)
        for name in sorted(required):
            if name not in self.body:
                self._issue((name,), "invalid_type", "Field is required",
                            expected="string", received="undefined")

    def string(self, name: str, *, min_len: int = 0, max_len: int | None = None) -> None:
        if name not in self.body:
            return
        value = self.body[name]
        if not isinstance(value, str):
            self._issue((name,), "invalid_type", f"Expected string, received {_type_name(value)}",
                        expected="string", received=_type_name(value))
            return
        # zod compares JavaScript's `.length`: UTF-16 code units, so an emoji counts twice.
        length = len(value.encode("utf-16-le", "surrogatepass")) // 2
        if length < min_len:
            self._issue((name,), "too_small",
                        f"String must contain at least {min_len} character(s)", minimum=min_len)
        if max_len is not None and length > max_len:
            self._issue((name,), "too_big",
                        f"String must contain at most {max_len} character(s)", maximum=max_len)

    def enum(self, name: str, options: tuple[str, ...]) -> None:
        if name not in self.body:
            return
        value = self.body[name]
        if value not in options or not isinstance(value, str):
            expected = " | ".join(f"'{o}'" for o in options)
            self._issue((name,), "invalid_enum_value",
                        f"Invalid enum value. Expected {expected}, received '{value}'",
                        options=list(options))

    def expires_at(self, name: str, *, allow_null: bool) -> None:
        if name not in self.body:
            return
        value = self.body[name]
        if value is None and allow_null:
            return
        if not isinstance(value, str) or not (
            value == "" or _DATE.match(value) or _DATETIME.match(value)
        ):
            self._issue((name,), "invalid_union", "Invalid input")
            return
        if value:
            try:
                if len(value) == 10:
                    date.fromisoformat(value)
                else:
                    datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                self._issue((name,), "invalid_date", "Invalid date")

    def limits(self, name: str) -> None:
        if name not in self.body:
            return
        value = self.body[name]
        if not isinstance(value, dict):
            self._issue((name,), "invalid_type", f"Expected object, received {_type_name(value)}",
                        expected="object", received=_type_name(value))
            return
        for sub in ("usd", "diem", "vcu"):
            if sub not in value or value[sub] is None:
                continue
            v = value[sub]
            path = (name, sub)
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                self._issue(path, "invalid_union", "Invalid input")
            elif v < 0:
                self._issue(path, "too_small", "Number must be greater than or equal to 0",
                            minimum=0)
            elif v > LIMIT_MAX:
                self._issue(path, "too_big",
                            f"Number must be less than or equal to {LIMIT_MAX}", maximum=LIMIT_MAX)

    def done(self) -> dict[str, Any]:
        if self.issues:
            raise RequestValidationError(self.issues)
        return self.body


_COMMON = {"description", "expiresAt", "consumptionLimit", "limitPeriod", "modelPrivacy"}


def _common(v: Validator, *, allow_null_expiry: bool, description_required: bool) -> None:
    v.string("description", min_len=1 if description_required or "description" in v.body else 0,
             max_len=DESCRIPTION_MAX)
    v.expires_at("expiresAt", allow_null=allow_null_expiry)
    v.limits("consumptionLimit")
    v.enum("limitPeriod", LIMIT_PERIODS)
    v.enum("modelPrivacy", MODEL_PRIVACY)


def validate_create(body: Any) -> dict[str, Any]:
    """POST /api_keys."""
    v = Validator(body)
    v.strict_keys({"apiKeyType", *_COMMON}, {"apiKeyType", "description"})
    v.enum("apiKeyType", API_KEY_TYPES)
    _common(v, allow_null_expiry=False, description_required=True)
    return v.done()


def validate_update(body: Any) -> dict[str, Any]:
    """PATCH /api_keys: `apiKeyType` is not in the schema, so trying to change it is rejected."""
    v = Validator(body)
    v.strict_keys({"id", *_COMMON}, {"id"})
    v.string("id", min_len=1)
    _common(v, allow_null_expiry=True, description_required=False)
    return v.done()


def validate_delete(body: Any) -> dict[str, Any]:
    """DELETE /api_keys with a JSON body instead of `?id=`."""
    v = Validator(body)
    v.strict_keys({"id"}, {"id"})
    v.string("id", min_len=1)
    return v.done()


def validate_mint(body: Any, *, variant: str) -> dict[str, Any]:
    """POST /api_keys/generate_web3_key: `token` (JWT variant) or `message` (SIWE variant)."""
    proof = "token" if variant == "jwt" else "message"
    v = Validator(body)
    required = {"apiKeyType", "address", "signature", proof}
    v.strict_keys(required | _COMMON, required)
    v.enum("apiKeyType", API_KEY_TYPES)
    for name in ("address", "signature", proof):
        v.string(name)
    _common(v, allow_null_expiry=False, description_required=False)
    return v.done()


def validate_address_query(address: str | None) -> None:
    """GET generate_web3_key in the SIWE variant needs `?address=`."""
    if address is None or address == "":
        raise RequestValidationError(
            [{"code": "invalid_type", "message": "Field is required", "path": ["address"],
              "expected": "string", "received": "undefined"}]
        )
