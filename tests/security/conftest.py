"""The CLI fixtures (`run`: the real console script in a subprocess; `admin_env`) for attacks."""

from tests.cli.conftest import admin_env, run

__all__ = ["admin_env", "run"]
