"""Repo-root launcher: `python mcp_server.py [--http ...]` runs the venice-keys MCP server."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from venice_web3_keys.mcp.entry import main

if __name__ == "__main__":
    sys.exit(main())
