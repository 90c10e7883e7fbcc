"""`venice-keys-mcp`: build the MCP server from operator settings and run it on stdio or HTTP."""

from __future__ import annotations

import ipaddress
import logging
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, InputRequiredResult
from pydantic import ValidationError

from venice_web3_keys import lean_imports
from venice_web3_keys._version import __version__
from venice_web3_keys.errors import ConfigError
from venice_web3_keys.mcp.catalog import BY_NAME
from venice_web3_keys.mcp.config import OperatorConfig, load_config
from venice_web3_keys.mcp.policy import refusal
from venice_web3_keys.mcp.registry import offered_tools
from venice_web3_keys.mcp.runtime import ToolRuntime
from venice_web3_keys.mcp.tools import register_tools
from venice_web3_keys.secret import get_logger

if TYPE_CHECKING:
    from mcp.server.transport_security import TransportSecuritySettings
    from starlette.types import ASGIApp

    from venice_web3_keys.api import AsyncVeniceKeys

log = get_logger("venice_web3_keys.mcp.server")
SERVER_NAME = "venice-web3-keys"


class VeniceKeysMCPServer(MCPServer[Any]):
    """MCPServer that answers a call to a known but unregistered tool with the rule that hid it,
    and audits write calls whose arguments the SDK rejected against the input schema."""

    def __init__(self, runtime: ToolRuntime, offered: list[str], **kwargs: Any) -> None:
        super().__init__(SERVER_NAME, **kwargs)
        self.runtime = runtime
        self.offered = frozenset(offered)

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        spec = BY_NAME.get(name)
        if spec is not None and not spec.read_only:
            try:
                self.runtime.audit.ensure_usable()
            except ConfigError as unusable:
                raise ToolError(f"{name} cannot run: {unusable}. Nothing was done.") from None
        if spec is not None and name not in self.offered:
            if not spec.read_only and not self.runtime.config.allow_writes:
                hidden = refusal("read_only", "This server is read-only: it does not change keys.")
            else:
                hidden = refusal(
                    "tool_allow_list", f"{name} is not on this server's list of allowed tools."
                )
            if not spec.read_only:
                raise self.runtime.refuse(spec, arguments, hidden)
            raise ToolError(str(hidden))
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            # The SDK validates arguments against the input schema before any of our code
            # runs, and reports a failure as a ToolError caused by pydantic's ValidationError
            # (our own code raises ToolError `from None`). Audit such write attempts too.
            cause = exc.__cause__
            if spec is not None and not spec.read_only and isinstance(cause, ValidationError):
                self.runtime.audit_invalid(spec, arguments, cause)
            raise


def _instructions(config: OperatorConfig, tools: list[str]) -> str:
    mode = "read-write" if config.allow_writes else "read-only (set by the operator)"
    text = (
        "Manage Venice.ai API keys for a wallet holding staked VVV on Base. The wallet's private "
        "key and the admin key stay inside this server. New secrets are saved to files on the "
        f"server host, not returned. Mode: {mode}. Tools: {', '.join(tools)}."
    )
    if config.allow_writes:
        text += f" Operator policy: {config.policy.summary()}."
    return text


def build_server(
    config: OperatorConfig,
    *,
    keys_factory: Callable[[], AsyncVeniceKeys] | None = None,
) -> VeniceKeysMCPServer:
    """The server with exactly the tools the operator allows (read-only beats the allow-list)."""
    runtime = ToolRuntime(config, keys_factory)
    offered = [spec.name for spec in offered_tools(config)]
    server = VeniceKeysMCPServer(
        runtime,
        offered,
        instructions=_instructions(config, offered),
        # the package's own version (tests/cli/test_startup.py pins it to the installed one),
        # not the installed metadata: reading that scans every distribution at each start
        version=__version__,
        log_level="WARNING",
    )
    registered = register_tools(server, runtime)
    if registered != offered:  # a catalog tool without a body, or a body outside the catalog
        raise RuntimeError(f"registered {registered}, expected {offered}")
    return server


