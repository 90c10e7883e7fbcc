"""Local checks of caller input, so that nothing malformed is ever sent to Venice.

Venice's request bodies are strict and its error budget punishes repeated 4xx answers, so every
rule the API enforces (and a few it should) is applied here first. Rejected values are not echoed
when they could be a pasted secret.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, TypeVar, get_args

from .errors import InvalidInputError

ApiKeyType = Literal["INFERENCE", "ADMIN"]
LimitPeriod = Literal["EPOCH", "MONTH", "LIFETIME"]
ModelPrivacy = Literal["ALL", "PRIVATE_TEXT", "PRIVATE_ONLY"]

MAX_LIMIT = 9_999_999_999
#: in UTF-16 code units, as Venice's (JavaScript) validator counts `.length`
MAX_DESCRIPTION = 64
API_KEY_TYPES: tuple[ApiKeyType, ...] = get_args(ApiKeyType)
LIMIT_PERIODS: tuple[LimitPeriod, ...] = get_args(LimitPeriod)
MODEL_PRIVACIES: tuple[ModelPrivacy, ...] = get_args(ModelPrivacy)
_SECRET_PREFIX = re.compile(r"\s*VENICE_", re.IGNORECASE)
_Choice = TypeVar("_Choice", bound=str)


def utf16_length(text: str) -> int:
    """`text`'s length as JavaScript's `String.length` counts it: UTF-16 code units, so a
    character outside the Basic Multilingual Plane (most emoji) counts twice."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def validate_description(text: str) -> str:
    """1..64 UTF-16 code units after stripping (Venice's limit, counted the way its JavaScript
    validator counts); no control characters (they break tables and logs)."""
    if not isinstance(text, str):
        raise InvalidInputError("description must be a string", field="description")
    value = text.strip()
    if not value:
        raise InvalidInputError("description must not be empty", field="description")
    units = utf16_length(value)
    if units > MAX_DESCRIPTION:
        astral = units - len(value)
        detail = (f" ({len(value)} characters, {astral} of them emoji or other characters "
                  "that count twice)") if astral else ""
        raise InvalidInputError(
            f"description is {units} UTF-16 code units long{detail}; Venice allows at most "
            f"{MAX_DESCRIPTION}",
            field="description",
        )
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise InvalidInputError(
            "description must not contain control characters (newlines, tabs, ...)",
            field="description",
        )
    return value


