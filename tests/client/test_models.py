"""Models: tolerant responses, strict requests, and the one-time secret never kept in clear."""

from __future__ import annotations

import json
import logging
import os
import pickle
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.client.helpers import KEY_ID, NEW_SECRET, api_key_json, created_json
from tests.harness import untraced
from venice_web3_keys import models
from venice_web3_keys.errors import InvalidInputError
from venice_web3_keys.flows._result import NewKey
from venice_web3_keys.models import (
    UNSET,
    ApiKey,
    BillingBalance,
    CreatedKey,
    KeySpec,
    KeyUpdate,
    RateLimitLogEntry,
    RateLimits,
    Web3Challenge,
)
from venice_web3_keys.secret import ApiKeySecret
from venice_web3_keys.serialize import to_jsonable


class TestApiKey:
    def test_full_key_with_usage_strings_as_decimal(self) -> None:
        key = ApiKey.model_validate(api_key_json(
            usage={"trailingSevenDays": {"usd": "10.2424", "vcu": "0.0000", "diem": "1.5000"}},
            currentPeriodUsage={"usd": "3.1000", "diem": "0.0000"}))
        assert key.id == KEY_ID and key.api_key_type == "INFERENCE"
        assert key.last6_chars == "abc123"
        assert key.consumption_limits is not None and key.consumption_limits.usd == 50
        assert key.usage is not None and key.usage.trailing_seven_days is not None
        assert key.usage.trailing_seven_days.usd == Decimal("10.2424")
        assert key.current_period_usage is not None
        assert key.current_period_usage.usd == Decimal("3.1000")

    @pytest.mark.parametrize("name", ["consumptionLimits", "consumptionLimit"])
    def test_limits_under_either_name(self, name: str) -> None:
        data = api_key_json()
        del data["consumptionLimits"]
        data[name] = {"usd": None, "diem": 7}
        key = ApiKey.model_validate(data)
        assert key.consumption_limits is not None
        assert key.consumption_limits.diem == 7 and key.consumption_limits.usd is None

    def test_unknown_fields_kept_and_optional_fields_missing(self) -> None:
        key = ApiKey.model_validate({"id": KEY_ID, "apiKeyType": "FUTURE", "newThing": 1})
        assert key.api_key_type == "FUTURE"
        assert key.model_extra == {"newThing": 1}
        assert key.consumption_limits is None and key.usage is None

    def test_non_string_date_artefact_becomes_none(self) -> None:
        assert ApiKey.model_validate(api_key_json(createdAt={})).created_at is None


class TestCreatedKey:
    def test_secret_is_wrapped_and_never_leaks(self) -> None:
        created = CreatedKey.model_validate(created_json(extraField="x"))
        assert isinstance(created.secret, ApiKeySecret)
        assert created.secret.reveal() == NEW_SECRET
        dumps = [repr(created), str(created), json.dumps(created.model_dump()),
                 created.model_dump_json(), json.dumps(created.model_dump(by_alias=True)),
                 repr(created.model_extra), repr(created.__dict__)]
        for text in dumps:
            assert NEW_SECRET not in text
            assert "brandnewsecret" not in text
        assert created.model_extra == {"extraField": "x"}
        assert created.model_dump()["secret"] == f"…{NEW_SECRET[-6:]}"
        with pytest.raises(TypeError):
            pickle.dumps(created)

    def test_missing_id_error_does_not_show_the_secret(self) -> None:
        data = created_json()
        del data["id"]
        with pytest.raises(Exception) as info:
            CreatedKey.model_validate(data)
        assert "brandnewsecret" not in str(info.value)

    def test_web3_echo_with_singular_limit(self) -> None:
        created = CreatedKey.model_validate(created_json(consumptionLimit={"usd": None}))
        assert created.consumption_limit is not None and created.consumption_limit.usd is None


