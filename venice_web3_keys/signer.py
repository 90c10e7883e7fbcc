"""Wallet signers: the only code that touches private key material.

eth_account costs ~0.9 s to import, so it is imported inside the functions that sign or decrypt.
Key material lives only inside the eth_account object held by a signer; repr/str show the address,
errors never quote a key or password, and signers refuse to be pickled.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NoReturn, Protocol, runtime_checkable

from .addresses import checksum_address
from .errors import (
    ConfigError,
    InvalidInputError,
    KeystorePasswordError,
    MissingCredentialsError,
    WalletError,
)
from .secret import SecretValue, get_logger
from .settings import PRIVATE_KEY_PATTERN, Settings
from .sinks import NEW_FILE_FLAGS, write_all

log = get_logger("venice_web3_keys.signer")


@runtime_checkable
class Signer(Protocol):
    """What the mint flow needs from a wallet: its address and EIP-191 personal_sign."""

    @property
    def address(self) -> str: ...

    def sign_message(self, text: str) -> str: ...


@runtime_checkable
class TransactionSigner(Signer, Protocol):
    """A wallet that can also sign transactions (staking needs approve + stake)."""

    def sign_transaction(self, transaction: Mapping[str, Any]) -> bytes: ...


class PrivateKeySigner:
    """Signs with a raw secp256k1 key (from env; a keystore is the safer source)."""

    __slots__ = ("_account", "_address")

    def __init__(self, private_key: SecretValue | str) -> None:
        raw = private_key.reveal() if isinstance(private_key, SecretValue) else private_key
        if not isinstance(raw, str) or not PRIVATE_KEY_PATTERN.fullmatch(raw.strip()):
            raise WalletError(
                "the private key is not 64 hex digits (optionally 0x-prefixed); it is not shown"
            )
        from eth_account import Account

        try:
            account = Account.from_key(raw.strip())
        except Exception:  # eth_keys messages may quote the key: replace them
            raise WalletError("the private key is not a valid secp256k1 key") from None
        object.__setattr__(self, "_account", account)
        object.__setattr__(self, "_address", checksum_address(account.address))

    @property
    def address(self) -> str:
        return str(object.__getattribute__(self, "_address"))

    def sign_message(self, text: str) -> str:
        """EIP-191 personal_sign over the UTF-8 bytes of `text`; returns 0x-prefixed hex."""
        if not isinstance(text, str):
            raise TypeError("sign_message takes the exact text to sign")
        from eth_account.messages import encode_defunct

        account = object.__getattribute__(self, "_account")
        signed = account.sign_message(encode_defunct(text=text))
        signature: str = signed.signature.to_0x_hex()
        return signature

    def sign_transaction(self, transaction: Mapping[str, Any]) -> bytes:
        """Sign an EIP-1559 (type 2) transaction; returns the raw bytes to send.

        Refuses a transaction without a positive integer chainId: without one a signature is
        valid on every chain (no EIP-155 replay protection).
        """
        tx = dict(transaction)
        chain_id = tx.get("chainId")
        if isinstance(chain_id, bool) or not isinstance(chain_id, int) or chain_id <= 0:
            raise WalletError("refusing to sign a transaction without a chainId")
        if tx.get("type") != 2:
            raise WalletError("only EIP-1559 (type 2) transactions are signed")
        account = object.__getattribute__(self, "_account")
        try:
            signed = account.sign_transaction(tx)
        except (TypeError, ValueError) as exc:  # field errors name fields, never the key
            raise WalletError(f"cannot sign this transaction: {exc}") from None
        return bytes(signed.raw_transaction)

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(address={self.address!r})"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("signers hold key material and cannot be pickled")


class KeystoreSigner(PrivateKeySigner):
    """Signs with a key decrypted from an encrypted v3 keystore file."""

    __slots__ = ("_path",)

    @property
    def path(self) -> Path:
        return Path(object.__getattribute__(self, "_path"))

    @classmethod
    def from_file(cls, path: Path, password: SecretValue) -> KeystoreSigner:
        """Decrypt `path` with `password`; WalletError (never quoting either secret) on failure."""
        path = Path(path).expanduser()
        if not isinstance(password, SecretValue):
            raise TypeError("password must be a SecretValue")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise WalletError(f"no keystore file at {path}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise WalletError(f"keystore {path} cannot be read ({type(exc).__name__})") from None
        except ValueError:
            raise WalletError(f"keystore {path} is not JSON") from None
        if not isinstance(data, dict) or "crypto" not in {k.lower() for k in data}:
            raise WalletError(f"keystore {path} is not an encrypted v3 keystore")
        from eth_account import Account

        try:
            key = Account.decrypt(data, password.reveal())
        except ValueError:
            raise KeystorePasswordError(
                f"cannot decrypt keystore {path}: wrong password (or a corrupted file)"
            ) from None
        except Exception as exc:
            raise WalletError(
                f"keystore {path} is malformed or uses an unsupported format ({type(exc).__name__})"
            ) from None
        signer = cls(SecretValue(bytes(key).hex()))
        object.__setattr__(signer, "_path", path)
        declared = data.get("address")
        if isinstance(declared, str) and declared:
            try:
                matches = checksum_address(
                    declared if declared.startswith("0x") else "0x" + declared
                ) == signer.address
            except InvalidInputError:
                matches = False
            if not matches:
                raise WalletError(
                    f"keystore {path} declares address {declared} but its key belongs to "
                    f"{signer.address}; refusing a tampered or mislabelled keystore"
                )
        return signer

    def __repr__(self) -> str:
        try:
            where = str(self.path)
        except AttributeError:
            where = "?"
        return f"KeystoreSigner(address={self.address!r}, path={where!r})"

    __str__ = __repr__


def create_keystore(
    path: Path, password: SecretValue, *, kdf_iterations: int | None = None
) -> str:
    """Make a new random wallet, save it encrypted at `path` (new file, mode 0600), return its
    address. Never overwrites: losing a keystore loses the wallet. `kdf_iterations` (scrypt n)
    exists for fast tests; leave it None for eth_account's secure default."""
    from eth_account import Account

    _check_new_keystore(path, password)
    account = Account.create()
    return _write_keystore(Path(path).expanduser(), bytes(account.key), password, kdf_iterations)


