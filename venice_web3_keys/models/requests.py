"""What we send: strict, validated locally before any request (Venice answers an unknown or
unexpected field with a 400), and emitting only what the caller set."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError
from pydantic.alias_generators import to_camel

from venice_web3_keys import validation
from venice_web3_keys.errors import InvalidInputError
from venice_web3_keys.models._response import cap_as_json
from venice_web3_keys.models._unset import UNSET, Unset
from venice_web3_keys.timeparse import parse_expires
from venice_web3_keys.validation import ApiKeyType, LimitPeriod, ModelPrivacy

__all__ = ["KeySpec", "KeyUpdate"]


class _Request(BaseModel):
    """Strict base: unknown fields are an error, and any failure surfaces as InvalidInputError."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    if not TYPE_CHECKING:  # mypy keeps the plugin's typed __init__; runtime converts errors

        def __init__(self, **data: Any) -> None:
            try:
                super().__init__(**data)
            except PydanticValidationError as exc:
                raise _as_invalid_input(exc) from None


def _as_invalid_input(exc: PydanticValidationError) -> InvalidInputError:
    """Re-raise our own validator's InvalidInputError, or describe pydantic's without inputs."""
    errors = exc.errors(include_url=False, include_input=False)
    for err in errors:
        original = (err.get("ctx") or {}).get("error")
        if isinstance(original, InvalidInputError):
            return original
    first = errors[0]
    field = ".".join(str(p) for p in first["loc"]) or None
    if first["type"] == "extra_forbidden":
        return InvalidInputError(f"unknown field {field!r}", field=field)
    return InvalidInputError(f"{field or 'request'}: {first['msg']}", field=field)


def _limit_validator(field: str) -> Any:
    def check(value: Any) -> Any:
        return value if value is UNSET else validation.validate_limit(value, field)

    return check


def _expires(value: Any) -> Any:
    if value is UNSET or value is None:
        return value
    if isinstance(value, str | datetime | date | timedelta):
        return parse_expires(value)
    raise InvalidInputError("expires_at must be a date, a datetime, a duration or a string",
                            field="expires_at")


def _description(value: Any) -> Any:
    return value if value is UNSET else validation.validate_description(value)


def _enum(kind: str) -> Any:
    def check(value: Any) -> Any:
        if value is UNSET or value is None:
            return value
        if not isinstance(value, str):
            raise InvalidInputError(f"{kind} must be a string", field=kind)
        return getattr(validation, f"validate_{kind}")(value)

    return check


class _KeyFields(_Request):
    """The field rules KeySpec and KeyUpdate share, and their one camelCase body builder."""

    _v_desc = field_validator("description", mode="before", check_fields=False)(_description)
    _v_exp = field_validator("expires_at", mode="before", check_fields=False)(_expires)
    _v_usd = field_validator("usd_limit", mode="before", check_fields=False)(
        _limit_validator("usd_limit"))
    _v_diem = field_validator("diem_limit", mode="before", check_fields=False)(
        _limit_validator("diem_limit"))
    _v_period = field_validator("limit_period", mode="before", check_fields=False)(
        _enum("limit_period"))
    _v_privacy = field_validator("model_privacy", mode="before", check_fields=False)(
        _enum("model_privacy"))

    def _body(self, *, omit: Unset | None) -> dict[str, Any]:
        """Every field under its wire name, except those that are `omit` (None on create) or UNSET.

        Limits nest under `consumptionLimit` with only `usd` / `diem` (`vcu` is deprecated and
        never sent).
        """
        body: dict[str, Any] = {}
        limits: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if value is omit or value is UNSET:
                continue
            if name in ("usd_limit", "diem_limit"):
                limits[name.removesuffix("_limit")] = cap_as_json(value)
            else:
                body[to_camel(name)] = value
        if limits:
            body["consumptionLimit"] = limits
        return body


class KeySpec(_KeyFields):
    """What a new key should look like (create or mint). Validated on construction."""

    api_key_type: ApiKeyType
    description: str
    expires_at: str | None = None
    usd_limit: Decimal | None = None
    diem_limit: Decimal | None = None
    limit_period: LimitPeriod | None = None
    model_privacy: ModelPrivacy | None = None

    _v_type = field_validator("api_key_type", mode="before")(_enum("api_key_type"))

    def to_body(self) -> dict[str, Any]:
        """The JSON body for POST /api_keys (and the key part of a web3 mint); None is omitted."""
        return self._body(omit=None)


class KeyUpdate(_KeyFields):
    """A PATCH: UNSET fields are left alone; None on a limit or expiry removes it."""

    id: str
    description: str | Unset = UNSET
    expires_at: str | Unset | None = UNSET
    usd_limit: Decimal | Unset | None = UNSET
    diem_limit: Decimal | Unset | None = UNSET
    limit_period: LimitPeriod | Unset = UNSET
    model_privacy: ModelPrivacy | Unset = UNSET

    _v_id = field_validator("id", mode="before")(validation.validate_key_id)

    @model_validator(mode="after")
    def _something_to_change(self) -> KeyUpdate:
        validation.update_changes({name: getattr(self, name) for name in type(self).model_fields
                                   if name != "id" and getattr(self, name) is not UNSET})
        return self

    def to_body(self) -> dict[str, Any]:
        """The JSON body for PATCH /api_keys; None becomes JSON null (= remove)."""
        return self._body(omit=UNSET)
