"""The local redis-server (sandbox/redis_server.py) and the suite's policy when it is missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from venice_web3_keys.errors import ConfigError
from venice_web3_keys.sandbox.redis_server import LocalRedis, find_redis_server

REPO = Path(__file__).resolve().parents[2]
ONE_REDIS_TEST = ("tests/core/test_budget.py::"
                  "test_redis_budget_is_one_budget_for_separate_connections")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(
        f"/proc/{pid}/status").read_text().lower()


def test_local_redis_answers_and_is_stopped_by_pid(redis_server: Any, tmp_path: Path) -> None:
    assert find_redis_server() is not None  # the session fixture found one
    with LocalRedis.start(workdir=tmp_path) as local:
        assert local.url(2) == f"redis://127.0.0.1:{local.port}/2"
        assert _alive(local.pid)
    assert not _alive(local.pid)


def test_a_missing_binary_is_a_config_error_naming_the_package(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VENICE_REDIS_SERVER_BIN", "/nonexistent/redis-server")
    assert find_redis_server() is None
    with pytest.raises(ConfigError, match="apt-get install redis-server"):
        LocalRedis.start()


def _pytest_without_redis(ci: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["VENICE_REDIS_SERVER_BIN"] = "/nonexistent/redis-server"
    if ci is not None:
        env["CI"] = ci
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rs",
                           "--no-cov", ONE_REDIS_TEST], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)


def test_without_redis_a_developer_gets_a_skip_and_one_loud_line() -> None:
    run = _pytest_without_redis(None)
    assert run.returncode == 0, run.stdout
    assert "1 skipped" in run.stdout
    loud = [line for line in run.stdout.splitlines() if line.startswith("!!! redis-server")]
    assert len(loud) == 1 and "apt-get install redis-server" in loud[0]


def test_without_redis_ci_fails_instead_of_skipping() -> None:
    run = _pytest_without_redis("true")
    assert run.returncode != 0, run.stdout
    assert "CI=true but redis-server is missing" in run.stdout
    assert "skipped" not in run.stdout.splitlines()[-1]
