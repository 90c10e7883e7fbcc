"""The one conversion from library results to plain JSON data, for every face.

The CLI prints it with `--json` (Venice's camelCase wire names); the MCP server returns it as
structured tool results (snake_case, `by_alias=False`). A secret never survives the trip: a
SecretValue becomes its masked text, and an object with `to_public_dict()` (a new key, a
rotation) is serialized through that method, which leaves the secret out.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from pathlib import PurePath
from typing import Any
from uuid import UUID

from venice_web3_keys.amounts import decimal_str
from venice_web3_keys.secret import SecretValue
from venice_web3_keys.timeparse import format_datetime


def to_jsonable(obj: Any, *, by_alias: bool = True) -> Any:
    """`obj` as JSON-ready data: dicts, lists, str, int, float, bool and None only.

    Pydantic models use their wire names when `by_alias` (their field names otherwise), amounts
    are plain decimal strings ("0.5", never "5E-1"), timestamps ISO 8601 in Venice's own form
    (UTC, milliseconds, `Z`: "2026-12-31T23:59:59.000Z"), so a timestamp reads the same in the
    JSON output whether the library parsed it or not.
    """
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    if isinstance(obj, SecretValue):
        return str(obj)  # masked
    public = getattr(obj, "to_public_dict", None)
    if callable(public):
        return to_jsonable(public(), by_alias=by_alias)
    dump = getattr(obj, "model_dump", None)
    if callable(dump):
        return to_jsonable(dump(mode="python", by_alias=by_alias), by_alias=by_alias)
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v, by_alias=by_alias) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [to_jsonable(v, by_alias=by_alias) for v in obj]
    if isinstance(obj, Decimal):
        return decimal_str(obj)
    if isinstance(obj, datetime) and obj.tzinfo is not None:
        return format_datetime(obj)
    if isinstance(obj, datetime | date):
        return obj.isoformat()
    if isinstance(obj, enum.Enum):
        return to_jsonable(obj.value, by_alias=by_alias)
    if isinstance(obj, UUID | PurePath):
        return str(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name), by_alias=by_alias)
                for f in dataclasses.fields(obj) if f.repr}
    raise TypeError(f"{type(obj).__name__} has no JSON form")


#: line breaks and tabs of every kind: shown as one space
_BREAKS = {ord(c): " " for c in "\t\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"}
#: C0 controls (ESC starts terminal sequences), DEL, C1 (0x9B is a one-byte CSI), and the
#: bidi marks, embeddings, overrides and isolates that reorder text on screen
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def plain(value: object) -> str:
    """`value` as display text without control or bidi characters (line breaks become spaces):
    how every face shows a string that came from a server or an agent (terminal, MCP question)."""
    return _UNSAFE.sub("", str(value).translate(_BREAKS))
