"""Operator settings of the MCP server: environment variables and command-line flags only."""

from __future__ import annotations

import argparse
import ipaddress
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from venice_web3_keys.errors import ConfigError
from venice_web3_keys.mcp.policy import ConfirmMode, Policy, load_policy
from venice_web3_keys.secret import SecretValue

MIN_TOKEN_LENGTH = 32
# How long a mint/create/rotate may hold the key-making lock (below the audit log's lock wait).
MAKE_DEADLINE = 90.0
_TRUE = {"1", "true", "yes", "on"}


def _flag(environ: Mapping[str, str], name: str) -> bool:
    return environ.get(name, "").strip().lower() in _TRUE


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (127.0.0.0/8, ::1)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class OperatorConfig:
    """Everything the operator decides; nothing here is reachable from a tool argument."""

    allow_writes: bool = False
    policy: Policy = field(default_factory=Policy)
    secrets_dir: Path = field(default_factory=lambda: Path("~/.venice-keys/secrets").expanduser())
    reveal_secrets: bool = False
    audit_log: Path = field(
        default_factory=lambda: Path("~/.venice-keys/mcp-audit.jsonl").expanduser()
    )
    env_file: Path | None = None
    transport: str = "stdio"
    host: str = "127.0.0.1"
    port: int = 8000
    auth_token: SecretValue | None = None
    max_sessions: int = 16
    session_idle_timeout: float = 900.0
    allowed_hosts: tuple[str, ...] = ()  # Host headers served beyond the bind address's own
    allowed_origins: tuple[str, ...] = ()  # Origin headers likewise
    make_deadline: float = MAKE_DEADLINE

    @property
    def confirm_mode(self) -> ConfirmMode:
        """The policy's `confirm`, else: a human must confirm over HTTP, may over stdio."""
        if self.policy.confirm is not None:
            return self.policy.confirm
        return "required" if self.transport == "http" else "auto"

    def check_http(self) -> None:
        """Refuse unsafe HTTP set-ups before binding: short token; off-loopback without a token."""
        if self.auth_token is not None and len(self.auth_token) < MIN_TOKEN_LENGTH:
            raise ConfigError(
                f"VENICE_MCP_AUTH_TOKEN must be at least {MIN_TOKEN_LENGTH} characters; "
                "refusing to start"
            )
        if not is_loopback(self.host) and self.auth_token is None:
            raise ConfigError(
                f"refusing to listen on {self.host} (not loopback) without VENICE_MCP_AUTH_TOKEN"
            )


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="venice-keys-mcp",
        description="MCP server for Venice.ai API keys (stdio by default). "
        "Secrets and settings come from the environment, never from arguments.",
    )
    p.add_argument(
        "--http", action="store_true", help="serve Streamable HTTP at /mcp instead of stdio"
    )
    p.add_argument("--host", default=None, help="HTTP bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="HTTP port (default 8000)")
    p.add_argument(
        "--allow-writes",
        action="store_true",
        help="register the tools that mint, create, update, revoke and rotate keys",
    )
    p.add_argument("--policy", default=None, metavar="FILE", help="policy file (JSON or TOML)")
    p.add_argument(
        "--env-file", default=None, metavar="PATH", help=".env file with Venice settings"
    )
    return p


def load_config(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None
) -> OperatorConfig:
    """Combine flags and environment into the operator config (flags only switch things on)."""
    env = os.environ if environ is None else environ
    args = build_parser().parse_args(argv)
    policy_path = args.policy or env.get("VENICE_MCP_POLICY") or None
    token_raw = env.get("VENICE_MCP_AUTH_TOKEN")
    try:
        port = args.port if args.port is not None else 8000
        max_sessions = int(env.get("VENICE_MCP_MAX_SESSIONS", "16"))
        idle = float(env.get("VENICE_MCP_SESSION_TTL", "900"))
        make_deadline = float(env.get("VENICE_MCP_MAKE_DEADLINE", str(MAKE_DEADLINE)))
    except ValueError:
        raise ConfigError(
            "VENICE_MCP_MAX_SESSIONS / VENICE_MCP_SESSION_TTL / VENICE_MCP_MAKE_DEADLINE must "
            "be numbers"
        ) from None
    if not 0 <= port <= 65535 or max_sessions < 1 or idle <= 0 or make_deadline <= 0:
        raise ConfigError(
            "port, VENICE_MCP_MAX_SESSIONS, VENICE_MCP_SESSION_TTL or VENICE_MCP_MAKE_DEADLINE "
            "out of range"
        )
    home = Path(env.get("HOME") or Path.home())
    secrets_dir = env.get("VENICE_MCP_SECRETS_DIR") or str(home / ".venice-keys" / "secrets")
    audit = env.get("VENICE_MCP_AUDIT_LOG") or str(home / ".venice-keys" / "mcp-audit.jsonl")
    return OperatorConfig(
        allow_writes=args.allow_writes or _flag(env, "VENICE_MCP_ALLOW_WRITES"),
        policy=load_policy(policy_path),
        secrets_dir=Path(secrets_dir).expanduser(),
        reveal_secrets=_flag(env, "VENICE_MCP_REVEAL_SECRETS"),
        audit_log=Path(audit).expanduser(),
        env_file=Path(args.env_file) if args.env_file else None,
        transport="http" if args.http else "stdio",
        host=args.host or "127.0.0.1",
        port=port,
        auth_token=SecretValue(token_raw) if token_raw else None,
        max_sessions=max_sessions,
        session_idle_timeout=idle,
        allowed_hosts=_listed(env, "VENICE_MCP_ALLOWED_HOSTS"),
        allowed_origins=_listed(env, "VENICE_MCP_ALLOWED_ORIGINS"),
        make_deadline=make_deadline,
    )


def _listed(environ: Mapping[str, str], name: str) -> tuple[str, ...]:
    """A comma-separated operator list of Host values (host:port) or origins (scheme://host)."""
    entries = [v.strip() for v in environ.get(name, "").split(",") if v.strip()]
    for entry in entries:
        bare = entry.split("://", 1)[-1]
        if not bare or any(c.isspace() or c in "/\\@" for c in bare):
            raise ConfigError(f"{name}: not a host[:port] or an origin: {entry!r}")
    return tuple(entries)
