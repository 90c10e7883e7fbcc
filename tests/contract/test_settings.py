"""Settings: every variable's default, `.env` and the environment (which wins), the CLI's
--env-file/--api-base/--rpc-url, and that no secret is ever taken from argv (README.md,
"Settings")."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest

from tests.contract.conftest import ADDR_A
from tests.harness import CliRunner, SandboxAccount
from venice_web3_keys.secret import SecretValue
from venice_web3_keys.settings import load_settings

# Settings

STAKING = "0x321b7ff75154472B18EDb199033fF4D116F340Ff"
VVV = "0xacfE6019Ed1A7Dc6f7B508C02d1b04ec88cC21bf"
DIEM = "0xF4d97F2da56e8c3098f3a8D538DB630A2606a024"
ADDR_B = "0x2222222222222222222222222222222222222222"

# variable, Settings field, default, (value, parsed), (other value, parsed): `{tmp}` = a temp dir
SETTINGS: list[tuple[str, str, Any, tuple[str, Any], tuple[str, Any]]] = [
    ("VENICE_API_BASE_URL", "api_base_url", "https://api.venice.ai/api/v1",
     ("http://127.0.0.1:9/api/v1", "http://127.0.0.1:9/api/v1"),
     ("http://127.0.0.2:9/api/v1", "http://127.0.0.2:9/api/v1")),
    ("VENICE_ADMIN_KEY", "admin_key", None, ("admin-one", "admin-one"), ("admin-two", "admin-two")),
    ("VENICE_API_KEY", "api_key", None, ("api-one", "api-one"), ("api-two", "api-two")),
    ("VENICE_WALLET_PRIVATE_KEY", "wallet_private_key", None,
     ("0x" + "11" * 32, "0x" + "11" * 32), ("0x" + "22" * 32, "0x" + "22" * 32)),
    ("VENICE_WALLET_KEYSTORE", "wallet_keystore", None,
     ("{tmp}/a.json", "{tmp}/a.json"), ("{tmp}/b.json", "{tmp}/b.json")),
    ("VENICE_WALLET_PASSWORD_FILE", "wallet_password_file", None,
     ("{tmp}/a.pw", "{tmp}/a.pw"), ("{tmp}/b.pw", "{tmp}/b.pw")),
    ("VENICE_WALLET_PASSWORD", "wallet_password", None, ("pw-one", "pw-one"), ("pw-two", "pw-two")),
    ("BASE_RPC_URL", "rpc_urls", ("https://mainnet.base.org",),
     ("http://a.test:1,http://b.test:2", ("http://a.test:1", "http://b.test:2")),
     ("http://c.test:3", ("http://c.test:3",))),
    ("VENICE_CHAIN_ID", "chain_id", 8453, ("31337", 31337), ("1", 1)),
    ("VENICE_STAKING_CONTRACT", "staking_contract", STAKING, (ADDR_A, ADDR_A), (ADDR_B, ADDR_B)),
    ("VENICE_VVV_TOKEN", "vvv_token", VVV, (ADDR_A, ADDR_A), (ADDR_B, ADDR_B)),
    ("VENICE_DIEM_TOKEN", "diem_token", DIEM, (ADDR_A, ADDR_A), (ADDR_B, ADDR_B)),
    ("VENICE_BUDGET_URL", "budget_url", "memory://",
     ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
     ("redis://10.0.0.2:6380/1", "redis://10.0.0.2:6380/1")),
]
SETTING_IDS = [row[0] for row in SETTINGS]


def _fill(value: Any, tmp: Path) -> Any:
    if isinstance(value, str) and "{tmp}" in value:
        path = Path(value.replace("{tmp}", str(tmp)))
        path.write_text("{}")
        return str(path)
    return value


def _field(settings: Any, name: str) -> Any:
    value = getattr(settings, name)
    if isinstance(value, SecretValue):
        return value.reveal()
    if isinstance(value, Path):
        return str(value)
    return value


@pytest.mark.parametrize(("var", "name", "default", "one", "two"), SETTINGS, ids=SETTING_IDS)
def test_setting_default(var: str, name: str, default: Any, one: Any, two: Any, tmp_path: Path,
                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./.env here
    assert _field(load_settings(environ={}), name) == default


@pytest.mark.parametrize(("var", "name", "default", "one", "two"), SETTINGS, ids=SETTING_IDS)
def test_setting_from_env_file_and_the_environment_wins(
        var: str, name: str, default: Any, one: tuple[str, Any], two: tuple[str, Any],
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    raw_one, want_one = (_fill(v, tmp_path) for v in one)
    raw_two, want_two = (_fill(v, tmp_path) for v in two)
    # the environment alone
    assert _field(load_settings(environ={var: raw_one}), name) == want_one
    # ./.env (the default file) alone, and an explicit env file
    Path(".env").write_text(f"{var}={raw_one}\n")
    assert _field(load_settings(environ={}), name) == want_one
    Path("prod.env").write_text(f"{var}={raw_two}\n")
    assert _field(load_settings("prod.env", environ={}), name) == want_two
    # the process environment wins over the file
    assert _field(load_settings(environ={var: raw_two}), name) == want_two
    assert _field(load_settings("prod.env", environ={var: raw_one}), name) == want_one


def test_environment_wins_over_env_file_at_the_cli(cli: CliRunner, account: SandboxAccount,
                                                   tmp_path: Path) -> None:
    bogus = "http://127.0.0.1:9/api/v1"
    admin_key = account.admin_key.reveal()
    (tmp_path / ".env").write_text(f"VENICE_API_BASE_URL={bogus}\nVENICE_ADMIN_KEY=wrong\n")
    env = {"VENICE_API_BASE_URL": account.env["VENICE_API_BASE_URL"], "VENICE_ADMIN_KEY": admin_key}
    assert cli("--json", "keys", "list", env=env).code == 0
    # --env-file PATH is read instead of ./.env
    (tmp_path / "real.env").write_text("".join(f"{k}={v}\n" for k, v in account.env.items()))
    assert cli("--env-file", "real.env", "--json", "keys", "list").code == 0
    # --api-base beats everything; --rpc-url takes a comma-separated failover list, in order
    result = cli("--api-base", account.env["VENICE_API_BASE_URL"], "--json", "keys", "list",
                 env={"VENICE_API_BASE_URL": bogus, "VENICE_ADMIN_KEY": admin_key})
    assert result.code == 0, result
    result = cli("--rpc-url", f"http://127.0.0.1:9,{account.env['BASE_RPC_URL']}", "--json",
                 "wallet", "status", "--address", account.address,
                 env={"BASE_RPC_URL": "http://127.0.0.1:9"})
    assert result.code == 0, result
    assert result.json()["address"] == account.address


def test_settings_reach_the_network(account: SandboxAccount, tmp_path: Path) -> None:
    """VENICE_API_KEY is the key `limits` reports on (else the admin key); VENICE_CHAIN_ID is the
    chain the RPC must report; the keystore password file is preferred over the variable."""
    from venice_web3_keys import VeniceKeys, WrongChainError
    from venice_web3_keys.signer import create_keystore

    with VeniceKeys(load_settings(environ=account.env)) as vk:
        assert vk.rate_limits() is not None  # falls back to the admin key
    with VeniceKeys(load_settings(environ={**account.env, "VENICE_API_KEY": "not-a-key"})) as vk:
        with pytest.raises(Exception, match="401") as info:
            vk.rate_limits()
        assert type(info.value).__name__ == "AuthenticationError"
    wrong_chain = load_settings(environ={**account.env, "VENICE_CHAIN_ID": "1"})
    with VeniceKeys(wrong_chain) as vk, pytest.raises(WrongChainError):
        vk.wallet_status()
    keystore = tmp_path / "ks.json"
    address = create_keystore(keystore, SecretValue("right-password"), kdf_iterations=2)
    (tmp_path / "pw").write_text("right-password\n")
    env = {k: v for k, v in account.env.items() if k != "VENICE_WALLET_PRIVATE_KEY"}
    env.update({"VENICE_WALLET_KEYSTORE": str(keystore),
                "VENICE_WALLET_PASSWORD_FILE": str(tmp_path / "pw"),
                "VENICE_WALLET_PASSWORD": "wrong-password"})
    with VeniceKeys(load_settings(environ=env)) as vk:
        assert vk.wallet_status().address == address


FORBIDDEN_ARGV = re.compile(r"private|admin-key|api-key|secret|token|^--password$|mnemonic")


def _walk(group: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, click.Command]]:
    yield " ".join(path), group
    if isinstance(group, click.Group):
        for name, sub in group.commands.items():
            yield from _walk(sub, (*path, name))


def test_no_secret_is_accepted_as_a_command_line_argument() -> None:
    from venice_web3_keys.cli.app import cli as root
    from venice_web3_keys.mcp.config import build_parser

    for path, command in _walk(root):
        for param in command.params:
            for opt in [*param.opts, *param.secondary_opts]:
                assert not FORBIDDEN_ARGV.search(opt), (path, opt)
            if isinstance(param, click.Argument):
                assert not FORBIDDEN_ARGV.search(param.name or ""), (path, param.name)
    for action in build_parser()._actions:
        for opt in action.option_strings:
            assert not FORBIDDEN_ARGV.search(opt), opt