class TestKeySpec:
    def test_minimal_body_sends_only_what_was_set(self) -> None:
        spec = KeySpec(api_key_type="INFERENCE", description="backend")
        assert spec.to_body() == {"apiKeyType": "INFERENCE", "description": "backend"}

    def test_full_body_normalised(self) -> None:
        spec = KeySpec(api_key_type="admin", description="  ops  ", expires_at="2099-12-31",
                       usd_limit="12.5", diem_limit=0, limit_period="month",
                       model_privacy="private_only")
        assert spec.to_body() == {
            "apiKeyType": "ADMIN", "description": "ops", "expiresAt": "2099-12-31",
            "consumptionLimit": {"usd": 12.5, "diem": 0.0}, "limitPeriod": "MONTH",
            "modelPrivacy": "PRIVATE_ONLY"}

    def test_only_diem_never_vcu(self) -> None:
        body = KeySpec(api_key_type="INFERENCE", description="d", diem_limit=3).to_body()
        assert body["consumptionLimit"] == {"diem": 3.0}

    def test_duration_expiry_becomes_venice_form(self) -> None:
        spec = KeySpec(api_key_type="INFERENCE", description="d", expires_at=timedelta(days=2))
        assert spec.expires_at is not None and spec.expires_at.endswith("Z")

    @pytest.mark.parametrize(("kwargs", "field"), [
        ({"api_key_type": "ROOT", "description": "d"}, "api_key_type"),
        ({"api_key_type": "INFERENCE", "description": ""}, "description"),
        ({"api_key_type": "INFERENCE", "description": "x" * 65}, "description"),
        ({"api_key_type": "INFERENCE", "description": "d", "usd_limit": -1}, "usd_limit"),
        ({"api_key_type": "INFERENCE", "description": "d", "diem_limit": 1e11}, "diem_limit"),
        ({"api_key_type": "INFERENCE", "description": "d", "expires_at": "2000-01-01"},
         "expires_at"),
        ({"api_key_type": "INFERENCE", "description": "d", "limit_period": "WEEK"},
         "limit_period"),
        ({"api_key_type": "INFERENCE", "description": "d", "model_privacy": "NONE"},
         "model_privacy"),
        ({"api_key_type": "INFERENCE", "description": "d", "vcu_limit": 1}, "vcu_limit"),
        ({"description": "d"}, "api_key_type"),
    ])
    def test_invalid_input_raises_our_error(self, kwargs: dict[str, object], field: str) -> None:
        with pytest.raises(InvalidInputError) as info:
            KeySpec(**kwargs)
        assert info.value.field == field


class TestKeyUpdate:
    def test_only_set_fields_and_null_removes(self) -> None:
        update = KeyUpdate(id=KEY_ID.upper(), usd_limit=None, expires_at=None)
        assert update.to_body() == {"id": KEY_ID, "expiresAt": None,
                                    "consumptionLimit": {"usd": None}}

    def test_everything(self) -> None:
        body = KeyUpdate(id=KEY_ID, description="new", expires_at="2099-01-02", usd_limit=1,
                         diem_limit=None, limit_period="lifetime", model_privacy="ALL").to_body()
        assert body == {"id": KEY_ID, "description": "new", "expiresAt": "2099-01-02",
                        "consumptionLimit": {"usd": 1.0, "diem": None},
                        "limitPeriod": "LIFETIME", "modelPrivacy": "ALL"}

    def test_unset_is_default_and_falsy(self) -> None:
        update = KeyUpdate(id=KEY_ID, description="x")
        assert update.usd_limit is UNSET and not UNSET and repr(UNSET) == "UNSET"
        assert "consumptionLimit" not in update.to_body()

    def test_nothing_to_change_is_refused(self) -> None:
        with pytest.raises(InvalidInputError, match="nothing to update"):
            KeyUpdate(id=KEY_ID)

    def test_pasted_secret_as_id_is_refused_without_echo(self) -> None:
        with pytest.raises(InvalidInputError) as info:
            KeyUpdate(id=NEW_SECRET, description="x")
        assert NEW_SECRET not in str(info.value)

    def test_limit_period_cannot_be_none(self) -> None:
        with pytest.raises(InvalidInputError):
            KeyUpdate(id=KEY_ID, limit_period=None)

    def test_frozen(self) -> None:
        update = KeyUpdate(id=KEY_ID, description="x")
        with pytest.raises(Exception):  # noqa: B017
            update.description = "y"  # type: ignore[misc]


