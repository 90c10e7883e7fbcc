"""Interoperability: the official TypeScript MCP client (MCP Inspector CLI) drives our server.

Our own tests use the Python SDK on both ends; a second, independent client implementation
catches anything that only works because client and server share code.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
INSPECTOR = ROOT / "node_modules" / "@modelcontextprotocol" / "inspector-cli" / "build" / "index.js"
SERVER = ROOT / ".venv" / "bin" / "venice-keys-mcp"


def inspector(tmp_path: Path, env_file: Path, *args: str, writes: bool = False) -> dict[str, Any]:
    """One inspector call; secrets reach the server through its --env-file, never argv."""
    assert INSPECTOR.exists(), "run `npm ci` (./dev setup) to install the MCP Inspector CLI"
    server_args = ["--env-file", str(env_file), *(["--allow-writes"] if writes else [])]
    command = ["node", str(INSPECTOR), str(SERVER), *server_args, *args]
    operator_env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path),
                    "VENICE_MCP_SECRETS_DIR": str(tmp_path / "secrets"),
                    "VENICE_MCP_AUDIT_LOG": str(tmp_path / "audit.jsonl")}
    out = subprocess.run(command, capture_output=True, text=True, timeout=90, cwd=tmp_path,
                         env=operator_env)  # the inspector hands its environment to the server
    assert out.returncode == 0, out.stderr[-2000:]
    result: dict[str, Any] = json.loads(out.stdout)
    return result


@pytest.fixture
def env_file(tmp_path: Path, venice_sandbox: Any, venice_wallet: Any,
             venice_admin_key: Any) -> Path:
    _address, private_key = venice_wallet
    lines = {**venice_sandbox.env(private_key), "VENICE_ADMIN_KEY": venice_admin_key.reveal()}
    path = tmp_path / ".env"
    path.write_text("".join(f"{k}={v}\n" for k, v in lines.items()))
    path.chmod(0o600)
    return path


def test_typescript_client_lists_and_calls_tools(tmp_path: Path, env_file: Path,
                                                venice_wallet: Any,
                                                venice_admin_key: Any) -> None:
    read_only = inspector(tmp_path, env_file, "--method", "tools/list")
    names = {t["name"] for t in read_only["tools"]}
    assert len(names) == 6 and "venice_mint_key" not in names
    assert all(t["annotations"]["readOnlyHint"] is True for t in read_only["tools"])

    status = inspector(tmp_path, env_file, "--method", "tools/call",
                       "--tool-name", "venice_wallet_status")
    assert status["isError"] is False
    assert status["structuredContent"]["address"] == venice_wallet[0]
    assert status["structuredContent"]["eligible"] is True

    writable = inspector(tmp_path, env_file, "--method", "tools/list", writes=True)
    assert len(writable["tools"]) == 12

    minted = inspector(tmp_path, env_file, "--method", "tools/call",
                       "--tool-name", "venice_mint_key",
                       "--tool-arg", "description=interop", "--tool-arg", "usd_limit=5",
                       "--tool-arg", "expires_at=7d", writes=True)
    assert minted["isError"] is False, minted
    result = minted["structuredContent"]
    secret_file = Path(result["secret_file"])
    secret = secret_file.read_text().strip()
    assert secret.endswith(result["last6"]) and (secret_file.stat().st_mode & 0o777) == 0o600
    everything = json.dumps(minted)
    for value in (secret, venice_wallet[1].reveal(), venice_admin_key.reveal()):
        assert value not in everything
