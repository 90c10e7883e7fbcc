"""Models: tolerant responses, strict requests, and the one-time secret never kept in clear."""

from __future__ import annotations

import json
import pickle
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.client.helpers import KEY_ID, NEW_SECRET, api_key_json, created_json
from venice_web3_keys.errors import InvalidInputError
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
        assert siwe.variant == "siwe" and siwe.nonce == "ab" and siwe.expires_at == "2099-01-01"
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
