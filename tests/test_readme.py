"""The README's library example runs as written against the sandbox (docs that cannot rot)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def readme_block(heading: str) -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split(f"## {heading}", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, f"no python block under {heading!r}"
    return match.group(1)


def test_library_example_runs_against_the_sandbox(tmp_path: Path, venice_sandbox: Any,
                                                  venice_wallet: Any) -> None:
    _address, private_key = venice_wallet
    script = tmp_path / "example.py"
    script.write_text(readme_block("dApp backends: the library"))
    env = {**os.environ, **venice_sandbox.env(private_key)}
    env.pop("VENICE_ADMIN_KEY", None)  # the example mints its own into ./.env
    out = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    dotenv = (tmp_path / ".env").read_text()
    admin_secret = dotenv.split("VENICE_ADMIN_KEY=", 1)[1].split()[0].strip("'\"")
    assert admin_secret.startswith("VENICE_ADMIN_KEY_")
    assert admin_secret not in out.stdout and admin_secret not in out.stderr
    assert "eligible=True" in out.stdout  # print(vk.wallet_status())
    keys_line = out.stdout.splitlines()[-1]  # print(await avk.list_keys())
    assert "backend" in keys_line and "cust:acme" not in keys_line  # churn revoked them
    assert (tmp_path / ".env").stat().st_mode & 0o777 == 0o600
