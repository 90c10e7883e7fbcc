"""The CLI subprocess runner and sandbox admin fixtures, for attacks through the console script."""

from tests.cli.conftest import admin_env, run

__all__ = ["admin_env", "run"]
