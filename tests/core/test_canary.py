"""A known private key and password must never leak through repr/str, errors or logs."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import fake_key
from venice_web3_keys import challenge, timeparse, validation
from venice_web3_keys.errors import VeniceKeysError
from venice_web3_keys.secret import ApiKeySecret, SecretValue
from venice_web3_keys.settings import load_settings
from venice_web3_keys.signer import KeystoreSigner, PrivateKeySigner, create_keystore, load_signer
from venice_web3_keys.sinks import EnvFileSink, FileSink

CANARY_KEY = "c4a4a7c4a4a7c4a4a7c4a4a7c4a4a7c4a4a7c4a4a7c4a4a7c4a4a7c4a4a7cafe"
BAD_KEY = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffcafecafe"  # > curve order
CANARY_PW = "canary-password-8f3k2"
CANARY_API = fake_key("ADMIN", "canaryApiSecret")
NEEDLES = (CANARY_KEY, CANARY_KEY[8:40], BAD_KEY, BAD_KEY[40:], CANARY_PW, "canaryApiSecret")


def leaked(text: str) -> list[str]:
    return [n for n in NEEDLES if n in text]


def test_reprs(tmp_path: Path) -> None:
    empty = tmp_path / "e.env"
    empty.write_text("")
    settings = load_settings(empty, environ={
        "VENICE_WALLET_PRIVATE_KEY": "0x" + CANARY_KEY, "VENICE_WALLET_PASSWORD": CANARY_PW,
        "VENICE_ADMIN_KEY": CANARY_API})
    signer = load_signer(settings)
    for obj in (settings, signer, settings.wallet_private_key, settings.admin_key):
        assert not leaked(repr(obj)) and not leaked(str(obj)) and not leaked(f"{obj}")
    ks = tmp_path / "w.json"
    create_keystore(ks, SecretValue(CANARY_PW), kdf_iterations=2**10)
    kss = KeystoreSigner.from_file(ks, SecretValue(CANARY_PW))
    assert not leaked(repr(kss)) and not leaked(str(kss))
    assert CANARY_PW not in ks.read_text()


def _cases(tmp_path: Path) -> list[Callable[[], Any]]:
    empty = tmp_path / "e.env"
    empty.write_text("")
    ks = tmp_path / "w.json"
    create_keystore(ks, SecretValue("other"), kdf_iterations=2**10)
    occupied = tmp_path / "occupied"
    occupied.write_text("x")
    (tmp_path / "dir.env").mkdir()
    return [
        lambda: load_settings(empty,
                              environ={"VENICE_WALLET_PRIVATE_KEY": "0x" + CANARY_KEY + "0"}),
        lambda: load_signer(load_settings(empty, environ={
            "VENICE_WALLET_PRIVATE_KEY": CANARY_KEY, "VENICE_WALLET_KEYSTORE": str(ks)})),
        lambda: load_settings(empty, environ={"BASE_RPC_URL": f"http://x y/{CANARY_PW}"}),
        lambda: load_settings(empty, environ={"VENICE_API_BASE_URL": f"ftp://h/{CANARY_PW}"}),
        lambda: load_settings(empty, environ={"VENICE_CHAIN_ID": CANARY_PW}),
        lambda: PrivateKeySigner(SecretValue(BAD_KEY)),
        lambda: PrivateKeySigner(CANARY_KEY + "zz"),
        lambda: KeystoreSigner.from_file(ks, SecretValue(CANARY_PW)),
        lambda: load_signer(load_settings(empty, environ={"VENICE_WALLET_KEYSTORE": str(ks)}),
                            prompt=lambda _p: CANARY_PW),
        lambda: create_keystore(occupied, SecretValue(CANARY_PW)),
        lambda: validation.validate_key_id(CANARY_API),
        lambda: validation.validate_key_id(CANARY_KEY),
        lambda: validation.validate_limit(CANARY_PW, "usd_limit"),
        lambda: validation.validate_description(CANARY_KEY * 2),
        lambda: validation.validate_api_key_type(CANARY_PW),
        lambda: timeparse.parse_expires("0x" + CANARY_KEY),
        lambda: challenge.validate_jwt_token(CANARY_KEY),
        lambda: challenge.validate_siwe_message(
            CANARY_KEY, expected_address="0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            chain_id=8453),
        lambda: FileSink(occupied).deliver(ApiKeySecret(CANARY_API), key_id="k"),
        lambda: EnvFileSink(tmp_path / "dir.env").deliver(ApiKeySecret(CANARY_API), key_id="k"),
    ]


def test_errors_and_logs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    cases = _cases(tmp_path)
    for i, case in enumerate(cases):
        with pytest.raises(VeniceKeysError) as info:
            case()
        text = "".join(traceback.format_exception(info.value))
        assert not leaked(text), (i, leaked(text))
        assert not leaked(repr(info.value)), i
    assert not leaked(caplog.text)
