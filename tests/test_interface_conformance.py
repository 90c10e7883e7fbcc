"""Conformance with the fixed public contract (`interface.md`), item by item.

Each section mirrors a section of interface.md and is driven by tables that spell the contract
out literally: if a name, option, choice, JSON shape, exit code, setting, tool or argument drifts,
a row here fails. One shared sandbox (the installed pytest plugin) serves every test; the CLI runs
in-process through its console-script function `main()` except where the entry point itself is the
thing under test (console scripts, `python -m`, `python mcp_server.py`, the sandbox module).

Known, accepted deviation: missing credentials (no admin key, no wallet) exit 4, not 2; Ctrl-C 130.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import os
import queue
import re
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any, get_type_hints

import click
import httpx
import pytest
from dotenv import dotenv_values

from venice_web3_keys.secret import SecretValue
from venice_web3_keys.settings import load_settings

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = REPO / ".venv" / "bin"
PY = sys.executable
UUID0 = "00000000-0000-4000-8000-000000000000"
SEND_FORM = re.compile(r"\d{4}-\d{2}-\d{2}|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


# =================================================================================================
# harness
# =================================================================================================


def _clean_environ(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("VENICE_", "BASE_RPC", "_VENICE"))}
    env.update({"NO_COLOR": "1", "COLUMNS": "200"})
    env.update(extra or {})
    return env


def _flat(text: str) -> str:
    return " ".join(text.split())


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    def obj(self) -> dict[str, Any]:
        """stdout must be exactly one JSON object and nothing else."""
        value = json.loads(self.stdout)
        assert isinstance(value, dict), self.stdout
        return value

    def error(self) -> dict[str, Any]:
        """A `--json` failure: `{"error": {"type", "message", ...}}` only; message on stderr."""
        body = self.obj()
        assert set(body) == {"error"}, body
        err = body["error"]
        assert isinstance(err["type"], str) and err["type"]
        assert isinstance(err["message"], str) and err["message"]
        assert _flat(err["message"]) in _flat(self.stderr), (err, self.stderr)
        return err


CLI = Callable[..., Run]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> CLI:
    """cli(*argv, env={...}) -> Run: the `venice-keys` console-script function, in-process."""
    from venice_web3_keys.cli.app import main

    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("VENICE_", "BASE_RPC", "_VENICE")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    logger = logging.getLogger("venice_web3_keys")

    def run(*argv: str, env: Mapping[str, str] | None = None) -> Run:
        handlers = list(logger.handlers)
        capsys.readouterr()
        with monkeypatch.context() as m:
            for key, value in (env or {}).items():
                m.setenv(key, value)
            try:
                main(list(argv))
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            finally:
                logger.handlers[:] = handlers
        out = capsys.readouterr()
        return Run(code, out.out, out.err)

    return run


def run_exe(argv: list[str], *, env: Mapping[str, str] | None = None, cwd: Path,
            timeout: float = 60) -> Run:
    proc = subprocess.run(argv, env=_clean_environ(env), cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, check=False)
    return Run(proc.returncode, proc.stdout, proc.stderr)


@dataclass
class Acct:
    """A sandbox wallet with sVVV, its account's ADMIN key, and the settings to reach both."""

    sandbox: Any
    address: str
    private_key: SecretValue
    admin: str
    env: dict[str, str]
    _inference: str | None = field(default=None, repr=False)

    def inference_key(self) -> str:
        """An INFERENCE key of this account (made once, with the library)."""
        if self._inference is None:
            from venice_web3_keys import VeniceKeys

            with VeniceKeys(load_settings(environ=self.env)) as vk:
                new = vk.create_key(api_key_type="INFERENCE", description="inference", usd_limit=1)
            self._inference = new.secret.reveal()
        return self._inference

    def last_request(self) -> Any:
        reqs = self.sandbox.emulator.requests()
        return reqs[-1] if reqs else None


@pytest.fixture
def acct(venice_sandbox: Any, venice_wallet: tuple[str, SecretValue],
         venice_admin_key: SecretValue) -> Acct:
    address, private_key = venice_wallet
    env = venice_sandbox.env(private_key)
    env["VENICE_ADMIN_KEY"] = venice_admin_key.reveal()
    return Acct(venice_sandbox, address, private_key, venice_admin_key.reveal(), env)


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, Any]]:
    """Every Venice API request the process sends: (method, path, decoded JSON body or None)."""
    sent: list[tuple[str, str, Any]] = []
    original = httpx.AsyncClient.send

    async def send(self: httpx.AsyncClient, request: httpx.Request, *args: Any,
                   **kwargs: Any) -> httpx.Response:
        if "/api/v1/" in request.url.path:
            body = json.loads(request.content) if request.content else None
            sent.append((request.method, request.url.path.split("/api/v1", 1)[1], body))
        return await original(self, request, *args, **kwargs)

    monkeypatch.setattr(httpx.AsyncClient, "send", send)
    return sent


# =================================================================================================
# Distribution and entry points
# =================================================================================================


def test_distribution_and_console_scripts() -> None:
    dist = metadata.distribution("venice-web3-keys")
    assert dist.metadata["Name"] == "venice-web3-keys"
    assert dist.metadata["Requires-Python"] == ">=3.11"
    scripts = {ep.name: ep.value for ep in dist.entry_points if ep.group == "console_scripts"}
    assert scripts["venice-keys"] == "venice_web3_keys.cli.app:main"
    assert scripts["venice-keys-mcp"] == "venice_web3_keys.mcp.server:main"
    import venice_web3_keys

    assert venice_web3_keys.__name__ == "venice_web3_keys"
    assert (REPO / "mcp_server.py").is_file()


@pytest.mark.parametrize("script", ["venice-keys", "venice-keys-mcp"])
def test_checkout_venv_has_the_console_scripts(script: str) -> None:
    path = VENV_BIN / script
    assert path.is_file() and os.access(path, os.X_OK), path


TOP_COMMANDS = ("wallet", "mint", "keys", "limits", "billing", "sandbox", "demo")


@pytest.mark.parametrize("argv", [[str(VENV_BIN / "venice-keys")], [PY, "-m", "venice_web3_keys"]],
                         ids=["console-script", "python-m"])
def test_cli_entry_points(argv: list[str], tmp_path: Path) -> None:
    helped = run_exe([*argv, "--help"], cwd=tmp_path)
    assert helped.code == 0, helped.stderr
    for name in (*TOP_COMMANDS, "--env-file", "--json", "--api-base", "--rpc-url"):
        assert name in helped.stdout, name
    # a failure through the real entry point: one JSON object, message on stderr, exit 4
    failed = run_exe([*argv, "--json", "keys", "list"], cwd=tmp_path)
    assert failed.code == 4, failed
    assert failed.error()["type"] == "MissingCredentialsError"


