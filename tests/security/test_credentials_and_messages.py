"""Smaller holes, all reproduced: invisible characters in SIWE free-text fields, a missing
credential reported three different ways, a URL password in messages, private-key-shaped text in
errors and logs, wallet-source conflicts blocking commands that never sign, and a `.env` in the
working directory silently redirecting the API or the RPC.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import fake_key
from tests.harness import CliRunner
from tests.security.test_spoofed_challenges import siwe
from venice_web3_keys.api import AsyncVeniceKeys
from venice_web3_keys.challenge import validate_siwe_message
from venice_web3_keys.client import AsyncVeniceClient
from venice_web3_keys.errors import (
    ConfigError,
    KeystorePasswordError,
    MissingCredentialsError,
    UnsafeSigningRequestError,
    VeniceKeysError,
)
from venice_web3_keys.secret import SecretValue
from venice_web3_keys.settings import Settings, load_settings
from venice_web3_keys.signer import create_keystore, load_signer

ADDR = "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23"
VENICE_URI = "https://api.venice.ai/api/v1/api_keys/generate_web3_key"
PASSWORD = "hunter2-" + secrets.token_hex(4)
INVISIBLE = {"LRM": "\u200e", "RLM": "\u200f", "WORD-JOINER": "\u2060", "TAG-A": "\U000e0041",
             "ZWSP": "\u200b", "SOFT-HYPHEN": "\u00ad", "NBSP": "\u00a0", "E-ACUTE": "\u00e9"}


# ---- SIWE free text: printable ASCII only --------------------------------------------------


@pytest.mark.parametrize("name", sorted(INVISIBLE))
def test_siwe_request_id_with_invisible_characters_is_refused(name: str) -> None:
    now = datetime.now(UTC)
    message = siwe("api.venice.ai", ADDR, VENICE_URI,
                   extra=[f"Request ID: abc{INVISIBLE[name]}def"],
                   expires=(now + timedelta(minutes=15)).strftime("%Y-%m-%dT%H:%M:%S.000Z"))
    with pytest.raises(UnsafeSigningRequestError, match="printable ASCII"):
        validate_siwe_message(message, expected_address=ADDR, chain_id=8453)


def test_siwe_request_id_in_plain_ascii_is_accepted() -> None:
    message = siwe("api.venice.ai", ADDR, VENICE_URI, extra=["Request ID: req-42 (retry #1)"])
    validate_siwe_message(message, expected_address=ADDR, chain_id=8453)


@pytest.mark.parametrize("domain", ["api.venice.ai", "venice.ai"])
def test_siwe_accepts_both_venice_domains(domain: str) -> None:
    validate_siwe_message(siwe(domain, ADDR, VENICE_URI), expected_address=ADDR, chain_id=8453)


@pytest.mark.parametrize("domain", ["app.venice.ai", "API.VENICE.AI", "127.0.0.1:8080",
                                    "api.venice.ai:443", "venice.ai.evil.example"])
def test_siwe_refuses_any_other_domain(domain: str) -> None:
    with pytest.raises(UnsafeSigningRequestError, match="domain"):
        validate_siwe_message(siwe(domain, ADDR, VENICE_URI), expected_address=ADDR,
                              chain_id=8453)


# ---- one MissingCredentialsError, carrying the kind of credential ---------------------------


def test_missing_wallet_is_missing_credentials() -> None:
    with pytest.raises(MissingCredentialsError) as info:
        load_signer(Settings())
    assert info.value.credential == "wallet"


async def test_missing_admin_key_in_the_client_is_missing_credentials() -> None:
    async with AsyncVeniceClient("http://127.0.0.1:9/api/v1") as client:
        with pytest.raises(MissingCredentialsError) as info:
            await client.list_keys()
        assert info.value.credential == "admin_key"
        with pytest.raises(MissingCredentialsError) as info:
            await client.rate_limits()
        assert info.value.credential == "api_key"


async def test_missing_credentials_in_the_facade_carry_their_kind() -> None:
    async with AsyncVeniceKeys(Settings(api_base_url="http://127.0.0.1:9/api/v1")) as vk:
        for call, kind in ((vk.list_keys(), "admin_key"), (vk.rate_limits(), "api_key"),
                           (vk.mint_key(description="x"), "wallet")):
            with pytest.raises(MissingCredentialsError) as info:
                await call
            assert info.value.credential == kind


def test_keystore_without_password_is_a_password_error_before_any_request(
        tmp_path: Path) -> None:
    keystore = tmp_path / "k.json"
    create_keystore(keystore, SecretValue("pw"), kdf_iterations=16)
    with pytest.raises(KeystorePasswordError, match="needs a password"):
        load_signer(load_settings(environ={"VENICE_WALLET_KEYSTORE": str(keystore)}))


def test_cli_missing_wallet_exits_4_with_the_kind(cli: CliRunner, venice_sandbox: Any) -> None:
    res = cli("--json", "mint", "--type", "INFERENCE", "--description", "x", "--print",
              env=venice_sandbox.env())
    assert res.code == 4, res.stderr
    assert res.json()["error"]["type"] == "MissingCredentialsError"
    assert res.json()["error"]["credential"] == "wallet"


# ---- a URL password never reaches a message -------------------------------------------------


async def test_base_url_password_never_in_any_message(cli: CliRunner, caplog: Any) -> None:
    base = f"http://user:{PASSWORD}@127.0.0.1:9/api/v1"
    settings = load_settings(environ={"VENICE_API_BASE_URL": base,
                                      "VENICE_ADMIN_KEY": fake_key("ADMIN")})
    seen = [repr(settings), str(settings)]
    caplog.set_level(logging.DEBUG, logger="venice_web3_keys")
    async with AsyncVeniceKeys(settings) as vk:
        seen.append(repr(vk.client))
        with pytest.raises(VeniceKeysError) as info:
            await vk.list_keys()
        seen.append(str(info.value))
    seen.append(caplog.text)
    for args in (["keys", "list"], ["--json", "keys", "list"], ["keys", "get", "abcdef12"]):
        res = cli.subprocess(*args, env={"VENICE_API_BASE_URL": base,
                                         "VENICE_ADMIN_KEY": fake_key("ADMIN"),
                                         "VENICE_MAX_RETRIES": "0"})
        assert res.code != 0
        seen += [res.stdout, res.stderr]
    bad = cli.subprocess("keys", "list",
                         env={"VENICE_API_BASE_URL": f"ftp://u:{PASSWORD}@h/x"})
    seen += [bad.stdout, bad.stderr]
    leaked = [text for text in seen if PASSWORD in text]
    assert leaked == []


# ---- one redactor: private-key-shaped text is masked in errors and logs ---------------------


def test_private_key_shaped_text_is_masked_in_errors_and_logs(caplog: Any) -> None:
    from venice_web3_keys.secret import redact_text

    private = "0x" + secrets.token_hex(32)
    venice = fake_key()
    text = f"bad value {private} and Bearer {venice} and {venice}"
    for shown in (str(ConfigError(text)), redact_text(text)):
        assert private not in shown and private[-40:] not in shown and venice not in shown
    signature = "0x" + secrets.token_hex(65)  # a 65-byte signature is public, not a key
    assert signature in redact_text(f"sig {signature}")
    caplog.set_level(logging.INFO, logger="venice_web3_keys")
    logging.getLogger("venice_web3_keys.flows.create").warning("odd value %s", private)
    logging.getLogger("venice_web3_keys.client").info("odd %s", venice)
    assert private not in caplog.text and venice not in caplog.text
    assert "odd value" in caplog.text


def test_a_transaction_error_keeps_its_own_hash_but_masks_a_key_beside_it() -> None:
    """A tx hash and a private key share a shape: only the hash the error names stays readable."""
    from venice_web3_keys.errors import TransactionTimeoutError

    tx_hash = "0x" + secrets.token_hex(32)
    private = "0x" + secrets.token_hex(32)
    exc = TransactionTimeoutError(f"the stake transaction {tx_hash} was not mined ({private})",
                                  tx_hash=tx_hash, pending=True)
    assert tx_hash in str(exc) and exc.tx_hash == tx_hash
    assert private not in str(exc) and private[-40:] not in str(exc)


# ---- wallet-source conflicts: checked only by commands that sign, sources named --------------


def test_wallet_conflict_is_checked_only_when_signing_and_names_sources(
        cli: CliRunner, venice_sandbox: Any, admin_env: dict[str, str], tmp_path: Path) -> None:
    keystore = tmp_path / "k.json"
    create_keystore(keystore, SecretValue("pw"), kdf_iterations=16)
    dotenv = tmp_path / "wallet.env"
    dotenv.write_text(f"VENICE_WALLET_KEYSTORE={keystore}\n")
    _address, key = venice_sandbox.new_wallet()
    env = {**admin_env, "VENICE_WALLET_PRIVATE_KEY": key.reveal()}
    listed = cli("--env-file", str(dotenv), "--json", "keys", "list", env=env)
    assert listed.code == 0, listed.stderr  # never signs: the conflict does not matter
    minted = cli("--env-file", str(dotenv), "mint", "--type", "INFERENCE",
                 "--description", "x", "--print", env=env)
    assert minted.code == 2, minted.stderr
    message = " ".join(minted.stderr.split())
    assert "VENICE_WALLET_PRIVATE_KEY (from the environment)" in message
    assert f"VENICE_WALLET_KEYSTORE (from {dotenv})" in message


def test_settings_record_where_each_variable_came_from(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env.test"
    dotenv.write_text("VENICE_CHAIN_ID=8453\nVENICE_TIMEOUT=5\n")
    settings = load_settings(dotenv, environ={"VENICE_TIMEOUT": "7"},
                             api_base_url="http://127.0.0.1:9/api/v1")
    assert settings.source_of("VENICE_CHAIN_ID") == f"{dotenv}"
    assert settings.source_of("VENICE_TIMEOUT") == "the environment"
    assert settings.source_of("VENICE_API_BASE_URL") == "an explicit setting"
    assert settings.source_of("VENICE_ADMIN_KEY") is None


# ---- a .env in the working directory that redirects the API or the RPC ----------------------


def test_cwd_env_file_redirecting_the_api_is_named_on_stderr(
        cli: CliRunner, venice_sandbox: Any, admin_env: dict[str, str], tmp_path: Path) -> None:
    env = dict(admin_env)
    (tmp_path / ".env").write_text(f"VENICE_API_BASE_URL={env.pop('VENICE_API_BASE_URL')}\n"
                                   f"BASE_RPC_URL={env.pop('BASE_RPC_URL')}\n")
    res = cli("--json", "keys", "list", env=env)
    assert res.code == 0, res.stderr
    assert isinstance(res.json()["data"], list)  # stdout is only the JSON object
    notes = [line for line in res.stderr.splitlines() if ".env" in line]
    assert len(notes) == 1, res.stderr
    assert "VENICE_API_BASE_URL" in notes[0] and "BASE_RPC_URL" in notes[0]
    quiet = cli("--json", "keys", "list", env=admin_env)  # environment wins: nothing to say
    assert quiet.code == 0 and ".env" not in quiet.stderr
    chosen = cli("--env-file", ".env", "--json", "keys", "list", env=env)  # asked for: no note
    assert chosen.code == 0 and ".env" not in chosen.stderr


def test_every_module_logger_carries_the_redacting_filter() -> None:
    """A module logging through a bare `logging.getLogger` would skip secret.py's redactor."""
    import re
    from pathlib import Path

    package = Path(__file__).resolve().parents[2] / "venice_web3_keys"
    bare = re.compile(r'^\w+ = logging\.getLogger\(', re.M)
    offenders = [str(path.relative_to(package)) for path in package.rglob("*.py")
                 if bare.search(path.read_text())]
    assert offenders == [], f"use secret.get_logger in {offenders}"
    with_filter = [path for path in package.rglob("*.py") if "= get_logger(" in path.read_text()]
    assert len(with_filter) >= 15, "the module loggers were found"
