from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from venice_web3_keys.errors import InvalidInputError
from venice_web3_keys.timeparse import parse_expires

NOW = datetime(2026, 3, 10, 12, 0, 0, tzinfo=UTC)
VENICE_FORMS = re.compile(r"\d{4}-\d{2}-\d{2}|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


@pytest.mark.parametrize(("when", "expected"), [
    ("2026-12-31", "2026-12-31"),
    ("2026-03-11", "2026-03-11"),
    ("2026-12-31T23:59:59Z", "2026-12-31T23:59:59.000Z"),
    ("2026-12-31T23:59:59.5Z", "2026-12-31T23:59:59.500Z"),
    ("2026-12-31T23:59:59.123456Z", "2026-12-31T23:59:59.123Z"),
    ("2026-12-31T23:59:59+02:00", "2026-12-31T21:59:59.000Z"),
    ("2026-12-31T20:00:00-05:30", "2027-01-01T01:30:00.000Z"),
    ("2026-12-31 10:00:00z", "2026-12-31T10:00:00.000Z"),
    ("12h", "2026-03-11T00:00:00.000Z"),
    ("30d", "2026-04-09T12:00:00.000Z"),
    ("6w", "2026-04-21T12:00:00.000Z"),
    ("1h", "2026-03-10T13:00:00.000Z"),
    (" 2D ", "2026-03-12T12:00:00.000Z"),
    (date(2027, 1, 1), "2027-01-01"),
    (datetime(2026, 5, 1, 8, 0, tzinfo=timezone(timedelta(hours=-3))),
     "2026-05-01T11:00:00.000Z"),
    (timedelta(days=1), "2026-03-11T12:00:00.000Z"),
])
def test_accepted_forms(when: object, expected: str) -> None:
    assert parse_expires(when, now=NOW) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("when", [
    "2026-03-10",            # today: 00:00 UTC already passed
    "2020-01-01",
    "2026-03-10T11:59:59Z",
    "2026-03-10T12:00:00Z",  # exactly now is not the future
    "2026-03-10T13:00:00+02:00",
    "0m", "0d", "-5d", "5y", "5", "d", "tomorrow", "", "   ",
    "90m", "1m", "5 min", "30mins", "2minutes",  # minutes are not a key lifetime
    "2026-03-10T12:59:59Z", timedelta(minutes=59),  # under an hour
    "2026-12-31T23:59:59",   # naive
    "2026-02-30", "2026-13-01", "2026-12-31T25:00:00Z",
    "99999999999w",
    datetime(2027, 1, 1),    # naive
    timedelta(0), timedelta(seconds=-1),
    date(2026, 3, 9),
    12345, None,
])
def test_rejected(when: object) -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_expires(when, now=NOW)  # type: ignore[arg-type]
    assert info.value.field == "expires_at"


@pytest.mark.parametrize("when", ["1m", "90 min", "30minutes"])
def test_minutes_are_refused_with_a_hint(when: str) -> None:
    with pytest.raises(InvalidInputError, match="minutes are not a key lifetime") as info:
        parse_expires(when, now=NOW)
    assert "30d" in str(info.value) and "a date" in str(info.value)


def test_a_lifetime_under_an_hour_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="at least an hour"):
        parse_expires("2026-03-10T12:30:00Z", now=NOW)
    with pytest.raises(InvalidInputError, match="at least an hour"):
        parse_expires("2026-03-11", now=datetime(2026, 3, 10, 23, 30, tzinfo=UTC))
    assert parse_expires("2026-03-10T13:00:00Z", now=NOW) == "2026-03-10T13:00:00.000Z"


def test_unrecognised_input_not_echoed() -> None:
    pasted = "0x" + "ab" * 32
    with pytest.raises(InvalidInputError) as info:
        parse_expires(pasted, now=NOW)
    assert pasted not in str(info.value)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(9000, 1, 1),
                    timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=45)),
                                               timezone(timedelta(hours=-11))])))
def test_datetime_roundtrip_property(moment: datetime) -> None:
    text = moment.isoformat()
    truncated = moment.astimezone(UTC).replace(microsecond=moment.microsecond // 1000 * 1000)
    if truncated < NOW + timedelta(hours=1):
        with pytest.raises(InvalidInputError):
            parse_expires(text, now=NOW)
        return
    out = parse_expires(text, now=NOW)
    assert VENICE_FORMS.fullmatch(out)
    assert datetime.fromisoformat(out) == truncated


@given(st.integers(min_value=1, max_value=100_000), st.sampled_from("hdw"))
def test_duration_property(amount: int, unit: str) -> None:
    out = parse_expires(f"{amount}{unit}", now=NOW)
    seconds = {"h": 3600, "d": 86400, "w": 604800}[unit] * amount
    assert datetime.fromisoformat(out) == NOW + timedelta(seconds=seconds)


def test_default_now_is_real_clock() -> None:
    out = parse_expires("1h")
    delta = datetime.fromisoformat(out) - datetime.now(UTC)
    assert timedelta(minutes=59) < delta <= timedelta(hours=1)