def host_names(bind: str) -> list[str]:
    """How a client may name the bind address in a Host header (without the port)."""
    text = bind.strip().strip("[]")
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:  # a DNS name: as given, and lower-cased as browsers send it
        names = [text, text.lower()]
        if text.lower() == "localhost":
            names += ["127.0.0.1", "[::1]"]
        return list(dict.fromkeys(names))
    if ip.is_unspecified:  # every interface: loopback names here, others from the operator
        return ["localhost", "127.0.0.1", "[::1]"]
    literal = f"[{ip.compressed}]" if ip.version == 6 else ip.compressed
    if str(ip) in ("127.0.0.1", "::1"):
        return [literal, "localhost"]
    return [literal]


def transport_security(config: OperatorConfig) -> TransportSecuritySettings:
    """The Host / Origin allow-lists, always on: from the bind address and port, plus the
    operator's VENICE_MCP_ALLOWED_HOSTS / VENICE_MCP_ALLOWED_ORIGINS. A DNS-rebound page sends
    its own name as Host and Origin, so it gets 421 / 403 before any tool runs; the SDK's own
    default covers only three exact spellings of loopback."""
    from mcp.server.transport_security import TransportSecuritySettings

    names = host_names(config.host)
    port = config.port
    hosts = [f"{name}:{port}" for name in names] + (names if port == 80 else [])
    origins = [f"http://{host}" for host in hosts]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=list(dict.fromkeys([*hosts, *config.allowed_hosts])),
        allowed_origins=list(dict.fromkeys([*origins, *config.allowed_origins])),
    )


def http_app(server: VeniceKeysMCPServer, config: OperatorConfig) -> ASGIApp:
    """Streamable HTTP app at /mcp: Host/Origin checks, session caps, the bearer gate if set."""
    from venice_web3_keys.mcp.http_auth import BearerTokenMiddleware

    app: ASGIApp = server.streamable_http_app(
        streamable_http_path="/mcp",
        max_sessions=config.max_sessions,
        session_idle_timeout=config.session_idle_timeout,
        transport_security=transport_security(config),
        host=config.host,
    )
    if config.auth_token is not None:
        app = BearerTokenMiddleware(app, config.auth_token)
    return app


def confirmation_warning(config: OperatorConfig) -> str | None:
    """For the operator's log: which write tools may run without a human confirming them."""
    mode = config.confirm_mode
    if not config.allow_writes or mode == "required":
        return None
    writes = [spec.name for spec in offered_tools(config) if not spec.read_only]
    if not writes:
        return None
    if mode == "off":
        return f"confirm=off: {', '.join(writes)} run unconfirmed (no human is ever asked)"
    asked = [name for name in writes if name in config.policy.confirm_tools]
    never = [name for name in writes if name not in asked]
    text = f"writes allowed over {config.transport} with confirm=auto: "
    if asked:
        text += (
            f"{', '.join(asked)} run unconfirmed when the MCP client cannot ask the human "
            "(no elicitation support)"
        )
    if never:
        text += f"{'; ' if asked else ''}{', '.join(never)} run unconfirmed always"
    return text + '. Set confirm = "required" in the policy file to refuse them instead.'


def serve_http(server: VeniceKeysMCPServer, config: OperatorConfig) -> None:
    import uvicorn

    app = http_app(server, config)
    log.warning("serving Streamable HTTP on http://%s:%d/mcp", config.host, config.port)
    uvicorn.run(app, host=config.host, port=config.port, log_level="warning", access_log=False)


def start(argv: Sequence[str] | None = None) -> tuple[VeniceKeysMCPServer, OperatorConfig] | int:
    """Operator settings and the server built from them, or exit code 2 (the reason on stderr)."""
    lean_imports.defer_bls12_381()
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # httpx and web3 log request/endpoint URLs at INFO; an RPC URL may carry a provider key.
    for noisy in ("httpx", "httpcore", "web3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        config = load_config(argv)
        if config.transport == "http":
            config.check_http()
    except ConfigError as exc:
        print(f"venice-keys-mcp: {exc}", file=sys.stderr)
        return 2
    return build_server(config), config


def serve(server: VeniceKeysMCPServer, config: OperatorConfig) -> int:
    """Serve on the configured transport until the client leaves (stdio) or Ctrl-C."""
    warning = confirmation_warning(config)
    if warning:
        log.warning("%s", warning)
    try:
        if config.transport == "http":
            serve_http(server, config)
        else:
            server.run()
    except KeyboardInterrupt:
        pass
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Start and serve (`venice-keys-mcp` itself goes through `mcp/entry.py`)."""
    started = start(argv)
    if isinstance(started, int):
        return started
    return serve(*started)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
