"""to_jsonable: the one conversion of results to JSON data (CLI --json; MCP results)."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import pytest

from tests.fakes import fake_key
from venice_web3_keys.flows._result import NewKey
from venice_web3_keys.models import ApiKey, ConsumptionLimits
from venice_web3_keys.secret import ApiKeySecret, SecretValue
from venice_web3_keys.serialize import to_jsonable


class Colour(enum.Enum):
    RED = "red"


@dataclass
class Record:
    name: str
    when: datetime
    hidden: str = field(default="not shown", repr=False)


def test_plain_values_and_containers() -> None:
    data = to_jsonable({"amount": Decimal("0E-18"), "big": Decimal("1.50"), "day": date(2026, 1, 2),
                        "at": datetime(2026, 1, 2, 3, 4, tzinfo=UTC), "colour": Colour.RED,
                        "id": UUID(int=1), "path": Path("/tmp/x"), "tuple": (1, 2.5, None),
                        "set": {True}, 3: "int key"})
    assert data == {"amount": "0", "big": "1.5", "day": "2026-01-02",
                    "at": "2026-01-02T03:04:00.000Z", "colour": "red",
                    "id": "00000000-0000-0000-0000-000000000001", "path": "/tmp/x",
                    "tuple": [1, 2.5, None], "set": [True], "3": "int key"}
    json.dumps(data)


def test_models_by_alias_or_by_name() -> None:
    key = ApiKey(id="k", api_key_type="ADMIN", consumption_limits=ConsumptionLimits(usd=5))
    camel = to_jsonable(key)
    assert camel["apiKeyType"] == "ADMIN" and camel["consumptionLimits"]["usd"] == 5
    snake = to_jsonable(key, by_alias=False)
    assert snake["api_key_type"] == "ADMIN" and "apiKeyType" not in snake


def test_secrets_never_survive() -> None:
    raw = fake_key()
    secret = ApiKeySecret(raw)
    new = NewKey(id="k", api_key_type="INFERENCE", description="d", expires_at=None,
                 consumption_limits=None, limit_period=None, model_privacy=None, secret=secret)
    blob = json.dumps(to_jsonable({"new": new, "pw": SecretValue("hunter2"), "secret": secret}))
    assert raw not in blob and "hunter2" not in blob
    assert to_jsonable(new)["last6"] == raw[-6:]  # through to_public_dict()
    assert to_jsonable(Record("r", datetime(2026, 1, 1, tzinfo=UTC))) == {
        "name": "r", "when": "2026-01-01T00:00:00.000Z"}  # repr=False fields are left out


def test_an_unknown_type_is_refused() -> None:
    with pytest.raises(TypeError, match="object has no JSON form"):
        to_jsonable(object())


def test_timestamps_in_venice_form() -> None:
    """An aware datetime reads as Venice writes one (UTC, milliseconds, Z), whatever its zone,
    so JSON output is the same whether a value was parsed or passed through."""
    plus_two = timezone(timedelta(hours=2))
    assert to_jsonable(datetime(2026, 12, 31, 23, 59, 59, 123456, tzinfo=plus_two)) == (
        "2026-12-31T21:59:59.123Z")
    assert to_jsonable(datetime(2026, 1, 1)) == "2026-01-01T00:00:00"  # naive: left as it is
