"""`--print` in a pipe under pressure: `KEY=$(venice-keys keys rotate ID --print)` while the CLI
has every reason to talk (an implicit .env that changes the endpoint, rotating the very admin key
it runs with) must still put exactly one line on stdout, the new secret. Held; kept as a
regression for the CLI split (cli/delivery.py)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.harness import CliRunner, SandboxAccount


def test_rotating_the_calling_key_with_print_puts_only_the_secret_on_stdout(
        cli: CliRunner, account: SandboxAccount, admin_env: dict[str, str],
        tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"VENICE_API_BASE_URL={admin_env['VENICE_API_BASE_URL']}\n")
    env = {k: v for k, v in admin_env.items() if k != "VENICE_API_BASE_URL"}
    listed = cli("--json", "keys", "list", env=env).json()["data"]
    admin_id = next(k["id"] for k in listed
                    if account.admin_key.reveal().endswith(k["last6Chars"]))
    res = cli("keys", "rotate", admin_id[:8], "--print", env=env)
    assert res.code == 0, res.stderr
    assert re.fullmatch(r"VENICE_ADMIN_KEY_[A-Za-z0-9_-]+\n", res.stdout), res.stdout
    secret = res.stdout.strip()
    assert "WARNING" in res.stderr and "VENICE_API_BASE_URL" in res.stderr  # said, on stderr
    assert secret not in res.stderr and account.admin_key.reveal() not in res.stderr