def _read_env_lines(proc: subprocess.Popen[str], timeout: float = 60) -> dict[str, str]:
    """The `NAME=value` lines the sandbox prints before its `# Ctrl-C` line."""
    stream = proc.stdout
    assert stream is not None
    found: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        for line in stream:
            found.put(line)
        found.put(None)

    threading.Thread(target=pump, daemon=True).start()
    lines: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    while (line := found.get(timeout=max(deadline - time.monotonic(), 0.01))) is not None:
        if line.startswith("# Ctrl-C"):
            return lines
        if "=" in line and not line.startswith("#"):
            name, _, value = line.strip().partition("=")
            lines[name] = value
    raise AssertionError(f"no complete .env block from the sandbox: {lines}")


def test_python_m_sandbox_prints_env_lines_of_a_funded_wallet(tmp_path: Path) -> None:
    from venice_web3_keys import VeniceKeys

    proc = subprocess.Popen([PY, "-m", "venice_web3_keys.sandbox"], env=_clean_environ(),
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    try:
        env = _read_env_lines(proc)
        assert {"VENICE_API_BASE_URL", "BASE_RPC_URL", "VENICE_WALLET_PRIVATE_KEY"} <= set(env)
        env_file = tmp_path / ".env"
        env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
        with VeniceKeys.from_env(env_file) as vk:
            status = vk.wallet_status()
            assert status.eligible is True
            assert status.balances["VVV"] > 0  # some unstaked VVV, to try staking
            minted = vk.mint_key(api_key_type="INFERENCE", description="sandbox check")
            assert minted.id
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            assert proc.wait(timeout=15) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


# =================================================================================================
# Settings
# =================================================================================================

STAKING = "0x321b7ff75154472B18EDb199033fF4D116F340Ff"
VVV = "0xacfE6019Ed1A7Dc6f7B508C02d1b04ec88cC21bf"
DIEM = "0xF4d97F2da56e8c3098f3a8D538DB630A2606a024"
ADDR_A = "0x1111111111111111111111111111111111111111"
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


def test_environment_wins_over_env_file_at_the_cli(cli: CLI, acct: Acct, tmp_path: Path) -> None:
    bogus = "http://127.0.0.1:9/api/v1"
    (tmp_path / ".env").write_text(f"VENICE_API_BASE_URL={bogus}\nVENICE_ADMIN_KEY=wrong\n")
    env = {"VENICE_API_BASE_URL": acct.env["VENICE_API_BASE_URL"], "VENICE_ADMIN_KEY": acct.admin}
    assert cli("--json", "keys", "list", env=env).code == 0
    # --env-file PATH is read instead of ./.env
    (tmp_path / "real.env").write_text("".join(f"{k}={v}\n" for k, v in acct.env.items()))
    assert cli("--env-file", "real.env", "--json", "keys", "list").code == 0
    # --api-base beats everything; --rpc-url takes a comma-separated failover list, in order
    run = cli("--api-base", acct.env["VENICE_API_BASE_URL"], "--json", "keys", "list",
              env={"VENICE_API_BASE_URL": bogus, "VENICE_ADMIN_KEY": acct.admin})
    assert run.code == 0, run
    run = cli("--rpc-url", f"http://127.0.0.1:9,{acct.env['BASE_RPC_URL']}", "--json", "wallet",
              "status", "--address", acct.address, env={"BASE_RPC_URL": "http://127.0.0.1:9"})
    assert run.code == 0, run
    assert run.obj()["address"] == acct.address


def test_settings_reach_the_network(acct: Acct, tmp_path: Path) -> None:
    """VENICE_API_KEY is the key `limits` reports on (else the admin key); VENICE_CHAIN_ID is the
    chain the RPC must report; the keystore password file is preferred over the variable."""
    from venice_web3_keys import VeniceKeys, WrongChainError
    from venice_web3_keys.signer import create_keystore

    with VeniceKeys(load_settings(environ=acct.env)) as vk:
        assert vk.rate_limits() is not None  # falls back to the admin key
    with VeniceKeys(load_settings(environ={**acct.env, "VENICE_API_KEY": "not-a-key"})) as vk:
        with pytest.raises(Exception, match="401") as info:
            vk.rate_limits()
        assert type(info.value).__name__ == "AuthenticationError"
    wrong_chain = load_settings(environ={**acct.env, "VENICE_CHAIN_ID": "1"})
    with VeniceKeys(wrong_chain) as vk, pytest.raises(WrongChainError):
        vk.wallet_status()
    keystore = tmp_path / "ks.json"
    address = create_keystore(keystore, SecretValue("right-password"), kdf_iterations=2)
    (tmp_path / "pw").write_text("right-password\n")
    env = {k: v for k, v in acct.env.items() if k != "VENICE_WALLET_PRIVATE_KEY"}
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


# =================================================================================================
# Library
# =================================================================================================

LIBRARY_METHODS: dict[str, list[str]] = {  # method: parameters it must take by these names
    "wallet_status": [],
    "mint_key": ["api_key_type", "description", "expires_at", "usd_limit", "diem_limit",
                 "limit_period", "model_privacy"],
    "list_keys": [],
    "get_key": ["key_id"],
    "create_key": ["api_key_type", "description", "expires_at", "usd_limit", "diem_limit",
                   "limit_period", "model_privacy"],
    "update_key": ["key_id"],
    "revoke_key": ["key_id"],
    "rotate_key": ["key_id"],
    "rate_limits": [],
    "rate_limit_log": [],
    "billing_balance": [],
    "stake_vvv": ["amount", "dry_run"],
}


def _param_names(fn: Any) -> set[str]:
    sig = inspect.signature(fn)
    names = {p.name for p in sig.parameters.values() if p.kind != p.VAR_KEYWORD}
    for p in sig.parameters.values():
        # `**options: Unpack[KeyOptions]`: the keyword arguments the TypedDict names
        match = re.fullmatch(r"Unpack\[(\w+)\]", str(p.annotation))
        if p.kind == p.VAR_KEYWORD and match:
            names |= set(get_type_hints(inspect.unwrap(fn).__globals__[match.group(1)]))
    return names


@pytest.mark.parametrize(("method", "params"), LIBRARY_METHODS.items(), ids=list(LIBRARY_METHODS))
def test_library_methods(method: str, params: list[str]) -> None:
    from venice_web3_keys import AsyncVeniceKeys, VeniceKeys

    sync_keys = VeniceKeys(settings=load_settings(environ={}))
    async_fn, sync_fn = getattr(AsyncVeniceKeys, method), getattr(sync_keys, method)
    sync_keys.close()
    assert inspect.iscoroutinefunction(async_fn)
    assert not inspect.iscoroutinefunction(sync_fn)
    for fn in (async_fn, sync_fn):
        assert set(params) <= _param_names(fn), (method, fn)
    if method == "mint_key":
        assert inspect.signature(async_fn).parameters["api_key_type"].default == "INFERENCE"
    if method == "stake_vvv":
        assert inspect.signature(async_fn).parameters["dry_run"].default is False


def test_library_provision_customer_keys() -> None:
    """Async: an async iterator of per-customer results; sync: a list (same parameters)."""
    import asyncio

    from tests.fakes import fake_key
    from venice_web3_keys import AsyncVeniceKeys, VeniceKeys

    # Nothing listens on port 9: an empty list must not need the network at all.
    env = {"VENICE_ADMIN_KEY": fake_key("ADMIN"), "VENICE_API_BASE_URL": "http://127.0.0.1:9"}
    with VeniceKeys(settings=load_settings(environ=env)) as sync_keys:
        sync_fn = sync_keys.provision_customer_keys
        assert sync_fn([], sink_factory=lambda customer: None, usd_limit=1) == []
    async_fn = AsyncVeniceKeys.provision_customer_keys
    for fn in (async_fn, sync_fn):
        assert not inspect.iscoroutinefunction(fn)
        assert {"customer_ids", "sink_factory", "usd_limit", "diem_limit", "expires_at",
                "limit_period", "model_privacy"} <= _param_names(fn)

    async def iterate() -> list[Any]:
        async with AsyncVeniceKeys(load_settings(environ=env)) as keys:
            run = keys.provision_customer_keys([], sink_factory=lambda c: None, usd_limit=1)
            assert hasattr(run, "__aiter__") and hasattr(run, "__anext__")
            return [result async for result in run]

    assert asyncio.run(iterate()) == []


def test_library_constructors() -> None:
    from venice_web3_keys import AsyncVeniceKeys, VeniceKeys

    for cls in (VeniceKeys, AsyncVeniceKeys):
        assert "env_file" in inspect.signature(cls.from_env).parameters
        assert inspect.signature(cls).parameters["settings"].default is None
        built = cls(settings=load_settings(environ={}))
        assert built.settings.api_base_url == "https://api.venice.ai/api/v1"
        if isinstance(built, VeniceKeys):
            built.close()


def test_library_whole_flow(acct: Acct, tmp_path: Path) -> None:
    """Every `VeniceKeys` method against the sandbox; a secret is masked until revealed."""
    from venice_web3_keys import ApiKeySecret, FileSink, VeniceKeys

    env_file = tmp_path / ".env.prod"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in acct.env.items()
                                if k != "VENICE_ADMIN_KEY"))
    with VeniceKeys.from_env(env_file) as wallet_only:
        status = wallet_only.wallet_status()
        assert (status.address, status.chain_id, status.eligible) == (acct.address, 8453, True)
        assert {"ETH", "VVV", "sVVV", "DIEM"} <= set(status.balances)
        minted = wallet_only.mint_key(api_key_type="ADMIN", description="lib admin",
                                      expires_at="7d", usd_limit=5, diem_limit=2,
                                      limit_period="MONTH", model_privacy="PRIVATE_ONLY")
    secret = minted.secret
    assert isinstance(secret, ApiKeySecret)
    raw = secret.reveal()
    assert raw and raw not in str(secret) and raw not in repr(secret) and raw not in f"{secret}"
    assert raw not in repr(minted) and raw not in str(minted)
    assert (minted.api_key_type, minted.limit_period, minted.model_privacy) == (
        "ADMIN", "MONTH", "PRIVATE_ONLY")

    with VeniceKeys(settings=load_settings(environ={**acct.env, "VENICE_ADMIN_KEY": raw})) as vk:
        sink_path = tmp_path / "customer.key"
        new = vk.create_key(api_key_type="INFERENCE", description="lib customer", usd_limit=3,
                            sink=FileSink(sink_path))
        assert sink_path.read_text().strip() == new.secret.reveal()  # delivered to the sink
        assert new.id in {k.id for k in vk.list_keys()}
        assert vk.get_key(new.id).id == new.id
        updated = vk.update_key(new.id, usd_limit=None, diem_limit=4, expires_at="3d")
        assert updated.consumption_limits.usd is None and updated.consumption_limits.diem == 4
        assert vk.update_key(new.id, expires_at=None).expires_at is None
        rotated = vk.rotate_key(new.id)
        assert rotated.revoked_key_id == new.id and rotated.new_key.id != new.id
        vk.revoke_key(rotated.new_key.id)
        assert rotated.new_key.id not in {k.id for k in vk.list_keys()}
        assert vk.rate_limits() is not None
        assert isinstance(vk.rate_limit_log(), list)
        assert vk.billing_balance() is not None


