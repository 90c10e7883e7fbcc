"""`venice-keys-mcp`: build the MCP server from operator settings and run it on stdio or HTTP."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, InputRequiredResult
from pydantic import ValidationError

from venice_web3_keys.errors import ConfigError
from venice_web3_keys.mcp.catalog import BY_NAME
from venice_web3_keys.mcp.config import OperatorConfig, is_loopback, load_config
from venice_web3_keys.mcp.policy import refusal
from venice_web3_keys.mcp.registry import offered_tools
from venice_web3_keys.mcp.runtime import ToolRuntime
from venice_web3_keys.mcp.tools import register_tools

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from venice_web3_keys.api import AsyncVeniceKeys

log = logging.getLogger("venice_web3_keys.mcp.server")
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
        if spec is not None and name not in self.offered:
            if not spec.read_only and not self.runtime.config.allow_writes:
                exc = refusal("read_only", "This server is read-only: it does not change keys.")
            else:
                exc = refusal(
                    "tool_allow_list", f"{name} is not on this server's list of allowed tools."
                )
            if not spec.read_only:
                raise self.runtime.refuse(spec, arguments, exc)
            raise ToolError(str(exc))
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
        version=_version(),
        log_level="WARNING",
    )
    registered = register_tools(server, runtime)
    if registered != offered:  # a catalog tool without a body, or a body outside the catalog
        raise RuntimeError(f"registered {registered}, expected {offered}")
    return server


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("venice-web3-keys")
    except PackageNotFoundError:  # running from a checkout without install
        return "0"


def http_app(server: VeniceKeysMCPServer, config: OperatorConfig) -> ASGIApp:
    """Streamable HTTP app at /mcp: session caps, plus the bearer gate when a token is set."""
    from mcp.server.transport_security import TransportSecuritySettings

    from venice_web3_keys.mcp.http_auth import BearerTokenMiddleware

    security = None
    if not is_loopback(config.host):
        # Off loopback the bearer token is the gate; the Host/Origin allow-list is for localhost.
        security = TransportSecuritySettings(enable_dns_rebinding_protection=False)
    app: ASGIApp = server.streamable_http_app(
        streamable_http_path="/mcp",
        max_sessions=config.max_sessions,
        session_idle_timeout=config.session_idle_timeout,
        transport_security=security,
        host=config.host,
    )
    if config.auth_token is not None:
        app = BearerTokenMiddleware(app, config.auth_token)
    return app


def serve_http(server: VeniceKeysMCPServer, config: OperatorConfig) -> None:
    import uvicorn

    app = http_app(server, config)
    log.warning("serving Streamable HTTP on http://%s:%d/mcp", config.host, config.port)
    uvicorn.run(app, host=config.host, port=config.port, log_level="warning", access_log=False)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `venice-keys-mcp` and `python mcp_server.py`."""
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
    server = build_server(config)
    try:
        if config.transport == "http":
            serve_http(server, config)
        else:
            server.run()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
