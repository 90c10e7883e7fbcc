"""The tolerant base of every response model, and the timestamp and cap types they share."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer
from pydantic.alias_generators import to_camel

from venice_web3_keys import validation
from venice_web3_keys.secret import get_logger
from venice_web3_keys.timeparse import format_datetime

log = get_logger("venice_web3_keys.models")


class ResponseModel(BaseModel):
    """Tolerant base: camelCase on the wire, snake_case in Python, unknown fields kept."""

    model_config = ConfigDict(
        extra="allow", populate_by_name=True, alias_generator=to_camel, frozen=True,
        defer_build=True,
    )


def _timestamp(value: Any) -> datetime | None:
    """A Venice timestamp ("2026-12-31T23:59:59.000Z", an offset, or a bare date) as an aware
    UTC datetime.

    Anything unreadable becomes None (with a debug log) rather than an error: one odd value (the
    spec's generator once emitted `createdAt: {}`) must not make a whole key list unreadable, and
    a field typed `datetime | None` cannot honestly carry a string it could not parse.
    """
    if value is None or value == "":
        return None
    try:
        if isinstance(value, str) and len(value) <= 64:
            text = value.strip()
            if len(text) == 10:
                return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
            value = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
        if isinstance(value, datetime):  # Venice's times are UTC: no offset is read as UTC
            return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        pass
    log.debug("unreadable timestamp from Venice (%s) read as unknown", type(value).__name__)
    return None


Timestamp = Annotated[
    datetime | None,
    BeforeValidator(_timestamp),
    PlainSerializer(format_datetime, when_used="json-unless-none"),
]
"""A response timestamp: an aware UTC datetime, or None (absent, null or unreadable); in JSON,
Venice's own form (`2026-12-31T23:59:59.000Z`)."""


def cap_as_json(value: Decimal | None) -> int | float | None:
    return None if value is None else validation.json_number(value)