async def test_async_library_reads(acct: Acct, tmp_path: Path) -> None:
    from venice_web3_keys import AsyncVeniceKeys

    env_file = tmp_path / ".env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in acct.env.items()))
    async with AsyncVeniceKeys.from_env(env_file) as vk:
        assert (await vk.wallet_status()).eligible is True
        keys = await vk.list_keys()
        assert keys and (await vk.get_key(keys[0].id)).id == keys[0].id
        assert await vk.rate_limits() is not None
        assert isinstance(await vk.rate_limit_log(), list)
        assert await vk.billing_balance() is not None


# =================================================================================================
# CLI: commands, options, choices
# =================================================================================================

KEY_OPTIONS = {"--expires", "--usd-limit", "--diem-limit", "--limit-period", "--model-privacy"}
SINKS = {"--out", "--env-out", "--keyring", "--print"}
NEW_KEY = {"--type", "--description"} | KEY_OPTIONS | SINKS

# command path: (arguments, options, required options, flags)
CLI_COMMANDS: dict[str, tuple[list[str], set[str], set[str], set[str]]] = {
    "": ([], {"--env-file", "--json", "--api-base", "--rpc-url"}, set(), {"--json"}),
    "wallet new": ([], {"--keystore", "--password-file"}, {"--keystore"}, set()),
    "wallet status": ([], {"--address"}, set(), set()),
    "wallet stake": (["AMOUNT|all"], {"--dry-run", "--yes"}, set(), {"--dry-run", "--yes"}),
    "mint": ([], NEW_KEY, {"--type", "--description"}, {"--print"}),
    "keys list": ([], set(), set(), set()),
    "keys get": (["ID"], set(), set(), set()),
    "keys create": ([], NEW_KEY, {"--type", "--description"}, {"--print"}),
    "keys update": (["ID"], {"--description", "--expires", "--no-expiry", "--usd-limit",
                             "--diem-limit", "--limit-period", "--model-privacy"},
                    set(), {"--no-expiry"}),
    "keys revoke": (["ID"], {"--yes"}, set(), {"--yes"}),
    "keys rotate": (["ID"], SINKS, set(), {"--print"}),
    "limits": ([], set(), set(), set()),
    "limits log": ([], set(), set(), set()),
    "billing": ([], set(), set(), set()),
    "sandbox": ([], set(), set(), set()),
    "demo": ([], set(), set(), set()),
}

CHOICES = {
    "--type": ("INFERENCE", "ADMIN"),
    "--limit-period": ("EPOCH", "MONTH", "LIFETIME"),
    "--model-privacy": ("ALL", "PRIVATE_TEXT", "PRIVATE_ONLY"),
}


