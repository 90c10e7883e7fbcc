"""Pure rendering helpers: relative times read the way a person would say them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from venice_web3_keys.cli.render import limits_text, parse_time, relative, when_text
from venice_web3_keys.models import ApiKey

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("seconds", "text"), [
    (5, "just now"),
    (61, "in 1m"),
    (3590, "in 1h"),
    (7 * 86400 - 1, "in 7d"),       # a key made with --expires 7d, read a second later
    (86400 - 60, "in 1d"),
    (30 * 86400 + 3600, "in 30d"),
    (-7200, "2h ago"),
])
def test_relative_rounds_to_the_nearest_unit(seconds: int, text: str) -> None:
    assert relative(NOW + timedelta(seconds=seconds), now=NOW) == text


def test_invalid_choice_lists_the_api_spelling() -> None:
    """click lower-cases case-insensitive choices in its message; ours shows INFERENCE/ADMIN."""
    import click

    from venice_web3_keys.cli.options import KEY_TYPES, Choice

    choice = Choice(KEY_TYPES)
    assert choice.convert("admin", None, None) == "ADMIN"
    with pytest.raises(click.BadParameter) as info:
        choice.convert("foo", None, None)
    assert info.value.message == "'foo' is not one of 'INFERENCE', 'ADMIN'."


@pytest.mark.parametrize(("expected", "actual", "needle"), [
    (8453, 1, "point it at a Base RPC (chain 8453)"),
    (1, 8453, "VENICE_CHAIN_ID is 1"),
])
def test_wrong_chain_hint_names_the_right_fix(expected: int, actual: int, needle: str) -> None:
    from venice_web3_keys.cli.failures import hint
    from venice_web3_keys.errors import WrongChainError

    text = hint(WrongChainError("x", expected=expected, actual=actual),
                staking_contract="0x321b7ff75154472B18EDb199033fF4D116F340Ff",
                api_base="http://127.0.0.1:1/api/v1")
    assert text is not None and needle in text


def test_renderers_take_the_typed_values() -> None:
    """A key's timestamps (aware datetimes) and caps (Decimals) render as their strings did."""
    key = ApiKey.model_validate({
        "id": "e28e82dc-9df2-4b47-b726-d0a222ef2ab5", "apiKeyType": "INFERENCE",
        "expiresAt": "2099-12-31T23:59:00.000Z", "createdAt": "2026-01-01",
        "consumptionLimits": {"usd": 0.1, "diem": 25}})
    assert parse_time(key.expires_at) == parse_time("2099-12-31T23:59:00.000Z") == datetime(
        2099, 12, 31, 23, 59, tzinfo=UTC)
    assert when_text(key.expires_at).endswith("(2099-12-31 23:59 UTC)")
    assert when_text(key.expires_at) == when_text("2099-12-31T23:59:00.000Z")
    assert when_text(key.last_used_at, empty="never") == "never"
    assert limits_text(key.consumption_limits, "MONTH") == "$0.1 + 25 DIEM / MONTH"
