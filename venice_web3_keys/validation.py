"""Local checks of caller input, so that nothing malformed is ever sent to Venice.

Venice's request bodies are strict and its error budget punishes repeated 4xx answers, so every
rule the API enforces (and a few it should) is applied here first. Rejected values are not echoed
when they could be a pasted secret.
"""

from __future__ import annotations

import math
import re
import unicodedata
import uuid
from collections.abc import Mapping
from typing import Any

from .errors import InvalidInputError

MAX_LIMIT = 9_999_999_999
MAX_DESCRIPTION = 64
API_KEY_TYPES = ("INFERENCE", "ADMIN")
LIMIT_PERIODS = ("EPOCH", "MONTH", "LIFETIME")
MODEL_PRIVACIES = ("ALL", "PRIVATE_TEXT", "PRIVATE_ONLY")
_SECRET_PREFIX = re.compile(r"\s*VENICE_", re.IGNORECASE)


def validate_description(text: str) -> str:
    """1..64 characters after stripping; no control characters (they break tables and logs)."""
    if not isinstance(text, str):
        raise InvalidInputError("description must be a string", field="description")
    value = text.strip()
    if not value:
        raise InvalidInputError("description must not be empty", field="description")
    if len(value) > MAX_DESCRIPTION:
        raise InvalidInputError(
            f"description is {len(value)} characters; Venice allows at most {MAX_DESCRIPTION}",
            field="description",
        )
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise InvalidInputError(
            "description must not contain control characters (newlines, tabs, ...)",
            field="description",
        )
    return value


def validate_limit(value: float | int | str | None, field: str) -> float | None:
    """A spend cap in [0, 9999999999], or None for "no cap" (also spelled "none"/"null")."""
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
        number = float(text)
    elif isinstance(value, int | float):
        number = float(value)
    else:
        raise InvalidInputError(f"{field} must be a number", field=field)
    if not math.isfinite(number):
        raise InvalidInputError(f"{field} must be a finite number", field=field)
    if number < 0 or number > MAX_LIMIT:
        raise InvalidInputError(f"{field} must be between 0 and {MAX_LIMIT}", field=field)
    return number


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


def _enum(value: str, allowed: tuple[str, ...], field: str) -> str:
    if not isinstance(value, str):
        raise InvalidInputError(f"{field} must be one of {', '.join(allowed)}", field=field)
    text = value.strip().upper()
    if text not in allowed:
        raise InvalidInputError(f"{field} must be one of {', '.join(allowed)}", field=field)
    return text


def validate_api_key_type(value: str) -> str:
    return _enum(value, API_KEY_TYPES, "api_key_type")


def validate_limit_period(value: str) -> str:
    return _enum(value, LIMIT_PERIODS, "limit_period")


def validate_model_privacy(value: str) -> str:
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