def _command(path: str) -> click.Command:
    from venice_web3_keys.cli.app import cli as root

    command: click.Command = root
    for part in path.split():
        assert isinstance(command, click.Group)
        command = command.commands[part]
    return command


@pytest.mark.parametrize("path", list(CLI_COMMANDS), ids=[p or "venice-keys" for p in CLI_COMMANDS])
def test_cli_command_and_options(path: str, cli: CLI) -> None:
    arguments, options, required, flags = CLI_COMMANDS[path]
    command = _command(path)
    by_opt = {opt: p for p in command.params for opt in p.opts}
    assert options <= set(by_opt), (path, options - set(by_opt))
    for opt in options:
        param = by_opt[opt]
        assert param.required == (opt in required), (path, opt)
        assert isinstance(param, click.Option) and param.is_flag == (opt in flags), (path, opt)
        if opt in CHOICES:
            assert isinstance(param.type, click.Choice), (path, opt)
            assert tuple(param.type.choices) == CHOICES[opt], (path, opt)
    if path == "sandbox":  # its arguments go to `python -m venice_web3_keys.sandbox`
        return
    args = [p for p in command.params if isinstance(p, click.Argument)]
    assert [p.make_metavar(click.Context(command)) for p in args] == arguments
    helped = cli(*path.split(), "--help")
    assert helped.code == 0, helped
    for opt in options:
        assert opt in helped.stdout, (path, opt)
    for name in arguments:
        assert name in helped.stdout


def test_cli_sandbox_command_runs_the_sandbox_module(cli: CLI) -> None:
    helped = cli("sandbox", "--help")
    assert helped.code == 0 and "python -m venice_web3_keys.sandbox" in helped.stdout


# =================================================================================================
# CLI: JSON output of every command
# =================================================================================================

NEW_KEY_FIELDS = {"id", "apiKeyType", "description", "last6", "fingerprint", "sink"}


def _check_new_key(obj: dict[str, Any], kind: str, secret: str | None = None) -> None:
    assert set(obj) >= NEW_KEY_FIELDS, obj
    assert set(obj["sink"]) == {"kind", "location"} and obj["sink"]["kind"] == kind
    assert re.fullmatch(r"[0-9a-f]{64}", obj["fingerprint"])
    if secret is not None:
        assert obj["fingerprint"] == hashlib.sha256(secret.encode()).hexdigest()
        assert obj["last6"] == secret[-6:]


def test_every_command_prints_exactly_one_json_object(cli: CLI, acct: Acct,
                                                      tmp_path: Path) -> None:
    env = acct.env
    (tmp_path / "pw").write_text("a-password\n")
    # wallet new / wallet status
    made = cli("--json", "wallet", "new", "--keystore", "w.json", "--password-file", "pw")
    assert made.code == 0, made
    assert set(made.obj()) == {"address", "keystore"}
    assert Path(made.obj()["keystore"]).name == "w.json"
    keystore = json.loads((tmp_path / "w.json").read_text())
    assert keystore["version"] == 3
    assert made.obj()["address"].lower().endswith(keystore["address"].lower())
    status = cli("--json", "wallet", "status", env=env)
    assert status.code == 0 and set(status.obj()) == {"address", "chainId", "balances", "eligible"}
    # mint (wallet) and the admin commands
    minted = cli("--json", "mint", "--type", "INFERENCE", "--description", "m", "--usd-limit", "1",
                 "--out", "m.key", env=env)
    assert minted.code == 0, minted
    _check_new_key(minted.obj(), "file", (tmp_path / "m.key").read_text().strip())
    created = cli("--json", "keys", "create", "--type", "INFERENCE", "--description", "c",
                  "--usd-limit", "2", "--limit-period", "MONTH", "--model-privacy", "PRIVATE_TEXT",
                  "--expires", "7d", "--out", "c.key", env=env)
    assert created.code == 0, created
    key_id = created.obj()["id"]
    _check_new_key(created.obj(), "file", (tmp_path / "c.key").read_text().strip())

    listed = cli("--json", "keys", "list", env=env)
    assert listed.code == 0 and set(listed.obj()) == {"data"}
    assert key_id in {k["id"] for k in listed.obj()["data"]}
    got = cli("--json", "keys", "get", key_id, env=env)
    assert got.code == 0 and got.obj()["id"] == key_id  # the key object itself
    assert (got.obj()["limitPeriod"], got.obj()["modelPrivacy"]) == ("MONTH", "PRIVATE_TEXT")
    updated = cli("--json", "keys", "update", key_id, "--description", "c2", env=env)
    assert updated.code == 0 and updated.obj()["description"] == "c2"
    rotated = cli("--json", "keys", "rotate", key_id, "--env-out", "r.env", env=env)
    assert rotated.code == 0, rotated
    _check_new_key(rotated.obj(), "env", dotenv_values(tmp_path / "r.env")["VENICE_API_KEY"])
    revoked = cli("--json", "keys", "revoke", rotated.obj()["id"], "--yes", env=env)
    assert revoked.code == 0 and isinstance(revoked.obj(), dict)
    for argv, as_list in ((["limits"], False), (["limits", "log"], True), (["billing"], False)):
        run = cli("--json", *argv, env=env)
        assert run.code == 0, (argv, run)
        if as_list:
            assert set(run.obj()) == {"data"} and isinstance(run.obj()["data"], list)
        else:
            assert run.obj()
    # human mode: tables, not JSON
    human = cli("keys", "list", env=env)
    assert human.code == 0 and not human.stdout.lstrip().startswith("{")


# sink argv, sink.kind, how to read the delivered secret back
SINK_ROWS: list[tuple[list[str], str, Callable[[Path, Any, str], str]]] = [
    (["--out", "k.key"], "file", lambda tmp, kr, out: (tmp / "k.key").read_text().strip()),
    (["--env-out", "x.env:MY_KEY"], "env",
     lambda tmp, kr, out: str(dotenv_values(tmp / "x.env")["MY_KEY"])),
    (["--env-out", "d.env"], "env",
     lambda tmp, kr, out: str(dotenv_values(tmp / "d.env")["VENICE_API_KEY"])),
    (["--keyring", "venice-conf"], "keyring",
     lambda tmp, kr, out: next(v for (s, _), v in kr.store.items() if s == "venice-conf")),
    (["--print"], "stdout", lambda tmp, kr, out: out),
]


@pytest.mark.parametrize("json_mode", [True, False], ids=["json", "human"])
@pytest.mark.parametrize(("sink", "kind", "read_back"), SINK_ROWS,
                         ids=["out", "env-out-var", "env-out-default", "keyring", "print"])