class TestOthers:
    def test_challenge_variants(self) -> None:
        jwt = Web3Challenge.model_validate({"token": "a.b.c"})
        assert jwt.variant == "jwt" and jwt.signing_text == "a.b.c"
        siwe = Web3Challenge.model_validate(
            {"message": "api.venice.ai wants…", "nonce": "ab", "expiresAt": "2099-01-01"})
        assert siwe.variant == "siwe" and siwe.nonce == "ab"
        assert siwe.expires_at == datetime(2099, 1, 1, tzinfo=UTC)
        with pytest.raises(Exception):  # noqa: B017
            Web3Challenge.model_validate({"something": "else"})

    def test_rate_limits_tolerant(self) -> None:
        rl = RateLimits.model_validate({
            "accessPermitted": True, "apiTier": {"id": "paid", "isCharged": True},
            "balances": {"USD": 50.23, "DIEM": 100.023, "BUNDLED_CREDITS": 1},
            "keyExpiration": None, "nextEpochBegins": "2025-05-07T00:00:00.000Z",
            "rateLimits": [{"apiModelId": "m", "rateLimits": [{"amount": 100, "type": "RPM"}]}]})
        assert rl.access_permitted is True and rl.api_tier and rl.api_tier.is_charged
        assert rl.balances["USD"] == Decimal("50.23")
        assert rl.rate_limits[0].rate_limits[0].type == "RPM"
        assert RateLimits.model_validate({}).balances == {}

    def test_billing_and_log(self) -> None:
        bal = BillingBalance.model_validate({
            "canConsume": True, "consumptionCurrency": "EARNED_CREDITS",
            "balances": {"diem": None, "usd": 25, "bundledCredits": 3.5},
            "diemEpochAllocation": 100})
        assert bal.balances.usd == Decimal(25) and bal.balances.diem is None
        assert bal.balances.bundled_credits == Decimal("3.5")
        entry = RateLimitLogEntry.model_validate({"apiKeyId": KEY_ID, "rateLimitType": "RPM"})
        assert entry.api_key_id == KEY_ID and entry.timestamp is None


