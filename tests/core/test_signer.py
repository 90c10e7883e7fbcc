from __future__ import annotations

import json
import os
import pickle
import stat
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from venice_web3_keys.errors import MissingCredentialsError, WalletError
from venice_web3_keys.secret import SecretValue
from venice_web3_keys.settings import load_settings
from venice_web3_keys.signer import (
    KeystoreSigner,
    PrivateKeySigner,
    Signer,
    create_keystore,
    load_signer,
)

PK = "0x" + "5a" * 32  # an obviously fake key; its address computed by Foundry's `cast`
ADDRESS = "0xa8049bB68181799124F98E467DD749e120abFA64"
FAST = 2**10  # scrypt n for tests; production uses eth_account's default


def test_private_key_signer_address_and_signature() -> None:
    signer = PrivateKeySigner(SecretValue(PK))
    assert isinstance(signer, Signer)
    assert signer.address == ADDRESS
    sig = signer.sign_message("header.payload.signature")
    assert sig.startswith("0x") and len(sig) == 132
    recovered = Account.recover_message(encode_defunct(text="header.payload.signature"),
                                        signature=sig)
    assert recovered == ADDRESS
    assert PrivateKeySigner(PK[2:]).address == ADDRESS  # plain str, no 0x


@pytest.mark.parametrize("bad", ["", "0x1234", "0x" + "zz" * 32, "0x" + "00" * 32,
                                 "0x" + "ff" * 32])
def test_bad_private_key(bad: str) -> None:
    with pytest.raises(WalletError) as info:
        PrivateKeySigner(SecretValue(bad))
    assert not bad[2:] or bad[2:] not in str(info.value)


def test_signer_is_opaque() -> None:
    signer = PrivateKeySigner(SecretValue(PK))
    assert PK[2:] not in repr(signer) and PK[2:] not in str(signer)
    assert ADDRESS in repr(signer)
    with pytest.raises(TypeError):
        pickle.dumps(signer)
    with pytest.raises(AttributeError):
        signer._account = None


def test_create_and_open_keystore(tmp_path: Path) -> None:
    path = tmp_path / "wallet.json"
    address = create_keystore(path, SecretValue("correct horse"), kdf_iterations=FAST)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text())
    assert data["version"] == 3
    signer = KeystoreSigner.from_file(path, SecretValue("correct horse"))
    assert signer.address == address
    assert signer.path == path
    sig = signer.sign_message("hello")
    assert Account.recover_message(encode_defunct(text="hello"), signature=sig) == address
    assert str(path) in repr(signer)


def test_create_keystore_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "wallet.json"
    path.write_text("precious")
    with pytest.raises(WalletError, match="already exists"):
        create_keystore(path, SecretValue("pw"), kdf_iterations=FAST)
    assert path.read_text() == "precious"
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "dangling-target")
    with pytest.raises(WalletError, match="already exists"):
        create_keystore(link, SecretValue("pw"), kdf_iterations=FAST)
    assert not (tmp_path / "dangling-target").exists()


def test_create_keystore_refuses_empty_password_and_missing_dir(tmp_path: Path) -> None:
    with pytest.raises(WalletError, match="empty password"):
        create_keystore(tmp_path / "a.json", SecretValue(""))
    with pytest.raises(WalletError, match="does not exist"):
        create_keystore(tmp_path / "no" / "a.json", SecretValue("pw"))


def test_wrong_password(tmp_path: Path) -> None:
    path = tmp_path / "wallet.json"
    create_keystore(path, SecretValue("right-password"), kdf_iterations=FAST)
    with pytest.raises(WalletError, match="wrong password") as info:
        KeystoreSigner.from_file(path, SecretValue("wrong-password"))
    assert "wrong-password" not in str(info.value)
    assert "right-password" not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_keystore_file_problems(tmp_path: Path) -> None:
    with pytest.raises(WalletError, match="no keystore"):
        KeystoreSigner.from_file(tmp_path / "missing.json", SecretValue("pw"))
    junk = tmp_path / "junk.json"
    junk.write_text("not json")
    with pytest.raises(WalletError, match="not JSON"):
        KeystoreSigner.from_file(junk, SecretValue("pw"))
    junk.write_text('{"hello": 1}')
    with pytest.raises(WalletError, match="v3 keystore"):
        KeystoreSigner.from_file(junk, SecretValue("pw"))


@pytest.mark.parametrize("declared", ["11" * 20, "not-an-address"], ids=["other", "garbage"])
def test_keystore_declaring_another_address_is_refused(tmp_path: Path, declared: str) -> None:
    path = tmp_path / "wallet.json"
    create_keystore(path, SecretValue("pw"), kdf_iterations=FAST)
    data = json.loads(path.read_text())
    data["address"] = declared
    path.write_text(json.dumps(data))
    with pytest.raises(WalletError, match=f"declares address {declared} but"):
        KeystoreSigner.from_file(path, SecretValue("pw"))


def _env(tmp_path: Path, **env: str):  # type: ignore[no-untyped-def]
    empty = tmp_path / "empty.env"
    empty.write_text("")
    return load_settings(empty, environ=env)


