from __future__ import annotations

import io
import os
import stat
from pathlib import Path
from typing import Any

import keyring
import pytest
from dotenv import dotenv_values
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fakes import fake_key
from venice_web3_keys.errors import InvalidInputError, SinkError
from venice_web3_keys.secret import ApiKeySecret
from venice_web3_keys.sinks import (
    LINE_BREAKS,
    EnvFileSink,
    FileSink,
    KeyringSink,
    PrintSink,
    SecretSink,
    SinkReceipt,
    parse_sink_spec,
)

SECRET = ApiKeySecret(fake_key("INFERENCE"))
KID = "e28e82dc-9df2-4b47-b726-d0a222ef2ab5"


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


# ---------------------------------------------------------------- FileSink

def test_file_sink_creates_before_and_fills_after(tmp_path: Path) -> None:
    p = tmp_path / "key.txt"
    sink = FileSink(p)
    assert isinstance(sink, SecretSink)
    sink.prepare()
    assert p.exists() and p.stat().st_size == 0 and mode(p) == 0o600
    receipt = sink.deliver(SECRET, key_id=KID)
    assert receipt == SinkReceipt("file", str(p))
    assert p.read_text() == SECRET.reveal() + "\n"
    assert mode(p) == 0o600
    sink.abort()  # after delivery: must not remove the secret
    assert p.exists()
    with pytest.raises(SinkError, match="already holds"):
        sink.deliver(SECRET, key_id=KID)


def test_file_sink_never_overwrites(tmp_path: Path) -> None:
    p = tmp_path / "key.txt"
    p.write_text("old secret")
    with pytest.raises(SinkError, match="already exists"):
        FileSink(p).prepare()
    assert p.read_text() == "old secret"
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "target")
    with pytest.raises(SinkError):
        FileSink(link).prepare()
    assert not (tmp_path / "target").exists()


def test_file_sink_two_preparers_race(tmp_path: Path) -> None:
    p = tmp_path / "key.txt"
    a, b = FileSink(p), FileSink(p)
    a.prepare()
    with pytest.raises(SinkError, match="already exists"):
        b.prepare()
    b.abort()  # b never created it: must not remove a's file
    assert p.exists()


def test_file_sink_abort_removes_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "key.txt"
    sink = FileSink(p)
    sink.prepare()
    sink.abort()
    assert not p.exists()


def test_file_sink_abort_leaves_replaced_file(tmp_path: Path) -> None:
    p = tmp_path / "key.txt"
    sink = FileSink(p)
    sink.prepare()
    p.unlink()
    p.write_text("someone else's")
    sink.abort()
    assert p.read_text() == "someone else's"


def test_file_sink_umask_and_missing_dir(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        sink = FileSink(tmp_path / "k")
        sink.prepare()
    finally:
        os.umask(old)
    assert mode(tmp_path / "k") == 0o600
    with pytest.raises(SinkError, match="cannot create"):
        FileSink(tmp_path / "nodir" / "k").prepare()


# ---------------------------------------------------------------- EnvFileSink

def test_env_sink_new_file(tmp_path: Path) -> None:
    p = tmp_path / ".env"
    sink = EnvFileSink(p)
    sink.prepare()
    assert not p.exists()  # prepare changes nothing
    assert sink.deliver(SECRET, key_id=KID) == SinkReceipt("env", f"{p}:VENICE_API_KEY")
    assert dotenv_values(p) == {"VENICE_API_KEY": SECRET.reveal()}
    assert mode(p) == 0o600


def test_env_sink_preserves_other_lines_and_replaces(tmp_path: Path) -> None:
    p = tmp_path / ".env"
    original = ("# comment\nFOO=bar\nexport MY_KEY=old\nBAZ='q u x'\nMY_KEY = older\n"
                "MY_KEY_2=keep")
    p.write_text(original)
    p.chmod(0o644)
    EnvFileSink(p, "MY_KEY").deliver(SECRET, key_id=KID)
    text = p.read_text()
    assert "=old\n" not in text and "older" not in text
    assert text.splitlines() == ["# comment", "FOO=bar", f"export MY_KEY='{SECRET.reveal()}'",
                                 "BAZ='q u x'", "MY_KEY_2=keep"]
    assert mode(p) == 0o600
    assert dotenv_values(p)["BAZ"] == "q u x"
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF,
                                      exclude_characters="".join(LINE_BREAKS)),
               min_size=1, max_size=60))
def test_env_sink_value_roundtrips_through_dotenv(tmp_path: Path, value: str) -> None:
    """Anything it writes reads back exactly; what it cannot write so, it refuses (`${`)."""
    p = tmp_path / "rt.env"
    p.write_text("A=1\n")
    if "${" in value:
        with pytest.raises(SinkError, match="expansion"):
            EnvFileSink(p, "K").deliver(ApiKeySecret(value), key_id=KID)
        assert p.read_text() == "A=1\n"
        return
    EnvFileSink(p, "K").deliver(ApiKeySecret(value), key_id=KID)
    assert dotenv_values(p) == {"A": "1", "K": value}