def validate_limit(value: Decimal | int | str | float | None, field: str) -> Decimal | None:
    """A spend cap in [0, 9999999999] as an exact Decimal, or None for "no cap" (also spelled
    "none"/"null"). A float is read through its shortest repr (0.1 is 0.1, not
    0.1000000000000000055...). Venice stores a cap as a JavaScript number, so a value with more
    digits than a double keeps (about 15) is refused rather than silently rounded."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidInputError(f"{field} must be a number, not a boolean", field=field)
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in ("none", "null"):
            return None
        if not re.fullmatch(r"[+]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", text):
            raise InvalidInputError(
                f"{field} must be a number between 0 and {MAX_LIMIT}, or none", field=field
            )
        number = _decimal(text, field)
    elif isinstance(value, Decimal | int):
        number = _decimal(value, field)
    elif isinstance(value, float):
        number = _decimal(repr(value), field)
    else:
        raise InvalidInputError(f"{field} must be a number", field=field)
    if not number.is_finite():
        raise InvalidInputError(f"{field} must be a finite number", field=field)
    if number < 0 or number > MAX_LIMIT:
        raise InvalidInputError(f"{field} must be between 0 and {MAX_LIMIT}", field=field)
    if Decimal(repr(float(number))) != number:
        raise InvalidInputError(
            f"{field} has more digits than Venice keeps (it stores a cap as a double: about 15 "
            "significant digits)", field=field)
    return number + 0  # normalises -0 to 0


def _decimal(value: Decimal | int | str, field: str) -> Decimal:
    try:
        return Decimal(value)
    except (InvalidOperation, ValueError):  # pragma: no cover - the pattern admits only numbers
        raise InvalidInputError(f"{field} must be a number", field=field) from None


def json_number(value: Decimal) -> int | float:
    """A cap as the JSON number Venice takes: an int when whole, else the float whose shortest
    repr is exactly `value` (validate_limit guarantees one exists)."""
    return int(value) if value == value.to_integral_value() else float(value)


def validate_key_id(value: str) -> str:
    """A key id is a UUID; return it in canonical lower-case hyphenated form.

    A pasted API key secret is recognised and refused without being repeated back, because the
    error text may end up in a terminal log or an agent transcript.
    """
    if not isinstance(value, str):
        raise InvalidInputError("key id must be a string", field="key_id")
    if _SECRET_PREFIX.match(value):
        raise InvalidInputError(
            "that looks like an API key secret, not a key id (not shown here); key ids are UUIDs "
            "such as e28e82dc-9df2-4b47-b726-d0a222ef2ab5 (see `keys list`). If the secret was "
            "exposed, revoke that key.",
            field="key_id",
        )
    text = value.strip()
    if not re.fullmatch(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                        r"[0-9a-fA-F]{12}", text):
        raise InvalidInputError(
            "key id must be a UUID such as e28e82dc-9df2-4b47-b726-d0a222ef2ab5", field="key_id"
        )
    return str(uuid.UUID(text))


#: the shortest id prefix accepted in place of a full id: 8 hex digits, 4 billion values
MIN_ID_PREFIX = 8


def validate_key_id_prefix(value: str) -> str:
    """A full key id (canonical form) or a prefix of one: lower-case, at least MIN_ID_PREFIX
    characters, only what a UUID holds (hex digits and hyphens)."""
    if not isinstance(value, str):
        raise InvalidInputError("key id must be a string", field="key_id")
    text = value.strip().lower()
    if _SECRET_PREFIX.match(value) or len(text) > 36 or not re.fullmatch(r"[0-9a-f-]*", text):
        return validate_key_id(value)  # its message: a pasted secret, or what an id looks like
    if len(text) == 36:
        return validate_key_id(text)
    if len(text.replace("-", "")) < MIN_ID_PREFIX:
        raise InvalidInputError(
            f"give the key's full id, or at least its first {MIN_ID_PREFIX} characters "
            "(see `keys list`)", field="key_id")
    return text


def _enum(value: str, allowed: tuple[_Choice, ...], field: str) -> _Choice:
    if not isinstance(value, str):
        raise InvalidInputError(f"{field} must be one of {', '.join(allowed)}", field=field)
    text = value.strip().upper()
    if text not in allowed:
        raise InvalidInputError(f"{field} must be one of {', '.join(allowed)}", field=field)
    return text


def validate_api_key_type(value: str) -> ApiKeyType:
    """Any spelling a user may type ("inference") as the ApiKeyType Venice takes."""
    return _enum(value, API_KEY_TYPES, "api_key_type")


def validate_limit_period(value: str) -> LimitPeriod:
    return _enum(value, LIMIT_PERIODS, "limit_period")


def validate_model_privacy(value: str) -> ModelPrivacy:
    return _enum(value, MODEL_PRIVACIES, "model_privacy")


def update_changes(changes: Mapping[str, Any], *, remove_expiry: bool = False) -> dict[str, Any]:
    """The changes of a key update (only the fields given), checked as a whole before anything is
    sent: at least one, and not a new expiry together with its removal (`remove_expiry`)."""
    given = dict(changes)
    if remove_expiry:
        if given.get("expires_at") is not None:
            raise InvalidInputError("give a new expiry or remove it, not both", field="expires_at")
        given["expires_at"] = None
    if not given:
        raise InvalidInputError("nothing to update: give at least one setting to change")
    return given