def import_keystore(
    path: Path, private_key: SecretValue, password: SecretValue, *,
    kdf_iterations: int | None = None,
) -> str:
    """Encrypt an existing private key into a new keystore at `path` (mode 0600, never
    overwriting) and return its address. The key is checked first and never quoted."""
    if not isinstance(private_key, SecretValue):
        raise TypeError("private_key must be a SecretValue")
    if not PRIVATE_KEY_PATTERN.fullmatch(private_key.reveal().strip()):
        raise InvalidInputError("the private key is not 64 hex digits (optionally 0x-prefixed); "
                                "it is not shown", field="private_key")
    _check_new_keystore(path, password)
    signer = PrivateKeySigner(private_key)  # WalletError (not quoting it): not a valid key
    account = object.__getattribute__(signer, "_account")
    return _write_keystore(Path(path).expanduser(), bytes(account.key), password, kdf_iterations)


def _check_new_keystore(path: Path, password: SecretValue) -> None:
    path = Path(path).expanduser()
    if not isinstance(password, SecretValue):
        raise TypeError("password must be a SecretValue")
    if not password.reveal():
        raise WalletError("refusing to create a keystore with an empty password")
    try:  # e.g. ENAMETOOLONG: pathlib raises it from exists() in Python < 3.12
        exists = path.exists() or path.is_symlink()
        parent_ok = path.parent.is_dir()
    except OSError as exc:
        raise WalletError(f"cannot create {path} ({exc.strerror})") from None
    if exists:
        raise WalletError(f"{path} already exists; refusing to overwrite it")
    if not parent_ok:
        raise WalletError(f"directory {path.parent} does not exist")


def _write_keystore(path: Path, key: bytes, password: SecretValue,
                    kdf_iterations: int | None) -> str:
    """Encrypt `key` (scrypt) into a file created exclusively, mode 0600; its address."""
    from eth_account import Account

    keystore = Account.encrypt(key, password.reveal(), kdf="scrypt", iterations=kdf_iterations)
    address = checksum_address(Account.from_key(key).address)
    payload = json.dumps(keystore).encode("utf-8")
    try:
        fd = os.open(path, NEW_FILE_FLAGS, 0o600)
    except FileExistsError:
        raise WalletError(f"{path} already exists; refusing to overwrite it") from None
    except OSError as exc:
        raise WalletError(f"cannot create {path} ({exc.strerror})") from None
    try:
        os.fchmod(fd, 0o600)
        write_all(fd, payload)
    except OSError as exc:
        os.close(fd)
        path.unlink(missing_ok=True)
        raise WalletError(f"cannot write keystore {path} ({exc.strerror})") from None
    os.close(fd)
    return address


