"""Friendly expiry input ("2026-12-31", ISO with any offset, "30d") -> a string Venice accepts.

Venice takes only `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SS(.mmm)?Z` (UTC, exactly 3 fraction digits), so
every other form is converted here rather than rejected by the server after a round trip.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from .errors import InvalidInputError

FIELD = "expires_at"
#: the shortest lifetime a new expiry may give a key: anything shorter is almost surely a typo
#: (`30m` meant as a month) and would leave a key that dies before it is deployed
MIN_LIFETIME = timedelta(hours=1)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DURATION = re.compile(r"(\d{1,9})\s*([hdw])", re.IGNORECASE)
_MINUTES = re.compile(r"\d{1,9}\s*(m|mins?|minutes?)", re.IGNORECASE)
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}
HELP = (
    "use YYYY-MM-DD, an ISO 8601 datetime with Z or an offset (e.g. 2026-12-31T23:59:59+02:00), "
    "or a duration from now such as 12h, 30d, 4w"
)


def _error(message: str) -> InvalidInputError:
    return InvalidInputError(f"invalid expiry: {message}", field=FIELD)


def format_datetime(moment: datetime) -> str:
    """UTC `YYYY-MM-DDTHH:MM:SS.mmmZ`, truncating sub-millisecond digits."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def utc_now(now: datetime | None = None) -> datetime:
    """`now` (which must be timezone-aware) in UTC, or the current time: the one clock seam."""
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(UTC)


def _check_lifetime(moment: datetime, current: datetime) -> None:
    """A key must live at least MIN_LIFETIME from now (`moment` as sent, millisecond-truncated)."""
    now = datetime.fromisoformat(format_datetime(current))  # the same truncation as `moment`
    if moment <= now:
        raise _error("that time is in the past")
    if moment - now < MIN_LIFETIME:
        raise _error("a key must live at least an hour; use e.g. 12h, 30d, 4w or a date")


def _from_date(day: date, current: datetime) -> str:
    # Venice reads a bare date as 00:00 UTC of that day, so today's date has already passed.
    if day <= current.date():
        raise _error(f"{day.isoformat()} is not in the future (a date means 00:00 UTC that day)")
    _check_lifetime(datetime(day.year, day.month, day.day, tzinfo=UTC), current)
    return day.isoformat()


def _from_datetime(moment: datetime, current: datetime) -> str:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise _error("a datetime needs Z or a UTC offset, e.g. 2026-12-31T23:59:59Z")
    # Check the millisecond-truncated value: that is what is sent.
    text = format_datetime(moment)
    _check_lifetime(datetime.fromisoformat(text), current)
    return text


def _from_delta(delta: timedelta, current: datetime) -> str:
    if delta <= timedelta(0):
        raise _error("a duration must be positive")
    try:
        moment = current + delta
    except OverflowError:
        raise _error("that duration is too long") from None
    return _from_datetime(moment, current)


def parse_expires(
    when: str | datetime | date | timedelta, *, now: datetime | None = None
) -> str:
    """Normalise `when` to a future Venice `expiresAt` string, or raise InvalidInputError."""
    current = utc_now(now)
    if isinstance(when, datetime):
        return _from_datetime(when, current)
    if isinstance(when, date):
        return _from_date(when, current)
    if isinstance(when, timedelta):
        return _from_delta(when, current)
    if not isinstance(when, str):
        raise _error(f"expected a string, date, datetime or timedelta; {HELP}")
    text = when.strip()
    if not text:
        raise _error(f"empty; {HELP}")
    if len(text) > 64:
        raise _error(f"not recognised; {HELP}")
    if _DATE.fullmatch(text):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise _error(f"{text!r} is not a real calendar date") from None
        return _from_date(day, current)
    if _MINUTES.fullmatch(text):
        raise _error(f"{text!r}: minutes are not a key lifetime (a key must live at least an "
                     "hour); use hours or more, e.g. 12h, 30d, 4w, or a date such as 2026-12-31")
    match = _DURATION.fullmatch(text)
    if match:
        amount, unit = int(match.group(1)), match.group(2).lower()
        try:
            delta = timedelta(**{_UNITS[unit]: amount})
        except OverflowError:
            raise _error("that duration is too long") from None
        return _from_delta(delta, current)
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ][0-9:.,+\-Zz]+", text):
        raise _error(f"not recognised; {HELP}")  # not echoed: it could be anything pasted
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise _error(f"{text!r} is not a valid ISO 8601 datetime; {HELP}") from None
    return _from_datetime(moment, current)