def test_new_key_sinks(sink: list[str], kind: str, read_back: Callable[[Path, Any, str], str],
                       json_mode: bool, cli: CLI, acct: Acct, tmp_path: Path,
                       memory_keyring: Any) -> None:
    argv = ["keys", "create", "--type", "INFERENCE", "--description", "s", "--usd-limit", "1",
            *sink]
    run = cli(*(["--json"] if json_mode else []), *argv, env=acct.env)
    assert run.code == 0, run
    printed = ""
    if kind == "stdout":
        printed = run.obj()["apiKey"] if json_mode else run.stdout.strip().splitlines()[-1]
    secret = read_back(tmp_path, memory_keyring, printed)
    assert secret.startswith("VENICE_")
    assert secret not in run.stderr
    if kind == "stdout":
        assert secret in run.stdout
    else:
        assert secret not in run.stdout
    if json_mode:
        _check_new_key(run.obj(), kind, secret)
        assert ("apiKey" in run.obj()) == (kind == "stdout")
    if kind in ("file", "env"):
        written = tmp_path / sink[1].split(":")[0]
        assert stat.S_IMODE(written.stat().st_mode) == 0o600


def test_out_never_overwrites_and_env_out_keeps_other_lines(cli: CLI, acct: Acct,
                                                            tmp_path: Path) -> None:
    (tmp_path / "taken.key").write_text("keep me")
    before = acct.last_request()
    run = cli("--json", "keys", "create", "--type", "INFERENCE", "--description", "s",
              "--out", "taken.key", env=acct.env)
    assert run.code == 2 and run.error()
    assert (tmp_path / "taken.key").read_text() == "keep me"
    assert acct.last_request() is before  # nothing was sent
    (tmp_path / "app.env").write_text("OTHER=1\nVENICE_API_KEY=old\n")
    run = cli("--json", "keys", "create", "--type", "INFERENCE", "--description", "s",
              "--env-out", "app.env", env=acct.env)
    assert run.code == 0, run
    values = dotenv_values(tmp_path / "app.env")
    assert values["OTHER"] == "1" and values["VENICE_API_KEY"] != "old"
    assert stat.S_IMODE((tmp_path / "app.env").stat().st_mode) == 0o600


def test_wallet_status_shape_and_decimal_string_balances(cli: CLI, venice_sandbox: Any) -> None:
    address, key = venice_sandbox.new_wallet(eth="0.5", vvv="1.25", svvv="100.5", diem="0.001")
    env = venice_sandbox.env(key)
    run = cli("--json", "wallet", "status", env=env)
    assert run.code == 0, run
    assert run.obj() == {
        "address": address,
        "chainId": 8453,
        "balances": {"ETH": "0.5", "VVV": "1.25", "sVVV": "100.5", "DIEM": "0.001"},
        "eligible": True,
    }
    other = cli("--json", "wallet", "status", "--address", ADDR_A, env=env)
    assert other.code == 0 and other.obj()["eligible"] is False
    assert other.obj()["balances"] == {"ETH": "0", "VVV": "0", "sVVV": "0", "DIEM": "0"}


