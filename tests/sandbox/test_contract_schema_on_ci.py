"""A test module that needs something missing (tests/sandbox/test_contract_schema.py without
Venice's schema) skips on a developer's machine and fails the run on CI: a contract check must
not be silently skipped where it has to run."""

from __future__ import annotations

import pytest

from tests.harness import skip_module_off_ci


def test_off_ci_the_module_is_skipped_with_the_reason() -> None:
    with pytest.raises(pytest.skip.Exception, match="schema not found") as info:
        skip_module_off_ci("schema not found", environ={})
    assert info.value.allow_module_level


@pytest.mark.parametrize("ci", ["true", "1"])
def test_on_ci_the_run_fails_instead(ci: str) -> None:
    with pytest.raises(pytest.fail.Exception, match=r"schema not found.*CI must run"):
        skip_module_off_ci("schema not found", environ={"CI": ci})


def test_the_schema_tests_use_the_guard() -> None:
    """The module-level check of test_contract_schema.py goes through the guard above."""
    from pathlib import Path

    source = (Path(__file__).parent / "test_contract_schema.py").read_text()
    assert "skip_module_off_ci(" in source and "pytest.skip(" not in source
