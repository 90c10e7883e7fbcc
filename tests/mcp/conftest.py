"""Fixtures for the MCP server tests: operator configs over an `account` (tests/conftest.py),
and one way to open a real `mcp.Client` on each transport (in-process, stdio subprocess,
Streamable HTTP subprocess)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

from tests.harness import SandboxAccount
from venice_web3_keys.mcp.config import load_config

REPO = Path(__file__).resolve().parents[2]
LAUNCHER = REPO / "mcp_server.py"
TOKEN = "t" * 20 + "-canary-token-0123456789"  # 44 chars


@dataclass
class Operator:
    """The operator's side of one server: env, flags, and where it writes."""

    home: Path
    account: SandboxAccount
    flags: list[str] = field(default_factory=list)
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def secrets_dir(self) -> Path:
        return self.home / "secrets"

    @property
    def audit_path(self) -> Path:
        return self.home / "audit.jsonl"

    def env(self) -> dict[str, str]:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(self.home),
            "VENICE_MCP_SECRETS_DIR": str(self.secrets_dir),
            "VENICE_MCP_AUDIT_LOG": str(self.audit_path),
            **self.account.env,
            **self.extra_env,
        }
        return env

    def policy(self, data: dict[str, Any], name: str = "policy.json") -> None:
        path = self.home / name
        path.write_text(json.dumps(data) if name.endswith(".json") else str(data["_toml"]))
        self.flags += ["--policy", str(path)]

    def audit_lines(self) -> list[dict[str, Any]]:
        if not self.audit_path.exists():
            return []
        return [json.loads(line) for line in self.audit_path.read_text().splitlines()]


def new_account(venice_sandbox: Any) -> SandboxAccount:
    """A second fresh sandbox wallet (1 ETH, 100 sVVV) with its account's ADMIN key."""
    address, private_key = venice_sandbox.new_wallet()
    _, admin = venice_sandbox.emulator.create_account_with_admin_key(address)
    env = venice_sandbox.env(private_key)
    env["VENICE_ADMIN_KEY"] = admin.reveal()
    return SandboxAccount(venice_sandbox, address, private_key, admin, env)


@pytest.fixture
def operator(tmp_path: Path, account: SandboxAccount) -> Operator:
    return Operator(home=tmp_path, account=account)


def shared_cap_operators(root: Path, account: SandboxAccount, redis_url: str, cap: int,
                         *hosts: str) -> list[Operator]:
    """Write-enabled operators of one account, one home per host (no shared audit log), whose
    servers share the hourly cap `cap` through the Redis at `redis_url`."""
    operators = []
    for host in hosts:
        op = Operator(home=root / host, account=account,
                      extra_env={"VENICE_BUDGET_URL": redis_url})
        op.home.mkdir()
        op.flags.append("--allow-writes")
        op.policy({"max_keys_per_hour": cap})
        operators.append(op)
    return operators


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Running:
    """An open client plus what the server printed on stderr (subprocess transports)."""

    client: Client
    stderr_path: Path | None = None

    def stderr(self) -> str:
        return (
            self.stderr_path.read_text() if self.stderr_path and self.stderr_path.exists() else ""
        )


@asynccontextmanager
async def open_client(
    transport: str, op: Operator, *, elicitation_callback: Any = None, token: str | None = None
) -> AsyncIterator[Running]:
    """A real `mcp.Client` connected to a server configured like `op`, over `transport`."""
    if transport == "inproc":
        from venice_web3_keys.api import AsyncVeniceKeys
        from venice_web3_keys.mcp.server import build_server
        from venice_web3_keys.settings import load_settings

        env = op.env()
        config = load_config(op.flags, env)
        server = build_server(
            config, keys_factory=lambda: AsyncVeniceKeys(load_settings(environ=env))
        )
        async with Client(server, elicitation_callback=elicitation_callback) as client:
            try:
                yield Running(client)
            finally:
                await server.runtime.aclose()
        return
    stderr_path = op.home / f"stderr-{transport}-{time.monotonic_ns()}.log"
    if transport == "stdio":
        params = StdioServerParameters(
            command=sys.executable, args=[str(LAUNCHER), *op.flags], env=op.env(), cwd=str(op.home)
        )
        with stderr_path.open("w") as errlog:
            from mcp.client.stdio import stdio_client

            async with Client(
                stdio_client(params, errlog=errlog), elicitation_callback=elicitation_callback
            ) as client:
                yield Running(client, stderr_path)
        return
    assert transport == "http"
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    with http_server(op, stderr_path) as url:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with httpx2.AsyncClient(headers=headers, timeout=30) as http:
            transport_cm = streamable_http_client(url, http_client=http)
            async with Client(transport_cm, elicitation_callback=elicitation_callback) as client:
                yield Running(client, stderr_path)


@contextmanager
def http_server(
    op: Operator,
    stderr_path: Path,
    *,
    port: int | None = None,
    host: str = "127.0.0.1",
    connect: str = "127.0.0.1",
) -> Iterator[str]:
    """`python mcp_server.py --http --host HOST` on a free port; yields the /mcp URL by the
    address a client connects to (`connect`: how HOST resolves)."""
    port = port or free_port()
    with stderr_path.open("w") as errlog:
        proc = subprocess.Popen(
            [sys.executable, str(LAUNCHER), "--http", "--host", host, "--port", str(port),
             *op.flags],
            env=op.env(),
            cwd=str(op.home),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=errlog,
        )
        try:
            wait_for_port(connect, port, proc)
            netloc = f"[{connect}]" if ":" in connect else connect
            yield f"http://{netloc}:{port}/mcp"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_for_port(
    address: str, port: int, proc: subprocess.Popen[bytes], timeout: float = 30
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early with {proc.returncode}")
        try:
            socket.create_connection((address, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not start listening")
