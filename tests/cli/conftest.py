"""Helpers for driving the real `venice-keys` entry point in a subprocess against the sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

BIN = Path(sys.executable).parent / "venice-keys"


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The parent environment minus every setting of ours, plus `extra`."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("VENICE_", "BASE_RPC", "_VENICE"))}
    env["NO_COLOR"] = "1"
    env.update(extra or {})
    return env


Run = Callable[..., Result]


@pytest.fixture
def run(tmp_path: Path) -> Run:
    """run(*args, env={...}, input=None, cwd=tmp_path) -> Result, via the console script."""

    def _run(*args: str, env: Mapping[str, str] | None = None, input: str | None = None,
             cwd: Path | None = None, timeout: float = 60) -> Result:
        proc = subprocess.run([str(BIN), *args], env=clean_env(env), input=input,
                              capture_output=True, text=True, cwd=cwd or tmp_path,
                              timeout=timeout, check=False)
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return _run


@pytest.fixture
def admin_env(venice_sandbox: Any) -> dict[str, str]:
    """Sandbox settings plus a fresh ADMIN key on a fresh account."""
    _account, key = venice_sandbox.emulator.create_account_with_admin_key()
    env = dict(venice_sandbox.env())
    env["VENICE_ADMIN_KEY"] = key.reveal()
    return env


def request_log(sandbox: Any) -> list[Any]:
    """A copy of the emulator's request log (compare two copies: equal means nothing was sent)."""
    return list(sandbox.emulator.requests())


def create_key(run: Run, env: Mapping[str, str], out: Path, *extra: str) -> dict[str, Any]:
    """Create an INFERENCE key through the CLI; return its JSON."""
    res = run("--json", "keys", "create", "--type", "INFERENCE", "--description", "t",
              "--out", str(out), *extra, env=env)
    assert res.code == 0, res.stderr
    data: dict[str, Any] = res.json()
    return data