def test_wallet_new_keystore_is_used_by_the_keystore_settings(cli: CLI, acct: Acct,
                                                              tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("a-password\n")
    made = cli("--json", "wallet", "new", "--keystore", "k.json", "--password-file", "pw")
    assert made.code == 0, made
    env = {k: v for k, v in acct.env.items() if k != "VENICE_WALLET_PRIVATE_KEY"}
    env.update({"VENICE_WALLET_KEYSTORE": "k.json", "VENICE_WALLET_PASSWORD_FILE": "pw"})
    status = cli("--json", "wallet", "status", env=env)
    assert status.code == 0 and status.obj()["address"] == made.obj()["address"]
    assert status.obj()["eligible"] is False  # a new wallet holds no sVVV
    del env["VENICE_WALLET_PASSWORD_FILE"]
    status = cli("--json", "wallet", "status", env={**env, "VENICE_WALLET_PASSWORD": "a-password"})
    assert status.code == 0 and status.obj()["address"] == made.obj()["address"]


# =================================================================================================
# CLI: WHEN, keys update
# =================================================================================================


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + \
        f"{moment.microsecond // 1000:03d}Z"


NOW = datetime.now(UTC).replace(microsecond=0)
DAY = (NOW + timedelta(days=10)).date().isoformat()
NOON = (NOW + timedelta(days=3)).replace(hour=12, minute=0, second=0)

# WHEN as typed -> what must be sent (a string), or a timedelta from now (within a minute)
WHEN_VALID: list[tuple[str, str | timedelta]] = [
    (DAY, DAY),
    (NOON.strftime("%Y-%m-%dT%H:%M:%SZ"), _iso(NOON)),
    (NOON.strftime("%Y-%m-%dT%H:%M:%S") + "+02:00", _iso(NOON - timedelta(hours=2))),
    (NOON.strftime("%Y-%m-%dT%H:%M:%S") + "-05:30", _iso(NOON + timedelta(hours=5, minutes=30))),
    ("12h", timedelta(hours=12)),
    ("30d", timedelta(days=30)),
    ("6w", timedelta(weeks=6)),
]
WHEN_INVALID = [
    (NOW - timedelta(days=2)).date().isoformat(),            # past date
    (NOW - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),  # past time
    (NOW + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S"),  # no Z / offset
    "tomorrow", "30", "30y", "-5d", "0d", "2026-02-30", "",
]


@pytest.mark.parametrize(("when", "sent"), WHEN_VALID, ids=[w for w, _ in WHEN_VALID])
def test_when_forms_are_converted_to_a_venice_form(when: str, sent: str | timedelta, cli: CLI,
                                                   acct: Acct,
                                                   wire: list[tuple[str, str, Any]]) -> None:
    created = cli("--json", "keys", "create", "--type", "INFERENCE", "--description", "w",
                  "--usd-limit", "1", "--expires", when, "--print", env=acct.env)
    assert created.code == 0, created
    posted = next(body for method, path, body in wire if (method, path) == ("POST", "/api_keys"))
    updated = cli("--json", "keys", "update", created.obj()["id"], "--expires", when, env=acct.env)
    assert updated.code == 0, updated
    patched = next(body for method, path, body in wire if method == "PATCH")
    for value in (posted["expiresAt"], patched["expiresAt"]):
        assert SEND_FORM.fullmatch(value), value
        if isinstance(sent, str):
            assert value == sent
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            assert abs(moment - (datetime.now(UTC) + sent)) < timedelta(minutes=1)


@pytest.mark.parametrize("when", WHEN_INVALID)
def test_invalid_when_is_invalid_input_and_nothing_is_sent(
        when: str, cli: CLI, acct: Acct, wire: list[tuple[str, str, Any]]) -> None:
    for argv in (["keys", "create", "--type", "INFERENCE", "--description", "w", "--print"],
                 ["mint", "--type", "INFERENCE", "--description", "w", "--print"],
                 ["keys", "update", UUID0]):
        run = cli("--json", *argv, "--expires", when, env=acct.env)
        assert run.code == 2, (argv, run)
        assert run.error()["type"] == "InvalidInputError"
    assert wire == []


def test_keys_update_none_sends_null_and_no_expiry_removes_it(
        cli: CLI, acct: Acct, wire: list[tuple[str, str, Any]]) -> None:
    created = cli("--json", "keys", "create", "--type", "INFERENCE", "--description", "u",
                  "--usd-limit", "5", "--diem-limit", "6", "--expires", "7d", "--print",
                  env=acct.env)
    key_id = created.obj()["id"]
    run = cli("--json", "keys", "update", key_id, "--usd-limit", "none", env=acct.env)
    assert run.code == 0, run
    body = wire[-1][2]
    assert wire[-1][:2] == ("PATCH", "/api_keys")
    assert "usd" in body["consumptionLimit"] and body["consumptionLimit"]["usd"] is None
    assert run.obj()["consumptionLimits"]["usd"] is None
    assert run.obj()["consumptionLimits"]["diem"] == 6

    run = cli("--json", "keys", "update", key_id, "--diem-limit", "none", "--no-expiry",
              env=acct.env)
    assert run.code == 0, run
    body = wire[-1][2]
    assert "diem" in body["consumptionLimit"] and body["consumptionLimit"]["diem"] is None
    assert "expiresAt" in body and not body["expiresAt"]
    assert run.obj()["consumptionLimits"]["diem"] is None and run.obj()["expiresAt"] is None

    sent = len(wire)
    both = cli("--json", "keys", "update", key_id, "--expires", "7d", "--no-expiry", env=acct.env)
    assert both.code == 2 and both.error()
    assert len(wire) == sent


# =================================================================================================
# CLI: exit codes (and the one JSON error object)
# =================================================================================================

CREATE = ["keys", "create", "--type", "INFERENCE", "--description", "x", "--usd-limit", "1"]
NO_KEY = {"VENICE_ADMIN_KEY": ""}

# name, argv, env overrides (callable on Acct), exit code, error type (None: success)
EXIT_CODES: list[tuple[str, list[str], Callable[[Acct], dict[str, str]], int, str | None]] = [
    ("ok", ["keys", "list"], lambda a: {}, 0, None),
    ("unknown option", ["keys", "list", "--nope"], lambda a: {}, 2, "NoSuchOption"),
    ("missing command", ["keys"], lambda a: {}, 2, "UsageError"),
    ("missing argument", ["keys", "get"], lambda a: {}, 2, "MissingParameter"),
    ("bad choice", [*CREATE[:3], "FOO", *CREATE[4:], "--print"], lambda a: {}, 2, "BadParameter"),
    ("missing required", ["mint", "--type", "INFERENCE", "--print"], lambda a: {}, 2,
     "MissingParameter"),
    ("no sink", CREATE, lambda a: {}, 2, "InvalidInputError"),
    ("two sinks", [*CREATE, "--print", "--out", "f"], lambda a: {}, 2, "InvalidInputError"),
    ("bad key id", ["keys", "get", "not-an-id"], lambda a: {}, 2, "InvalidInputError"),
    ("bad limit", [*CREATE[:-1], "lots", "--print"], lambda a: {}, 2, "InvalidInputError"),
    ("revoke unconfirmed", ["keys", "revoke", UUID0], lambda a: {}, 2, "InvalidInputError"),
    ("bad setting", ["keys", "list"], lambda a: {"VENICE_CHAIN_ID": "abc"}, 2, "ConfigError"),
    ("no sVVV", ["mint", "--type", "INFERENCE", "--description", "x", "--print"],
     lambda a: {"VENICE_WALLET_PRIVATE_KEY": "0x" + "42" * 32}, 3, "NotEligibleError"),
    ("key refused", ["keys", "list"], lambda a: {"VENICE_ADMIN_KEY": "wrong"}, 4,
     "AuthenticationError"),
    ("permission refused", ["billing"], lambda a: {"VENICE_ADMIN_KEY": a.inference_key()}, 4,
     None),
    ("no admin key", ["keys", "list"], lambda a: NO_KEY, 4, "MissingCredentialsError"),
    ("no wallet", ["mint", "--type", "INFERENCE", "--description", "x", "--print"],
     lambda a: {"VENICE_WALLET_PRIVATE_KEY": ""}, 4, "MissingCredentialsError"),
    ("not found", ["keys", "get", UUID0], lambda a: {}, 1, "KeyNotFoundError"),
    ("API unreachable", ["keys", "list"],
     lambda a: {"VENICE_API_BASE_URL": "http://127.0.0.1:9/api/v1"}, 1, "APIConnectionError"),
    ("wrong chain", ["wallet", "status"], lambda a: {"VENICE_CHAIN_ID": "1"}, 1,
     "WrongChainError"),
]


@pytest.mark.parametrize(("name", "argv", "extra", "code", "error_type"), EXIT_CODES,
                         ids=[row[0] for row in EXIT_CODES])
def test_exit_codes(name: str, argv: list[str], extra: Callable[[Acct], dict[str, str]],
                    code: int, error_type: str | None, cli: CLI, acct: Acct) -> None:
    env = {**acct.env, **extra(acct)}
    env = {k: v for k, v in env.items() if v}
    before = acct.last_request()
    run = cli("--json", *argv, env=env)
    assert run.code == code, run
    if code == 0:
        assert "error" not in run.obj()
        return
    err = run.error()
    if error_type is not None:
        assert err["type"] == error_type, err
    if code == 2:
        assert acct.last_request() is before, "bad input must be refused before any request"
    human = cli(*argv, env=env)
    assert human.code == code and human.stdout == "", human  # messages go to stderr


@pytest.mark.parametrize(("command", "route"), [("keys create", "POST /api_keys"),
                                              ("mint", "POST /api_keys/generate_web3_key")])
def test_ambiguous_create_names_the_orphan_and_leaves_no_second_key(
        command: str, route: str, cli: CLI, acct: Acct, tmp_path: Path) -> None:
    from venice_web3_keys.sandbox.emulator import Fault

    acct.sandbox.emulator.faults.add(route, Fault.commit_then_fail())
    before = {k["id"] for k in cli("--json", "keys", "list", env=acct.env).obj()["data"]}
    run = cli("--json", *command.split(), "--type", "INFERENCE", "--description", "amb",
              "--usd-limit", "1", "--out", "amb.key", env=acct.env)
    assert run.code == 1, run
    err = run.error()
    after = {k["id"] for k in cli("--json", "keys", "list", env=acct.env).obj()["data"]}
    assert after == before  # the orphan was revoked: no usable key left behind
    (orphan,) = err["orphanIds"]
    assert orphan in err["message"] and "revoked" in err["message"]
    assert err["revokedIds"] == [orphan]
    assert not (tmp_path / "amb.key").exists()


def test_demo_and_sandbox_commands_in_json_mode(cli: CLI) -> None:
    demo = cli("--json", "demo")
    assert demo.code == 0, demo
    assert demo.obj()
    sandbox = cli("--json", "sandbox")  # runs until stopped: no one object to print
    assert sandbox.code == 2 and sandbox.error()


# =================================================================================================
# MCP server
# =================================================================================================

READ_TOOLS = {"venice_wallet_status", "venice_list_keys", "venice_get_key", "venice_rate_limits",
              "venice_rate_limit_log", "venice_billing_balance"}
WRITE_TOOLS = {"venice_mint_key", "venice_create_key", "venice_update_key", "venice_revoke_key",
               "venice_rotate_key", "venice_stake_vvv"}
NEW_KEY_ARGS = {"api_key_type", "description", "expires_at", "usd_limit", "diem_limit",
                "limit_period", "model_privacy"}
MCP_ARGS: dict[str, set[str]] = {  # tool: its arguments, exactly
    "venice_wallet_status": {"address"},
    "venice_mint_key": NEW_KEY_ARGS,
    "venice_list_keys": set(),
    "venice_get_key": {"key_id"},
    "venice_create_key": NEW_KEY_ARGS,
    "venice_update_key": {"key_id", "description", "expires_at", "remove_expiry", "usd_limit",
                          "diem_limit", "limit_period", "model_privacy"},
    "venice_revoke_key": {"key_id"},
    "venice_rotate_key": {"key_id"},
    "venice_rate_limits": set(),
    "venice_rate_limit_log": set(),
    "venice_billing_balance": set(),
    "venice_stake_vvv": {"amount"},
}
MCP_REQUIRED = {"venice_get_key": {"key_id"}, "venice_update_key": {"key_id"},
                "venice_revoke_key": {"key_id"}, "venice_rotate_key": {"key_id"},
                "venice_stake_vvv": {"amount"}}
FORBIDDEN_TOOL_ARG = re.compile(
    r"private|admin_key|^api_key$|password|secret|token|mnemonic|allow_writes|policy|reveal"
    r"|secrets_dir|^host$|^port$|env_file|rpc|base_url")


def _operator_env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    return {"HOME": str(home), "VENICE_MCP_SECRETS_DIR": str(home / "secrets"),
            "VENICE_MCP_AUDIT_LOG": str(home / "audit.jsonl"), **(extra or {})}


@asynccontextmanager
async def mcp_inproc(home: Path, settings_env: Mapping[str, str], flags: list[str] | None = None,
                     operator: Mapping[str, str] | None = None) -> AsyncIterator[Any]:
    """A real `mcp.Client` on the server `venice-keys-mcp` would build (in memory)."""
    from mcp import Client

    from venice_web3_keys import AsyncVeniceKeys
    from venice_web3_keys.mcp.config import load_config
    from venice_web3_keys.mcp.server import build_server

    config = load_config(flags or [], _operator_env(home, operator))
    server = build_server(config, keys_factory=lambda: AsyncVeniceKeys(
        load_settings(environ=dict(settings_env))))
    async with Client(server) as client:
        yield client


def _ok(result: Any) -> dict[str, Any]:
    assert not result.is_error, result
    assert isinstance(result.structured_content, dict)
    return result.structured_content


def _refused(result: Any, rule: str) -> None:
    text = " ".join(getattr(b, "text", "") for b in result.content)
    assert result.is_error and f"rule: {rule}" in text, text


@pytest.mark.parametrize(("argv", "operator_env", "expected"), [
    ([PY, str(REPO / "mcp_server.py")], {"VENICE_MCP_ALLOW_WRITES": "1"}, READ_TOOLS | WRITE_TOOLS),
    ([str(VENV_BIN / "venice-keys-mcp")], {}, READ_TOOLS),
], ids=["python-mcp_server.py-writes-by-env", "venice-keys-mcp-read-only-default"])
async def test_mcp_entry_points_over_stdio(argv: list[str], operator_env: dict[str, str],
                                           expected: set[str], acct: Acct,
                                           tmp_path: Path) -> None:
    from mcp import Client, StdioServerParameters
    from mcp.client.stdio import stdio_client

    env = _clean_environ({**acct.env, **_operator_env(tmp_path, operator_env)})
    params = StdioServerParameters(command=argv[0], args=argv[1:], env=env, cwd=str(tmp_path))
    with (tmp_path / "stderr.log").open("w") as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert set(tools) == expected
            status = _ok(await client.call_tool("venice_wallet_status", {}))
            assert status["address"] == acct.address and status["eligible"] is True
            other = _ok(await client.call_tool("venice_wallet_status", {"address": ADDR_A}))
            assert other["address"] == ADDR_A and other["eligible"] is False
            if expected == READ_TOOLS:
                _refused(await client.call_tool("venice_mint_key", {"description": "x"}),
                         "read_only")


async def test_mcp_tool_names_and_arguments(tmp_path: Path) -> None:
    async with mcp_inproc(tmp_path, {}, ["--allow-writes"]) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == set(MCP_ARGS) == READ_TOOLS | WRITE_TOOLS
    for name, args in MCP_ARGS.items():
        schema = tools[name].input_schema
        props = schema.get("properties", {})
        assert set(props) == args, (name, set(props) ^ args)
        assert set(schema.get("required", [])) <= MCP_REQUIRED.get(name, {"description"}), name
        assert MCP_REQUIRED.get(name, set()) <= set(schema.get("required", [])), name
        for arg in props:
            assert not FORBIDDEN_TOOL_ARG.search(arg) or arg == "api_key_type", (name, arg)
    for name in ("venice_mint_key", "venice_create_key"):
        props = tools[name].input_schema["properties"]
        assert props["api_key_type"]["enum"] == ["INFERENCE", "ADMIN"]
    update = tools["venice_update_key"].input_schema["properties"]
    for limit in ("usd_limit", "diem_limit"):  # a number, or null to remove the cap
        kinds = {branch.get("type") for branch in update[limit]["anyOf"]}
        assert kinds == {"number", "null"}, update[limit]
    assert update["remove_expiry"]["type"] == "boolean"


def _in(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_mcp_builtin_policy_numbers() -> None:
    from venice_web3_keys.mcp.policy import Policy

    built_in = Policy()
    assert built_in.allowed_key_types == frozenset({"INFERENCE"})
    assert built_in.require_spend_limit and built_in.require_expiry and built_in.own_keys_only
    assert (built_in.max_usd_limit, built_in.max_diem_limit) == (25, 25)
    assert built_in.max_lifetime_days == 30
    assert built_in.max_keys_per_hour == 10


async def test_mcp_builtin_policy_once_writes_are_allowed(acct: Acct, tmp_path: Path) -> None:
    ok_args = {"description": "p", "usd_limit": 25, "expires_at": "29d"}
    async with mcp_inproc(tmp_path, acct.env, ["--allow-writes"]) as c:
        refusals = [
            ({**ok_args, "api_key_type": "ADMIN"}, "key_type"),
            ({"description": "p", "expires_at": "7d"}, "spend_limit_required"),
            ({**ok_args, "usd_limit": 25.01}, "max_usd_limit"),
            ({"description": "p", "diem_limit": 26, "expires_at": "7d"}, "max_diem_limit"),
            ({"description": "p", "usd_limit": 1}, "expiry_required"),
            ({**ok_args, "expires_at": _in(31)}, "max_lifetime"),
        ]
        for args, rule in refusals:
            _refused(await c.call_tool("venice_create_key", args), rule)
        # CLI WHEN forms are accepted for expires_at
        made = [_ok(await c.call_tool("venice_create_key", {**ok_args, "expires_at": when}))
                for when in ("29d", _in(29), (datetime.now(UTC) + timedelta(days=9)).date()
                             .isoformat(), "12h")]
        made.append(_ok(await c.call_tool("venice_create_key",
                                          {"description": "d", "diem_limit": 25,
                                           "expires_at": "30d"})))
        # update: null removes a cap (but a cap must stay); remove_expiry is refused by policy
        upd = _ok(await c.call_tool("venice_update_key", {"key_id": made[-1]["id"],
                                                          "usd_limit": 2, "diem_limit": None}))
        assert upd["consumption_limits"] == {"usd": 2, "diem": None}
        _refused(await c.call_tool("venice_update_key",
                                   {"key_id": made[-1]["id"], "remove_expiry": True}),
                 "expiry_required")
        # only keys this server made
        foreign = acct.inference_key()
        foreign_id = next(k["id"] for k in _ok(await c.call_tool("venice_list_keys", {}))["keys"]
                          if k["last6"] == foreign[-6:])
        for tool in ("venice_update_key", "venice_rotate_key", "venice_revoke_key"):
            args = {"key_id": foreign_id, **({"description": "z"} if "update" in tool else {})}
            _refused(await c.call_tool(tool, args), "own_keys_only")
        # at most 10 per hour: mint, create and rotate count together
        rotated = _ok(await c.call_tool("venice_rotate_key", {"key_id": made[0]["id"]}))
        assert rotated["revoked_key_id"] == made[0]["id"]
        _ok(await c.call_tool("venice_mint_key", ok_args))
        while len(made) < 8:
            made.append(_ok(await c.call_tool("venice_create_key", ok_args)))
        for tool in ("venice_create_key", "venice_mint_key"):
            _refused(await c.call_tool(tool, ok_args), "keys_per_hour")
        _refused(await c.call_tool("venice_rotate_key", {"key_id": made[1]["id"]}),
                 "keys_per_hour")
        _ok(await c.call_tool("venice_revoke_key", {"key_id": made[1]["id"]}))


@pytest.mark.parametrize("reveal", [False, True], ids=["secrets-to-files", "reveal-opt-in"])
async def test_mcp_secrets_dir_and_reveal(reveal: bool, acct: Acct, tmp_path: Path) -> None:
    operator = {"VENICE_MCP_REVEAL_SECRETS": "1"} if reveal else {}
    async with mcp_inproc(tmp_path, acct.env, ["--allow-writes"], operator) as c:
        made = _ok(await c.call_tool("venice_create_key", {"description": "s", "usd_limit": 1,
                                                           "expires_at": "7d"}))
    secrets_dir = tmp_path / "secrets"
    assert stat.S_IMODE(secrets_dir.stat().st_mode) == 0o700
    secret_file = Path(made["secret_file"])
    assert secret_file.parent == secrets_dir.resolve()
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    secret = secret_file.read_text().strip()
    assert made["fingerprint"] == hashlib.sha256(secret.encode()).hexdigest()
    assert made["last6"] == secret[-6:]
    if reveal:
        assert made["secret"] == secret
    else:
        assert made.get("secret") is None and secret not in json.dumps(made)


# variable or flags -> OperatorConfig field: default, then the value it sets
MCP_OPERATOR: list[tuple[str, list[str], dict[str, str], str, Any, Any]] = [
    ("VENICE_MCP_ALLOW_WRITES=1", [], {"VENICE_MCP_ALLOW_WRITES": "1"}, "allow_writes",
     False, True),
    ("--allow-writes", ["--allow-writes"], {}, "allow_writes", False, True),
    ("VENICE_MCP_POLICY", [], {"VENICE_MCP_POLICY": "{tmp}/p.json"}, "policy.max_usd_limit",
     25, 5),
    ("--policy FILE", ["--policy", "{tmp}/p.json"], {}, "policy.max_usd_limit", 25, 5),
    ("VENICE_MCP_SECRETS_DIR", [], {"VENICE_MCP_SECRETS_DIR": "{tmp}/s"}, "secrets_dir",
     "{tmp}/.venice-keys/secrets", "{tmp}/s"),
    ("VENICE_MCP_REVEAL_SECRETS=1", [], {"VENICE_MCP_REVEAL_SECRETS": "1"}, "reveal_secrets",
     False, True),
    ("--http", ["--http"], {}, "transport", "stdio", "http"),
    ("--host H", ["--http", "--host", "0.0.0.0"], {}, "host", "127.0.0.1", "0.0.0.0"),
    ("--port P", ["--http", "--port", "8765"], {}, "port", 8000, 8765),
    ("VENICE_MCP_AUTH_TOKEN", [], {"VENICE_MCP_AUTH_TOKEN": "t" * 32}, "auth_token", None,
     "t" * 32),
]


def _config_value(config: Any, dotted: str) -> Any:
    value = config
    for part in dotted.split("."):
        value = getattr(value, part)
    if isinstance(value, SecretValue):
        return value.reveal()
    return str(value) if isinstance(value, Path) else value


@pytest.mark.parametrize(("name", "flags", "env", "attr", "default", "value"), MCP_OPERATOR,
                         ids=[row[0] for row in MCP_OPERATOR])
def test_mcp_operator_settings(name: str, flags: list[str], env: dict[str, str], attr: str,
                               default: Any, value: Any, tmp_path: Path) -> None:
    from venice_web3_keys.mcp.config import load_config

    def fill(v: Any) -> Any:
        return v.replace("{tmp}", str(tmp_path)) if isinstance(v, str) else v

    (tmp_path / "p.json").write_text(json.dumps({"max_usd_limit": 5}))
    base = {"HOME": str(tmp_path)}
    assert _config_value(load_config([], base), attr) == fill(default)
    configured = load_config([fill(f) for f in flags], {**base, **{k: fill(v)
                                                                   for k, v in env.items()}})
    assert _config_value(configured, attr) == fill(value)


def test_mcp_http_transport_and_token_rules(tmp_path: Path) -> None:
    from venice_web3_keys.errors import ConfigError
    from venice_web3_keys.mcp.config import load_config
    from venice_web3_keys.mcp.server import build_server, http_app

    home = {"HOME": str(tmp_path)}
    config = load_config(["--http"], home)
    app = http_app(build_server(config), config)
    assert [getattr(r, "path", None) for r in getattr(app, "routes", [])] == ["/mcp"]
    config.check_http()  # loopback without a token is fine
    for flags, env in ((["--http", "--host", "0.0.0.0"], {}),
                       (["--http"], {"VENICE_MCP_AUTH_TOKEN": "t" * 31})):
        with pytest.raises(ConfigError):
            load_config(flags, {**home, **env}).check_http()
    load_config(["--http", "--host", "0.0.0.0"],
                {**home, "VENICE_MCP_AUTH_TOKEN": "t" * 32}).check_http()
