"""Helpers for the CLI tests; the runner (`cli`) and the accounts come from tests/conftest.py."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.harness import CliRunner

if TYPE_CHECKING:
    from venice_web3_keys.sandbox.emulator.state import RecordedRequest
    from venice_web3_keys.sandbox.runner import Sandbox


def request_log(sandbox: Sandbox) -> list[RecordedRequest]:
    """A copy of the emulator's request log (compare two copies: equal means nothing was sent)."""
    return list(sandbox.emulator.requests())


def create_key(cli: CliRunner, env: Mapping[str, str], out: Path, *extra: str) -> dict[str, Any]:
    """Create an INFERENCE key through the CLI; return its JSON."""
    res = cli("--json", "keys", "create", "--type", "INFERENCE", "--description", "t",
              "--out", str(out), *extra, env=env)
    assert res.code == 0, res.stderr
    return res.json()
