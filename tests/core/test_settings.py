from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes import fake_key
from venice_web3_keys.errors import ConfigError
from venice_web3_keys.secret import SecretValue, redact_url
from venice_web3_keys.settings import Settings, load_settings

PK = "0x" + "11" * 32
STAKING = "0x321b7ff75154472B18EDb199033fF4D116F340Ff"


def test_defaults_with_empty_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    s = load_settings(environ={})
    assert s == Settings()
    assert s.api_host == "api.venice.ai"
    assert s.rpc_urls == ("https://mainnet.base.org",)
    assert not s.has_wallet


def test_every_variable(tmp_path: Path) -> None:
    ks = tmp_path / "ks.json"
    ks.write_text("{}")
    pw = tmp_path / "pw"
    pw.write_text("pw\n")
    env = {
        "VENICE_API_BASE_URL": "http://127.0.0.1:8123/api/v1/",
        "VENICE_ADMIN_KEY": "VENICE_ADMIN_KEY_aaa",
        "VENICE_API_KEY": "VENICE_INFERENCE_KEY_bbb",
        "VENICE_WALLET_KEYSTORE": str(ks),
        "VENICE_WALLET_PASSWORD_FILE": str(pw),
        "VENICE_WALLET_PASSWORD": "hunter2",
        "BASE_RPC_URL": "http://127.0.0.1:1, https://rpc.example/v2/KEY123 ,",
        "VENICE_CHAIN_ID": "84532",
        "VENICE_STAKING_CONTRACT": STAKING.lower(),
        "VENICE_VVV_TOKEN": "0xacfe6019ed1a7dc6f7b508c02d1b04ec88cc21bf",
        "VENICE_DIEM_TOKEN": "0xF4d97F2da56e8c3098f3a8D538DB630A2606a024",
        "VENICE_TIMEOUT": "2.5",
        "VENICE_MAX_RETRIES": "0",
    }
    s = load_settings(environ=env, env_file=_empty_env(tmp_path))
    assert s.api_base_url == "http://127.0.0.1:8123/api/v1"
    assert s.api_host == "127.0.0.1:8123"
    assert isinstance(s.admin_key, SecretValue) and s.admin_key.reveal() == "VENICE_ADMIN_KEY_aaa"
    assert s.api_key is not None and s.api_key.reveal() == "VENICE_INFERENCE_KEY_bbb"
    assert s.wallet_keystore == ks and s.wallet_password_file == pw
    assert s.wallet_password is not None and s.wallet_password.reveal() == "hunter2"
    assert s.rpc_urls == ("http://127.0.0.1:1", "https://rpc.example/v2/KEY123")
    assert s.chain_id == 84532
    assert s.staking_contract == STAKING
    assert s.vvv_token == "0xacfE6019Ed1A7Dc6f7B508C02d1b04ec88cC21bf"
    assert s.timeout == 2.5 and s.max_retries == 0
    assert s.has_wallet


def _empty_env(tmp_path: Path) -> Path:
    p = tmp_path / "empty.env"
    p.write_text("")
    return p


def test_env_file_and_process_env_wins(tmp_path: Path) -> None:
    f = tmp_path / ".env.prod"
    f.write_text("VENICE_CHAIN_ID=10\nVENICE_API_BASE_URL=https://file.example/api/v1\n"
                 "VENICE_ADMIN_KEY='from-file'\n")
    s = load_settings(f, environ={"VENICE_CHAIN_ID": "8453"})
    assert s.chain_id == 8453
    assert s.api_base_url == "https://file.example/api/v1"
    assert s.admin_key is not None and s.admin_key.reveal() == "from-file"


def test_default_dotenv_in_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("VENICE_CHAIN_ID=31337\n")
    monkeypatch.chdir(tmp_path)
    assert load_settings(environ={}).chain_id == 31337


def test_missing_explicit_env_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.env", environ={})


