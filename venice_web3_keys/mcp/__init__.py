"""The MCP server face: tools over `AsyncVeniceKeys`, inside operator-set guardrails.

Nothing here is imported by `import venice_web3_keys`; `mcp` itself loads only when the server does.
"""