def test_load_signer_sources(tmp_path: Path) -> None:
    assert load_signer(_env(tmp_path, VENICE_WALLET_PRIVATE_KEY=PK)).address == ADDRESS
    ks = tmp_path / "wallet.json"
    address = create_keystore(ks, SecretValue("p w"), kdf_iterations=FAST)
    pw_file = tmp_path / "pw.txt"
    pw_file.write_text("p w\n")
    # password file (trailing newline stripped, inner space kept)
    s = _env(tmp_path, VENICE_WALLET_KEYSTORE=str(ks), VENICE_WALLET_PASSWORD_FILE=str(pw_file))
    assert load_signer(s).address == address
    # env password
    s = _env(tmp_path, VENICE_WALLET_KEYSTORE=str(ks), VENICE_WALLET_PASSWORD="p w")
    assert load_signer(s).address == address
    # prompt
    prompts: list[str] = []

    def prompt(text: str) -> str:
        prompts.append(text)
        return "p w"

    s = _env(tmp_path, VENICE_WALLET_KEYSTORE=str(ks))
    assert load_signer(s, prompt=prompt).address == address
    assert prompts and str(ks) in prompts[0]
    with pytest.raises(WalletError, match="needs a password"):
        load_signer(s)
    with pytest.raises(WalletError, match="wrong password"):
        load_signer(s, prompt=lambda _t: "nope")


def test_load_signer_without_wallet(tmp_path: Path) -> None:
    with pytest.raises(MissingCredentialsError, match="no wallet configured"):
        load_signer(_env(tmp_path))


def test_keystore_is_not_world_readable_even_with_lax_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        path = tmp_path / "w.json"
        create_keystore(path, SecretValue("pw"), kdf_iterations=FAST)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_malformed_or_unreadable_keystores_are_wallet_errors(tmp_path: Path) -> None:
    path = tmp_path / "wallet.json"
    create_keystore(path, SecretValue("pw"), kdf_iterations=FAST)
    good = json.loads(path.read_text())
    for damage in ({"kdf": "pbkdf3"}, {"mac": None}):
        data = json.loads(json.dumps(good))
        data["crypto"].update(damage)
        if damage.get("mac", "") is None:
            del data["crypto"]["mac"]
        path.write_text(json.dumps(data))
        with pytest.raises(WalletError, match="malformed or uses an unsupported format") as info:
            KeystoreSigner.from_file(path, SecretValue("pw"))
        assert info.value.__cause__ is None
    with pytest.raises(WalletError, match="cannot be read \\(IsADirectoryError\\)"):
        KeystoreSigner.from_file(tmp_path, SecretValue("pw"))
    latin = tmp_path / "latin1.json"
    latin.write_bytes(b'{"crypto": "\xff"}')
    with pytest.raises(WalletError, match="cannot be read \\(UnicodeDecodeError\\)"):
        KeystoreSigner.from_file(latin, SecretValue("pw"))


def test_create_keystore_os_errors_leave_no_file(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(WalletError, match=r"cannot create .*File name too long"):
        create_keystore(tmp_path / ("x" * 300), SecretValue("pw"), kdf_iterations=FAST)
    with pytest.raises(WalletError, match="cannot create /proc/"):  # a folder that refuses files
        create_keystore(Path("/proc/venice-keys-test.json"), SecretValue("pw"),
                        kdf_iterations=FAST)
    path = tmp_path / "w.json"

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(WalletError, match=r"cannot write keystore .*No space left on device"):
        create_keystore(path, SecretValue("pw"), kdf_iterations=FAST)
    assert not path.exists()  # no half-written keystore is left to be mistaken for a wallet


def test_library_misuse_is_refused_plainly(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="exact text"):
        PrivateKeySigner(PK).sign_message(b"bytes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="SecretValue"):
        KeystoreSigner.from_file(tmp_path / "w.json", "pw")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="SecretValue"):
        create_keystore(tmp_path / "w.json", "pw")  # type: ignore[arg-type]
    # Made without a file (no path): repr still works and shows no key.
    assert repr(KeystoreSigner(PK)) == f"KeystoreSigner(address={ADDRESS!r}, path='?')"


def test_load_signer_guards_for_hand_built_settings(tmp_path: Path) -> None:
    """Settings() skips load_settings' checks; load_signer re-checks what it relies on."""
    from venice_web3_keys.settings import Settings

    ks = tmp_path / "wallet.json"
    create_keystore(ks, SecretValue("pw"), kdf_iterations=FAST)
    both = Settings(wallet_private_key=SecretValue(PK), wallet_keystore=ks)
    with pytest.raises(WalletError, match="keep only one"):
        load_signer(both)
    gone = Settings(wallet_keystore=ks, wallet_password_file=tmp_path / "missing.txt")
    with pytest.raises(WalletError, match=r"password file .* cannot be read"):
        load_signer(gone)
    with pytest.raises(WalletError, match="prompt returned no text"):
        load_signer(Settings(wallet_keystore=ks), prompt=lambda _t: None)  # type: ignore[arg-type,return-value]