class TestTypedValues:
    """Timestamps are aware UTC datetimes, caps exact Decimals; JSON keeps Venice's forms."""

    def test_timestamps_are_aware_utc_datetimes(self) -> None:
        key = ApiKey.model_validate(api_key_json(
            createdAt="2026-01-01T00:00:00.000Z", expiresAt="2026-12-31T23:59:59+02:00",
            lastUsedAt="2026-03-01"))
        assert key.created_at == datetime(2026, 1, 1, tzinfo=UTC)
        assert key.expires_at == datetime(2026, 12, 31, 21, 59, 59, tzinfo=UTC)
        assert key.last_used_at == datetime(2026, 3, 1, tzinfo=UTC)
        for moment in (key.created_at, key.expires_at, key.last_used_at):
            assert moment is not None and moment.utcoffset() == timedelta(0)
        created = CreatedKey.model_validate(created_json(expiresAt="2026-12-31T23:59:59.000Z"))
        assert created.expires_at == datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)
        limits = RateLimits.model_validate({"keyExpiration": "2027-01-01T00:00:00.000Z",
                                            "nextEpochBegins": "2025-05-07T00:00:00.000Z"})
        assert limits.key_expiration == datetime(2027, 1, 1, tzinfo=UTC)
        assert limits.next_epoch_begins == datetime(2025, 5, 7, tzinfo=UTC)
        entry = RateLimitLogEntry.model_validate({"timestamp": "2026-05-01T10:00:00.123Z"})
        assert entry.timestamp == datetime(2026, 5, 1, 10, 0, 0, 123000, tzinfo=UTC)

    @pytest.mark.parametrize("odd", ["yesterday", "2026-13-45T00:00:00Z", "2026-02-30", 12345,
                                     {}, [], True, "9" * 500, "0001-01-01T00:00:00+01:00"])
    def test_an_unreadable_timestamp_is_unknown_not_fatal(
            self, odd: object, caplog: pytest.LogCaptureFixture) -> None:
        """One odd value must not make a whole list unreadable: that key reads None (logged at
        debug level, without the value), the others keep theirs."""
        with caplog.at_level(logging.DEBUG, logger="venice_web3_keys.models"):
            keys = [ApiKey.model_validate(api_key_json(createdAt=odd, lastUsedAt=odd)),
                    ApiKey.model_validate(api_key_json())]
        assert keys[0].created_at is None and keys[0].last_used_at is None
        assert keys[1].created_at == datetime(2026, 1, 1, tzinfo=UTC)
        assert "unreadable timestamp" in caplog.text
        assert "9" * 20 not in caplog.text

    def test_caps_are_exact_decimals(self) -> None:
        key = ApiKey.model_validate(api_key_json(
            consumptionLimits={"usd": 0.1, "diem": 12, "vcu": "3.5"}))
        limits = key.consumption_limits
        assert limits is not None
        assert (limits.usd, limits.diem, limits.vcu) == (
            Decimal("0.1"), Decimal(12), Decimal("3.5"))
        assert all(isinstance(v, Decimal) for v in (limits.usd, limits.diem, limits.vcu))

    def test_json_keeps_venice_forms(self) -> None:
        """CLI --json and MCP results: timestamps `...000Z` strings, caps JSON numbers."""
        key = ApiKey.model_validate(api_key_json(
            expiresAt="2026-12-31T23:59:59+02:00",
            consumptionLimits={"usd": 50, "diem": 0.1, "vcu": None}))
        data = to_jsonable(key)
        assert data["createdAt"] == "2026-01-01T00:00:00.000Z"
        assert data["expiresAt"] == "2026-12-31T21:59:59.000Z"
        assert data["lastUsedAt"] is None
        assert data["consumptionLimits"] == {"usd": 50, "diem": 0.1, "vcu": None}
        assert isinstance(data["consumptionLimits"]["usd"], int)
        assert json.loads(key.model_dump_json(by_alias=True))["createdAt"] == (
            "2026-01-01T00:00:00.000Z")
        new = NewKey.from_created(CreatedKey.model_validate(created_json(
            expiresAt="2026-12-31T23:59:59.000Z")), sink=None)
        public = to_jsonable(new)
        assert public["expiresAt"] == "2026-12-31T23:59:59.000Z"
        assert public["consumptionLimits"] == {"usd": 50, "diem": None}
        assert json.loads(json.dumps(new.to_public_dict())) == public  # JSON-ready as it is

    @pytest.mark.parametrize(("given", "held", "sent"), [
        (Decimal("0.1"), Decimal("0.1"), 0.1), ("12.50", Decimal("12.5"), 12.5),
        (0.1, Decimal("0.1"), 0.1), (7, Decimal(7), 7), (Decimal("1E+3"), Decimal(1000), 1000),
    ])
    def test_caps_sent_as_json_numbers(self, given: Any, held: Decimal, sent: float) -> None:
        spec = KeySpec(api_key_type="INFERENCE", description="d", usd_limit=given)
        assert spec.usd_limit == held and isinstance(spec.usd_limit, Decimal)
        body = spec.to_body()
        assert body["consumptionLimit"] == {"usd": sent}
        assert json.loads(json.dumps(body))["consumptionLimit"]["usd"] == sent
        update = KeyUpdate(id=KEY_ID, diem_limit=given).to_body()
        assert json.dumps(update["consumptionLimit"]) == json.dumps({"diem": sent})


# --------------------------------------------------------------------------- property-based

_WIRE = {"expires_at": "expiresAt", "limit_period": "limitPeriod",
         "model_privacy": "modelPrivacy", "description": "description"}
_OPTIONS = st.fixed_dictionaries({}, optional={
    "expires_at": st.sampled_from(["2099-01-01", "30d", None]),
    "usd_limit": st.one_of(st.none(), st.integers(0, 9_999_999_999)),
    "diem_limit": st.one_of(st.none(), st.floats(0, 1e6, allow_nan=False)),
    "limit_period": st.sampled_from(["EPOCH", "month", None]),
    "model_privacy": st.sampled_from(["ALL", "private_only", None]),
})


