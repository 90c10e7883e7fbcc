"""Secret files (umask, symlinks, .env rewrite) and the no-duplicate-key rule on every path."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.harness import CLI_SCRIPT, CliRunner, SandboxAccount, clean_env
from venice_web3_keys.api import AsyncVeniceKeys, VeniceKeys
from venice_web3_keys.errors import AmbiguousCreateError, SinkError, WalletError
from venice_web3_keys.sandbox.emulator.faults import Fault
from venice_web3_keys.secret import SecretValue
from venice_web3_keys.settings import load_settings
from venice_web3_keys.signer import create_keystore
from venice_web3_keys.sinks import EnvFileSink, FileSink

if TYPE_CHECKING:
    from venice_web3_keys.sandbox.runner import Sandbox


def _cli_with_umask(args: list[str], env: dict[str, str], cwd: Path,
                    umask: int = 0) -> subprocess.CompletedProcess[str]:
    """The console script in a process of its own, under `umask` (the process's is the point)."""
    return subprocess.run([str(CLI_SCRIPT), *args], env=clean_env(env), capture_output=True,
                          text=True, timeout=60, cwd=cwd, check=False,
                          preexec_fn=lambda: os.umask(umask))


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_out_file_is_0600_even_with_umask_000(admin_env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "secret.txt"
    proc = _cli_with_umask(["--json", "keys", "create", "--type", "INFERENCE",
                            "--description", "umask", "--out", str(out)], admin_env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert _mode(out) == 0o600


def test_env_out_rewrite_is_0600_keeps_other_lines(admin_env: dict[str, str],
                                                   tmp_path: Path) -> None:
    dotenv = tmp_path / "app.env"
    dotenv.write_text("OTHER=keep\nVENICE_API_KEY=old-one\nexport VENICE_API_KEY=old-two\n")
    dotenv.chmod(0o644)
    proc = _cli_with_umask(["--json", "keys", "create", "--type", "INFERENCE",
                            "--description", "env", "--env-out", str(dotenv)], admin_env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert _mode(dotenv) == 0o600
    text = dotenv.read_text()
    assert "OTHER=keep" in text and "old-one" not in text and "old-two" not in text
    assert text.count("VENICE_API_KEY=") == 1
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("dangling", [True, False])
def test_out_refuses_a_symlink_before_any_request(venice_sandbox: Sandbox, cli: CliRunner,
                                                  admin_env: dict[str, str], tmp_path: Path,
                                                  dangling: bool) -> None:
    victim = tmp_path / "victim.txt"
    if not dangling:
        victim.write_text("precious\n")
    link = tmp_path / "out.txt"
    link.symlink_to(victim)
    before = len(venice_sandbox.emulator.requests())
    res = cli("--json", "keys", "create", "--type", "INFERENCE", "--description", "sym",
              "--out", str(link), env=admin_env)
    assert res.code == 2, res.stderr
    assert len(venice_sandbox.emulator.requests()) == before
    assert link.is_symlink()
    assert victim.exists() is not dangling
    if not dangling:
        assert victim.read_text() == "precious\n"


def test_file_sink_and_keystore_refuse_symlinks(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    link = tmp_path / "link"
    link.symlink_to(victim)
    with pytest.raises(SinkError):
        FileSink(link).prepare()
    with pytest.raises(WalletError):
        create_keystore(link, SecretValue("pw-123456"), kdf_iterations=2)
    assert not victim.exists()


def test_env_sink_refuses_a_directory_target(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    with pytest.raises(SinkError):
        EnvFileSink(tmp_path / "d").prepare()


async def test_transport_retries_never_resend_a_create(venice_sandbox: Sandbox,
                                                       admin_env: dict[str, str]) -> None:
    """Even a caller's client whose transport retries: the POST reaches Venice once, and the
    orphan it made is found and revoked."""
    settings = load_settings(environ=admin_env)
    venice_sandbox.emulator.faults.add("POST /api_keys", Fault.commit_then_drop())
    before = len(venice_sandbox.emulator.requests())
    transport = httpx.AsyncHTTPTransport(retries=5)
    async with httpx.AsyncClient(transport=transport) as http, \
            AsyncVeniceKeys(settings, http_client=http) as vk:
        with pytest.raises(AmbiguousCreateError) as info:
            await vk.create_key(api_key_type="INFERENCE", description="retry-trap")
        live = [k for k in await vk.list_keys() if k.description == "retry-trap"]
    posts = [r for r in venice_sandbox.emulator.requests()[before:] if r.method == "POST"]
    assert len(posts) == 1
    assert info.value.revoked_ids == info.value.orphan_ids and len(info.value.orphan_ids) == 1
    assert live == []


def test_sync_facade_never_resends_a_create(venice_sandbox: Sandbox,
                                            admin_env: dict[str, str]) -> None:
    venice_sandbox.emulator.faults.add("POST /api_keys", Fault.commit_then_fail(502))
    before = len(venice_sandbox.emulator.requests())
    with VeniceKeys(load_settings(environ=admin_env)) as vk:
        with pytest.raises(AmbiguousCreateError):
            vk.create_key(api_key_type="INFERENCE", description="sync-trap")
        assert [k for k in vk.list_keys() if k.description == "sync-trap"] == []
    posts = [r for r in venice_sandbox.emulator.requests()[before:] if r.method == "POST"]
    assert len(posts) == 1


def test_cli_create_after_dropped_answer(venice_sandbox: Sandbox, cli: CliRunner,
                                        admin_env: dict[str, str], tmp_path: Path) -> None:
    venice_sandbox.emulator.faults.add("POST /api_keys", Fault.commit_then_drop())
    before = len(venice_sandbox.emulator.requests())
    out = tmp_path / "k.txt"
    res = cli("--json", "keys", "create", "--type", "INFERENCE", "--description", "cli-trap",
              "--out", str(out), env=admin_env)
    assert res.code != 0
    posts = [r for r in venice_sandbox.emulator.requests()[before:] if r.method == "POST"]
    assert len(posts) == 1
    assert not out.exists()
    assert "revoked" in res.stdout + res.stderr
    listing = cli("--json", "keys", "list", env=admin_env)
    assert "cli-trap" not in listing.stdout


async def test_mint_ambiguous_with_admin_key_leaves_no_orphan(venice_sandbox: Sandbox,
                                                              account: SandboxAccount) -> None:
    venice_sandbox.emulator.faults.add("POST /api_keys/generate_web3_key",
                                       Fault.commit_then_fail(500))
    before = len(venice_sandbox.emulator.requests())
    async with AsyncVeniceKeys(account.settings) as vk:
        with pytest.raises(AmbiguousCreateError) as info:
            await vk.mint_key(description="mint-trap")
        assert [k for k in await vk.list_keys() if k.description == "mint-trap"] == []
    posts = [r for r in venice_sandbox.emulator.requests()[before:] if r.method == "POST"]
    assert len(posts) == 1 and len(info.value.revoked_ids) == 1
