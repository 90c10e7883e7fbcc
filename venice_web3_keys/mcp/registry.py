"""Which catalog tools a server offers, and their registration with the operator's texts.

A tool is offered when its own read-only hint allows it (a read-only server offers no tool
whose annotation says it writes) and the policy's allow-list names it: one rule, derived from
the catalog, for registration, the server's instructions and the refusals of hidden tools.
"""

from __future__ import annotations

from collections.abc import Callable
from string import Template
from typing import TYPE_CHECKING, Any

from venice_web3_keys.mcp.catalog import CATALOG, ToolSpec

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from venice_web3_keys.mcp.config import OperatorConfig
    from venice_web3_keys.mcp.runtime import ToolRuntime


def is_offered(spec: ToolSpec, config: OperatorConfig) -> bool:
    return (spec.read_only or config.allow_writes) and config.policy.tool_allowed(spec.name)


def offered_tools(config: OperatorConfig) -> list[ToolSpec]:
    """The catalog tools this operator's server registers, in catalog order."""
    return [spec for spec in CATALOG if is_offered(spec, config)]


def new_key_result_note(config: OperatorConfig) -> str:
    if config.reveal_secrets:
        return (
            "id, last6, fingerprint, settings, `secret_file` (a 0600 file on the server host) "
            "and, because the operator enabled it, the secret itself in `secret`."
        )
    return (
        "id, last6, fingerprint, settings and `secret_file`, the path of a new 0600 file on the "
        "server host holding the secret. The secret is NOT in the result; point whatever needs "
        "the key at that file."
    )


def describe(spec: ToolSpec, config: OperatorConfig) -> str:
    """The spec's description with the operator's policy and secret handling filled in."""
    policy = ""
    if spec.policy_scope is not None:
        policy = (
            f"Operator policy: {config.policy.summary(spec.policy_scope)}. A refusal ('Refused "
            "by operator policy (rule: ...)') names its rule; only the operator can change the "
            "policy, so fit the arguments to it or ask the human operator; do not retry "
            "unchanged."
        )
    return Template(spec.description).substitute(
        policy=policy, new_key_result=new_key_result_note(config)
    )


class ToolRegistry:
    """Registers tool bodies on one server, each under its catalog spec, if it is offered."""

    def __init__(self, server: MCPServer[Any], runtime: ToolRuntime) -> None:
        self.server = server
        self.runtime = runtime
        self.names: list[str] = []

    @property
    def config(self) -> OperatorConfig:
        return self.runtime.config

    def offers(self, spec: ToolSpec) -> bool:
        return is_offered(spec, self.config)

    def add(self, spec: ToolSpec, body: Callable[..., Any]) -> None:
        if not self.offers(spec):
            return
        self.server.add_tool(
            body,
            name=spec.name,
            title=spec.title,
            description=describe(spec, self.config),
            annotations=spec.annotations,
        )
        self.names.append(spec.name)
