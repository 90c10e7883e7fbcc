"""Key-shaped test values: obviously fake, and new on every run, so none can be a real secret."""

from __future__ import annotations

import secrets


def fake_key(kind: str = "INFERENCE", tag: str = "") -> str:
    """`VENICE_<kind>_KEY_FAKE<tag><random>`: shaped like a Venice key, never a real one."""
    return f"VENICE_{kind}_KEY_FAKE{tag}{secrets.token_hex(12)}"
