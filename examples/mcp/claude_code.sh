#!/bin/sh
# Register the server with Claude Code (read-only). Run from the repo root after the README set-up.
# Alternatively copy claude_code.mcp.json to .mcp.json in your project (project scope).
claude mcp add venice-keys -- "$PWD/.venv/bin/venice-keys-mcp" --env-file "$PWD/.env"

# Over Streamable HTTP instead (start `venice-keys-mcp --http` first; loopback only by default):
# claude mcp add --transport http venice-keys http://127.0.0.1:8000/mcp