def test_env_sink_atomic_on_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / ".env"
    p.write_text("FOO=bar\nVENICE_API_KEY=old\n")

    def boom(*_a: Any, **_k: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(SinkError, match="No space left"):
        EnvFileSink(p).deliver(SECRET, key_id=KID)
    assert p.read_text() == "FOO=bar\nVENICE_API_KEY=old\n"
    assert sorted(os.listdir(tmp_path)) == [".env", ".env.lock"]  # no temporary file left


def test_env_sink_through_symlink_keeps_link(tmp_path: Path) -> None:
    real = tmp_path / "real.env"
    real.write_text("X=1\n")
    link = tmp_path / "link.env"
    link.symlink_to(real)
    EnvFileSink(link).deliver(SECRET, key_id=KID)
    assert link.is_symlink()
    assert dotenv_values(real)["VENICE_API_KEY"] == SECRET.reveal()


@pytest.mark.parametrize(("spec", "path", "var"), [
    ("a/.env", "a/.env", "VENICE_API_KEY"),
    ("a/.env:MY_KEY", "a/.env", "MY_KEY"),
    ("c:/x/.env:K", "c:/x/.env", "K"),
])
def test_env_spec(spec: str, path: str, var: str) -> None:
    sink = EnvFileSink.from_spec(spec)
    assert (str(sink.path), sink.var) == (path, var)


def test_env_sink_bad_var_and_dir(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="not a valid"):
        EnvFileSink(tmp_path / ".env", "1BAD")
    with pytest.raises(InvalidInputError, match="empty"):
        EnvFileSink.from_spec(f"{tmp_path}/.env:")
    with pytest.raises(SinkError, match="does not exist"):
        EnvFileSink(tmp_path / "nodir" / ".env").prepare()
    (tmp_path / "d.env").mkdir()
    with pytest.raises(SinkError, match="not a regular file"):
        EnvFileSink(tmp_path / "d.env").prepare()


# ---------------------------------------------------------------- KeyringSink

def test_keyring_sink(memory_keyring: Any) -> None:
    sink = KeyringSink("venice-prod")
    sink.prepare()
    assert sink.deliver(SECRET, key_id=KID) == SinkReceipt("keyring", "keyring:venice-prod")
    assert memory_keyring.store == {("venice-prod", "VENICE_API_KEY"): SECRET.reveal()}


def test_keyring_without_backend(memory_keyring: Any) -> None:
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring())  # type: ignore[no-untyped-call]
    with pytest.raises(SinkError, match="no usable OS keyring"):
        KeyringSink("svc").prepare()


def test_keyring_failure_does_not_echo_secret(memory_keyring: Any,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    def locked(service: str, username: str, password: str) -> None:
        raise RuntimeError(f"locked; tried to store {password}")

    monkeypatch.setattr(memory_keyring, "set_password", locked)
    with pytest.raises(SinkError) as info:
        KeyringSink("svc").deliver(SECRET, key_id=KID)
    assert SECRET.reveal() not in str(info.value)


def test_keyring_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "keyring", None)
    with pytest.raises(SinkError, match=r"venice-web3-keys\[keyring\]"):
        KeyringSink("svc").prepare()


# ---------------------------------------------------------------- PrintSink / specs

def test_print_sink() -> None:
    buf = io.StringIO()
    sink = PrintSink(buf)
    sink.prepare()
    assert sink.deliver(SECRET, key_id=KID) == SinkReceipt("stdout", "stdout")
    assert buf.getvalue() == SECRET.reveal() + "\n"
    assert SECRET.reveal() not in repr(sink)


def test_parse_sink_spec(tmp_path: Path) -> None:
    assert isinstance(parse_sink_spec("--out", str(tmp_path / "f")), FileSink)
    env = parse_sink_spec("env", f"{tmp_path}/.env:X")
    assert isinstance(env, EnvFileSink) and env.location == f"{tmp_path}/.env:X"
    assert parse_sink_spec("keyring", "svc").location == "keyring:svc"
    assert parse_sink_spec("print").kind == "stdout"
    for kind, value in [("out", None), ("env", ""), ("keyring", None), ("smoke", "x")]:
        with pytest.raises(SinkError):
            parse_sink_spec(kind, value)


def test_env_sink_refuses_a_symlink_planted_by_another_user(tmp_path: Path) -> None:
    """A link in a shared directory must not redirect our secret into a file of their choice."""
    import os

    if os.getuid() != 0:
        pytest.skip("changing a link's owner needs root; CI and the dev machines run as root")
    victim = tmp_path / "victim-config"
    victim.write_text("keep=me\n")
    link = tmp_path / ".env"
    link.symlink_to(victim)
    os.lchown(link, 65534, 65534)
    sink = EnvFileSink(link)
    with pytest.raises(SinkError, match="owned by another user"):
        sink.prepare()
    assert victim.read_text() == "keep=me\n"
