"""The Redis tests' policy: on CI (`CI=true`) a missing redis-server fails them instead of
skipping them (`./dev test` installs it, Debian package `redis-server`, when run as root)."""

from __future__ import annotations

import os


def on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")
