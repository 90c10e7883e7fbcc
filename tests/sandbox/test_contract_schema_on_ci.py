"""Without Venice's schema, tests/sandbox/test_contract_schema.py skips on a developer's machine
and fails the run on CI: a contract check must not be silently skipped where it has to run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCHEMA_TESTS = "tests/sandbox/test_contract_schema.py"


def _pytest_without_the_schema(tmp_path: Path, *, ci: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["VENICE_OPENAPI_SPEC"] = str(tmp_path / "absent.yaml")
    if ci:
        env["CI"] = "true"
    return subprocess.run([sys.executable, "-m", "pytest", SCHEMA_TESTS, "-q", "-p",
                           "no:cacheprovider", "-o", "addopts=-rs"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
                          check=False)


@pytest.mark.parametrize("ci", [False, True], ids=["developer", "ci"])
def test_missing_schema_skips_only_off_ci(tmp_path: Path, ci: bool) -> None:
    proc = _pytest_without_the_schema(tmp_path, ci=ci)
    output = proc.stdout + proc.stderr
    assert "absent.yaml" in output, output
    if ci:
        assert proc.returncode != 0, output
        assert "CI must run them" in output
    else:  # 5: pytest's "no tests ran", as every test of the module skipped
        assert proc.returncode == 5, output
        assert "1 skipped" in output