def test_overrides_use_field_names(tmp_path: Path) -> None:
    s = load_settings(_empty_env(tmp_path), environ={"BASE_RPC_URL": "http://a.example"},
                      rpc_urls=["http://b.example", "http://c.example"],
                      api_base_url="http://127.0.0.1:9/api/v1", chain_id=None)
    assert s.rpc_urls == ("http://b.example", "http://c.example")
    assert s.api_base_url == "http://127.0.0.1:9/api/v1"
    assert s.chain_id == 8453
    with pytest.raises(ConfigError, match="unknown setting"):
        load_settings(_empty_env(tmp_path), environ={}, rpc_url="http://x")


def test_empty_values_mean_unset(tmp_path: Path) -> None:
    s = load_settings(_empty_env(tmp_path), environ={"VENICE_ADMIN_KEY": "  ",
                                                     "VENICE_CHAIN_ID": ""})
    assert s.admin_key is None and s.chain_id == 8453


@pytest.mark.parametrize(("var", "value", "needle"), [
    ("VENICE_API_BASE_URL", "ftp://api.venice.ai", "VENICE_API_BASE_URL"),
    ("VENICE_API_BASE_URL", "api.venice.ai/api/v1", "VENICE_API_BASE_URL"),
    ("VENICE_API_BASE_URL", "https://api.venice.ai/api/v1?x=1", "VENICE_API_BASE_URL"),
    ("VENICE_API_BASE_URL", "http://host:notaport/", "VENICE_API_BASE_URL"),
    ("VENICE_API_BASE_URL", "http://[::1/api/v1", "VENICE_API_BASE_URL"),  # unclosed bracket
    ("BASE_RPC_URL", "http://[::1", "BASE_RPC_URL"),
    ("BASE_RPC_URL", "http://ok.example,not a url", "BASE_RPC_URL"),
    ("BASE_RPC_URL", " , ", "BASE_RPC_URL"),
    ("VENICE_CHAIN_ID", "base", "VENICE_CHAIN_ID"),
    ("VENICE_CHAIN_ID", "0", "VENICE_CHAIN_ID"),
    ("VENICE_CHAIN_ID", "-1", "VENICE_CHAIN_ID"),
    ("VENICE_STAKING_CONTRACT", "0x123", "VENICE_STAKING_CONTRACT"),
    ("VENICE_VVV_TOKEN", "0xacfE6019Ed1A7Dc6f7B508C02d1b04ec88cC21BF", "VENICE_VVV_TOKEN"),
    ("VENICE_DIEM_TOKEN", "hello", "VENICE_DIEM_TOKEN"),
    ("VENICE_TIMEOUT", "-1", "VENICE_TIMEOUT"),
    ("VENICE_TIMEOUT", "nan", "VENICE_TIMEOUT"),
    ("VENICE_MAX_RETRIES", "1.5", "VENICE_MAX_RETRIES"),
    ("VENICE_API_BASE_URL", "https://api.venice.ai/api v1", "must not contain whitespace"),
    ("BASE_RPC_URL", "http://rpc.example:99999", "BASE_RPC_URL entry"),
    ("VENICE_TIMEOUT", "thirty", "VENICE_TIMEOUT must be a number of seconds"),
    ("VENICE_WALLET_KEYSTORE", "/nonexistent/ks.json", "VENICE_WALLET_KEYSTORE"),
    ("VENICE_WALLET_PASSWORD_FILE", "/nonexistent/pw", "VENICE_WALLET_PASSWORD_FILE"),
])
def test_bad_values_name_the_variable(tmp_path: Path, var: str, value: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        load_settings(_empty_env(tmp_path), environ={var: value})


def test_bad_private_key_not_echoed(tmp_path: Path) -> None:
    bad = "0x" + "zz" * 32
    with pytest.raises(ConfigError, match="VENICE_WALLET_PRIVATE_KEY") as info:
        load_settings(_empty_env(tmp_path), environ={"VENICE_WALLET_PRIVATE_KEY": bad})
    assert bad not in str(info.value) and "zzzz" not in str(info.value)


def test_private_key_and_keystore_conflict_is_left_to_the_signer(tmp_path: Path) -> None:
    """Loading never fails on it (a command that does not sign is not blocked); the signer
    refuses it, naming where each variable came from, never the key."""
    from venice_web3_keys.signer import load_signer

    ks = tmp_path / "ks.json"
    ks.write_text("{}")
    settings = load_settings(_empty_env(tmp_path), environ={"VENICE_WALLET_PRIVATE_KEY": PK,
                                                            "VENICE_WALLET_KEYSTORE": str(ks)})
    with pytest.raises(ConfigError, match="only one") as info:
        load_signer(settings)
    assert PK[2:] not in str(info.value)
    assert "VENICE_WALLET_KEYSTORE (from the environment)" in str(info.value)


def test_unreadable_password_file(tmp_path: Path) -> None:
    pw = tmp_path / "pw"
    pw.mkdir()  # unreadable as a file even for root (tests here may run as root)
    with pytest.raises(ConfigError, match="VENICE_WALLET_PASSWORD_FILE"):
        load_settings(_empty_env(tmp_path), environ={"VENICE_WALLET_PASSWORD_FILE": str(pw)})


def test_repr_masks_secrets_and_rpc_keys(tmp_path: Path) -> None:
    s = load_settings(_empty_env(tmp_path), environ={
        "VENICE_WALLET_PRIVATE_KEY": PK, "VENICE_ADMIN_KEY": fake_key("ADMIN", "topsecret"),
        "BASE_RPC_URL": "https://base-mainnet.g.alchemy.com/v2/ALCHEMYKEY123?token=Q"})
    for text in (repr(s), str(s)):
        assert "11" * 32 not in text
        assert "topsecret" not in text
        assert "ALCHEMYKEY123" not in text and "token=Q" not in text
        assert "base-mainnet.g.alchemy.com" in text


@pytest.mark.parametrize(("url", "shown"), [
    ("https://mainnet.base.org", "https://mainnet.base.org"),
    ("https://mainnet.base.org/", "https://mainnet.base.org"),
    ("http://127.0.0.1:8545", "http://127.0.0.1:8545"),
    ("https://x.example/v2/KEY", "https://x.example/***"),
    ("https://user:pw@x.example", "https://x.example/***"),
    ("https://x.example?apikey=KEY", "https://x.example/***"),
    ("not a url", "<invalid url>"),
])
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_settings_import_is_light() -> None:
    code = ("import sys, venice_web3_keys.settings, venice_web3_keys.addresses, "
            "venice_web3_keys.timeparse, venice_web3_keys.validation, venice_web3_keys.sinks, "
            "venice_web3_keys.signer, venice_web3_keys.challenge;"
            "bad = [m for m in ('web3', 'eth_account', 'eth_utils', 'eth_keyfile') "
            "if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_unreadable_env_file(tmp_path: Path) -> None:
    env = tmp_path / "latin1.env"
    env.write_bytes(b"VENICE_CHAIN_ID=8453\nNAME=caf\xe9\n")
    with pytest.raises(ConfigError, match="cannot be read: UnicodeDecodeError"):
        load_settings(env, environ={})


@pytest.mark.parametrize(("overrides", "needle"), [
    ({"rpc_urls": ["http://ok.example", 7]}, "BASE_RPC_URL must be a list of URLs"),
    ({"max_retries": True}, "VENICE_MAX_RETRIES must be an integer"),
    ({"timeout": False}, "VENICE_TIMEOUT must be a number of seconds"),
    ({"admin_key": 12345}, "VENICE_ADMIN_KEY must be a string"),
])
def test_bad_override_types_are_config_errors(tmp_path: Path, overrides: dict[str, object],
                                              needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        load_settings(_empty_env(tmp_path), environ={}, **overrides)


def test_typed_overrides_are_accepted(tmp_path: Path) -> None:
    s = load_settings(_empty_env(tmp_path), environ={}, max_retries=4,
                      admin_key=SecretValue(" VENICE_ADMIN_KEY_x "),
                      rpc_urls=["http://a.example", "http://b.example/"])
    assert s.max_retries == 4 and s.admin_key == SecretValue("VENICE_ADMIN_KEY_x")
    assert s.rpc_urls == ("http://a.example", "http://b.example")