@given(_OPTIONS)
def test_spec_body_has_exactly_the_fields_set(options: dict[str, object]) -> None:
    """A create sends only what the caller set: None is "not set" and never becomes null."""
    body = KeySpec(api_key_type="INFERENCE", description="d", **options).to_body()
    expected = {_WIRE[k] for k, v in options.items() if v is not None and k in _WIRE}
    limits = {k.removesuffix("_limit") for k, v in options.items()
              if k.endswith("_limit") and v is not None}
    assert set(body) == {"apiKeyType", "description"} | expected | (
        {"consumptionLimit"} if limits else set())
    assert set(body.get("consumptionLimit", {})) == limits
    assert None not in body.values()


@given(_OPTIONS.filter(bool))
def test_update_body_sends_none_as_null_and_omits_the_rest(options: dict[str, object]) -> None:
    """A PATCH sends every field passed (None = remove) and nothing else."""
    options = {k: v for k, v in options.items()
               if v is not None or k in ("expires_at", "usd_limit", "diem_limit")}
    if not options:
        return
    body = KeyUpdate(id=KEY_ID, **options).to_body()
    limits = {k.removesuffix("_limit"): v for k, v in options.items() if k.endswith("_limit")}
    assert set(body) == {"id"} | {_WIRE[k] for k in options if k in _WIRE} | (
        {"consumptionLimit"} if limits else set())
    for name, value in limits.items():
        assert (body["consumptionLimit"][name] is None) == (value is None)
    if "expires_at" in options:
        assert (body["expiresAt"] is None) == (options["expires_at"] is None)


#: what a fresh interpreter loads of the models package: first the package, then one name
LAZY_PROBE = """\
import json, sys
def loaded():
    return sorted(m for m in sys.modules if m.startswith(("venice_web3_keys.models", "pydantic")))
import venice_web3_keys.models as models
first = loaded()
from venice_web3_keys.models import ApiKey
second = loaded()
print(json.dumps({"first": first, "second": second, "home": ApiKey.__module__}))
"""


def test_a_model_is_built_on_first_use_with_its_own_module_only() -> None:
    """`keys list` pays for the key models, not the other fifteen (models/__init__.py)."""
    out = subprocess.run([sys.executable, "-c", LAZY_PROBE], env=untraced(os.environ),
                         capture_output=True, text=True, check=True, timeout=60).stdout
    seen = json.loads(out)
    assert not [m for m in seen["first"] if m.startswith("pydantic")], seen["first"]
    assert "venice_web3_keys.models" in seen["first"]
    resources = {m.rpartition(".")[2] for m in seen["second"]
                 if m.startswith("venice_web3_keys.models.") and "._" not in m}
    assert resources == {"keys"} and seen["home"] == "venice_web3_keys.models.keys"


def test_every_exported_model_name_resolves_and_an_unknown_one_does_not() -> None:
    assert sorted(dir(models)) == sorted(models.__all__)
    for name in models.__all__:
        value = getattr(models, name)
        assert value is not None, name
        if isinstance(value, type) and name != "UNSET":
            assert value.__module__.startswith("venice_web3_keys."), name
    with pytest.raises(AttributeError, match="no attribute 'ApiKeys'"):
        models.ApiKeys  # type: ignore[attr-defined]  # noqa: B018
    with pytest.raises(ImportError):
        exec("from venice_web3_keys.models import KeyCreate")


#: `pickle.dumps(UNSET, protocol=2)` as written by the version before models/ became a package
UNSET_PICKLED_BEFORE_THE_SPLIT = (b"\x80\x02cvenice_web3_keys.models\n_UnsetEnum\nq\x00"
                                  b"X\x05\x00\x00\x00UNSETq\x01\x85q\x02Rq\x03.")


def test_unset_pickled_by_either_version_loads_as_the_one_singleton() -> None:
    assert pickle.loads(UNSET_PICKLED_BEFORE_THE_SPLIT) is UNSET
    assert pickle.dumps(UNSET, protocol=2) == UNSET_PICKLED_BEFORE_THE_SPLIT
    update = KeyUpdate(id=KEY_ID, description="x")
    again = pickle.loads(pickle.dumps(update))
    assert again == update and again.usd_limit is UNSET