def read_password_file(path: str | Path) -> SecretValue:
    """The keystore password kept in `path`: the file without its final line break (editors
    add one); inner and leading spaces are part of the password.

    An empty or unreadable file is a KeystorePasswordError. A file other users can read still
    works, but a warning is logged: anyone who can read it can open the keystore.
    """
    path = Path(path).expanduser()
    try:
        with path.open(encoding="utf-8") as handle:
            mode = os.fstat(handle.fileno()).st_mode
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise KeystorePasswordError(
            f"password file {path} cannot be read ({type(exc).__name__})") from None
    text = text.rstrip("\r\n")
    if not text:
        raise KeystorePasswordError(f"password file {path} is empty")
    if mode & 0o077:
        log.warning("password file %s can be read by other users (mode %s): run chmod 600 %s",
                    path, oct(mode & 0o777), path)
    return SecretValue(text)


def require_wallet(settings: Settings) -> None:
    """Before anything is sent: MissingCredentialsError when no wallet is configured, and
    ConfigError when two are (see check_wallet_sources)."""
    if not settings.has_wallet:
        raise MissingCredentialsError(
            "no wallet configured: set VENICE_WALLET_KEYSTORE (with VENICE_WALLET_PASSWORD_FILE) "
            "or VENICE_WALLET_PRIVATE_KEY",
            credential="wallet",
        )
    check_wallet_sources(settings)


def keystore_password(
    settings: Settings,
    *,
    password_file: str | Path | None = None,
    prompt: Callable[[str], str] | None = None,
    keystore: Path | None = None,
) -> SecretValue:
    """The password of `keystore` (default: the configured one), from the first source set:
    `password_file` (a caller's explicit choice), VENICE_WALLET_PASSWORD_FILE,
    VENICE_WALLET_PASSWORD, then `prompt` (e.g. a hidden prompt on a terminal)."""
    target = keystore or settings.wallet_keystore
    if password_file is not None:
        return read_password_file(password_file)
    if settings.wallet_password_file is not None:
        return read_password_file(settings.wallet_password_file)
    if settings.wallet_password is not None:
        return settings.wallet_password
    if prompt is not None:
        answer = prompt(f"Password for keystore {target}: ")
        if not isinstance(answer, str):
            raise KeystorePasswordError("the password prompt returned no text")
        return SecretValue(answer)
    raise KeystorePasswordError(
        f"keystore {target} needs a password: set VENICE_WALLET_PASSWORD_FILE (preferred) or "
        "VENICE_WALLET_PASSWORD, or run on a TTY"
    )


def load_signer(settings: Settings, *, prompt: Callable[[str], str] | None = None) -> Signer:
    """The configured wallet: a private key, or a keystore whose password comes from the password
    file, then VENICE_WALLET_PASSWORD, then `prompt` (e.g. a hidden getpass on a TTY)."""
    require_wallet(settings)
    if settings.wallet_private_key is not None:
        return PrivateKeySigner(settings.wallet_private_key)
    assert settings.wallet_keystore is not None
    password = keystore_password(settings, prompt=prompt)
    return KeystoreSigner.from_file(settings.wallet_keystore, password)


def check_wallet_sources(settings: Settings) -> None:
    """One wallet source only. Checked by the calls that use the wallet (never at load, so a
    command that does not sign is not blocked by it); the message says where each came from."""
    if settings.wallet_private_key is None or settings.wallet_keystore is None:
        return
    key_from = settings.source_of("VENICE_WALLET_PRIVATE_KEY") or "a setting"
    keystore_from = settings.source_of("VENICE_WALLET_KEYSTORE") or "a setting"
    raise ConfigError(
        f"two wallets are configured: VENICE_WALLET_PRIVATE_KEY (from {key_from}) and "
        f"VENICE_WALLET_KEYSTORE (from {keystore_from}); keep only one (the keystore is the "
        "safer choice)"
    )
