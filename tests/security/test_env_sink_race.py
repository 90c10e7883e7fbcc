"""The .env sink never loses a secret: parallel writers, a lock it cannot get, a bad `:VAR`.

Reproduced: five `keys create … --env-out race.env:V$i` run at once kept only 2-5 of the five
variables, all exiting 0, and the lost keys stayed live with nobody holding them.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import request_log
from tests.fakes import fake_key
from tests.harness import CLI_SCRIPT, CliRunner, clean_env, untraced
from venice_web3_keys.api import AsyncVeniceKeys
from venice_web3_keys.errors import DeliveryFailedError, InvalidInputError
from venice_web3_keys.secret import ApiKeySecret
from venice_web3_keys.settings import load_settings
from venice_web3_keys.sinks import EnvFileSink, parse_sink_spec


def _create_in_parallel(env: dict[str, str], cwd: Path, count: int) -> list[tuple[int, str]]:
    procs = [subprocess.Popen(
        [str(CLI_SCRIPT), "keys", "create", "--type", "INFERENCE", "--description", f"race {i}",
         "--env-out", f"race.env:V{i}"], env=untraced(clean_env(env)), cwd=cwd,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(count)]
    results = []
    for proc in procs:
        _out, err = proc.communicate(timeout=120)
        results.append((proc.returncode, err))
    return results


def test_parallel_env_out_keeps_all_five(venice_sandbox: Any, admin_env: dict[str, str],
                                         tmp_path: Path) -> None:
    from dotenv import dotenv_values

    for round_ in range(3):  # the lost update needs an unlucky interleaving: give it chances
        cwd = tmp_path / f"round{round_}"
        cwd.mkdir()
        results = _create_in_parallel(admin_env, cwd, 5)
        assert [code for code, _ in results] == [0] * 5, results
        values = dotenv_values(cwd / "race.env")
        assert sorted(values) == [f"V{i}" for i in range(5)], (cwd / "race.env").read_text()
        assert len(set(values.values())) == 5
        assert oct((cwd / "race.env").stat().st_mode & 0o777) == "0o600"


def test_parallel_env_sink_writers_keep_every_variable(tmp_path: Path) -> None:
    """The same race without process start-up jitter: writers released at one barrier."""
    from dotenv import dotenv_values

    writers = 5
    for round_ in range(20):
        dotenv = tmp_path / f"race{round_}.env"
        barrier = threading.Barrier(writers)
        secrets = [fake_key() for _ in range(writers)]

        def write(i: int, path: Path = dotenv, barrier: threading.Barrier = barrier,
                  secrets: list[str] = secrets) -> None:
            sink = EnvFileSink(path, f"V{i}")
            sink.prepare()
            barrier.wait()
            sink.deliver(ApiKeySecret(secrets[i]), key_id=str(i))

        threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert dotenv_values(dotenv) == {f"V{i}": secrets[i] for i in range(writers)}, round_


@pytest.mark.parametrize("spec", [".env:my-key", ".env:1BAD", ".env:", ":VAR", ".env:A B"])
def test_env_out_with_an_invalid_variable_is_invalid_input(
        venice_sandbox: Any, admin_env: dict[str, str], cli: CliRunner, tmp_path: Path,
        spec: str) -> None:
    before = request_log(venice_sandbox)
    res = cli("--json", "keys", "create", "--type", "INFERENCE", "--description", "bad var",
              "--env-out", spec, env=admin_env)
    assert res.code == 2, res.stderr
    assert res.json()["error"]["type"] == "InvalidInputError"
    assert request_log(venice_sandbox) == before  # nothing sent
    assert list(tmp_path.iterdir()) == []  # no file named `.env:my-key`, nothing at all


@pytest.mark.parametrize("spec", [".env:my-key", ".env:1BAD", ".env:", ":VAR"])
def test_env_spec_parsing_lives_in_the_library(spec: str) -> None:
    with pytest.raises(InvalidInputError):
        parse_sink_spec("env-out", spec)


@pytest.mark.parametrize(("spec", "path", "var"), [
    (".env", ".env", "VENICE_API_KEY"), (".env:MY_KEY", ".env", "MY_KEY"),
    ("dir:x/.env", "dir:x/.env", "VENICE_API_KEY"), ("a:b/.env:_K1", "a:b/.env", "_K1"),
])
def test_env_spec_accepts_paths_and_names(spec: str, path: str, var: str) -> None:
    sink = parse_sink_spec("env-out", spec)
    assert isinstance(sink, EnvFileSink)
    assert (str(sink.path), sink.var) == (path, var)


def test_env_sink_serializes_writers_with_a_sibling_lock_file(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    sink = EnvFileSink(dotenv, "HELD", lock_timeout=0.3)
    sink.prepare()
    lock_path = tmp_path / ".env.lock"
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(Exception, match="lock"):
            sink.deliver(ApiKeySecret(fake_key()), key_id="k")
    finally:
        os.close(fd)
    assert not dotenv.exists()
    sink.deliver(ApiKeySecret(fake_key()), key_id="k")  # free again: it goes through
    assert "HELD='VENICE_INFERENCE_KEY_" in dotenv.read_text()


async def test_delivery_that_cannot_get_the_lock_revokes_the_key(
        venice_sandbox: Any, admin_env: dict[str, str], tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    fd = os.open(tmp_path / ".env.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        async with AsyncVeniceKeys(load_settings(environ=admin_env)) as vk:
            before = {k.id for k in await vk.list_keys()}
            with pytest.raises(DeliveryFailedError) as info:
                await vk.create_key(api_key_type="INFERENCE", description="locked out",
                                    sink=EnvFileSink(dotenv, lock_timeout=0.3))
            after = {k.id for k in await vk.list_keys()}
    finally:
        os.close(fd)
    assert info.value.revoked is True and "revoked" in str(info.value)
    assert info.value.key_id not in after and after == before
    assert not dotenv.exists()
