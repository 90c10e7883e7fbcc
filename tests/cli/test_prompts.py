"""Hidden password prompts on a real terminal (a pty): `wallet new` and a keystore mint."""

from __future__ import annotations

import json
import os
import pty
import select
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tests.cli.conftest import BIN, clean_env
from venice_web3_keys.addresses import checksum_address


def run_on_tty(args: Sequence[str], env: Mapping[str, str], cwd: Path,
               answers: Sequence[tuple[str, str]], timeout: float = 60) -> tuple[int, str]:
    """Run the console script with a pty as its controlling terminal; answer each prompt
    (in order) once its text has appeared. Returns (exit code, everything the terminal showed)."""
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child becomes the CLI
        os.chdir(cwd)
        os.execve(str(BIN), [str(BIN), *args], dict(env))
    seen, pending, start = b"", list(answers), 0
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                seen += chunk
            if pending and pending[0][0].encode() in seen[start:]:
                start = seen.index(pending[0][0].encode(), start) + len(pending[0][0])
                os.write(fd, pending.pop(0)[1].encode() + b"\n")
        else:
            os.kill(pid, 9)
            raise AssertionError(f"timed out; the terminal showed {seen.decode()!r}")
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert not pending, f"never prompted for {pending[0][0]!r}: {seen.decode()!r}"
    return os.waitstatus_to_exitcode(status), seen.decode(errors="replace")


def test_wallet_new_then_mint_with_typed_passwords(venice_sandbox: Any, tmp_path: Path) -> None:
    password = "correct horse battery"
    keystore = tmp_path / "wallet.json"
    code, screen = run_on_tty(
        ["wallet", "new", "--keystore", str(keystore)], clean_env(), tmp_path,
        [("New keystore password", password), ("Repeat for confirmation", password)])
    assert code == 0, screen
    assert password not in screen  # typed without echo
    address = checksum_address("0x" + json.loads(keystore.read_text())["address"])
    assert address in screen
    venice_sandbox.chain.fund(address, eth=1, svvv=3)

    env = clean_env({k: v for k, v in venice_sandbox.env().items()
                     if not k.startswith("VENICE_WALLET")})
    env["VENICE_WALLET_KEYSTORE"] = str(keystore)
    out = tmp_path / "minted.key"
    code, screen = run_on_tty(
        ["mint", "--type", "INFERENCE", "--description", "typed", "--out", str(out)], env,
        tmp_path, [(f"Password for keystore {keystore}", password)])
    assert password not in screen
    assert code == 0, screen
    assert out.read_text().startswith("VENICE_INFERENCE_KEY_")
