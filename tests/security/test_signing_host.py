"""Sign only for Venice: a faithful challenge names Venice wherever it is served, and a relay gets
no signature.

Real Venice issues SIWE challenges for domain `api.venice.ai` and URI
`https://api.venice.ai/api/v1/api_keys/generate_web3_key`, whatever host the request came through.
So a non-Venice endpoint can pass a genuine challenge to the wallet and keep the signature (the
JWT variant names no host at all): the wallet signs only when the configured API host is
`api.venice.ai` or loopback, unless the operator opts in with VENICE_ALLOW_CUSTOM_API_HOST=1.

The relay here is real: a TCP forwarder on this machine's non-loopback address, in front of the
sandbox.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.harness import CliRunner
from tests.security.servers import TcpRelay, non_loopback_ipv4
from tests.security.test_spoofed_challenges import RecordingSigner
from venice_web3_keys.api import AsyncVeniceKeys
from venice_web3_keys.challenge import parse_siwe_message
from venice_web3_keys.errors import UnsafeSigningRequestError
from venice_web3_keys.sandbox.emulator.faults import Fault
from venice_web3_keys.secret import SecretValue
from venice_web3_keys.settings import load_settings
from venice_web3_keys.signer import create_keystore
from venice_web3_keys.sinks import FileSink

GEN = "/api_keys/generate_web3_key"
VENICE_URI = "https://api.venice.ai/api/v1/api_keys/generate_web3_key"
OPT_IN = "VENICE_ALLOW_CUSTOM_API_HOST=1"


@pytest.fixture
def relay(venice_sandbox: Any) -> Iterator[TcpRelay]:
    """A man in the middle on a non-loopback address, forwarding to the sandbox."""
    target = urlsplit(venice_sandbox.api_base_url)
    assert target.hostname is not None and target.port is not None
    with TcpRelay((target.hostname, target.port), non_loopback_ipv4()) as server:
        yield server


def _via(relay: TcpRelay, env: dict[str, str]) -> dict[str, str]:
    return {**env, "VENICE_API_BASE_URL": f"{relay.url}/api/v1"}


# ---- fidelity: the emulator issues Venice's own domain and URI, on 127.0.0.1 ----------------


async def test_siwe_mint_on_loopback_signs_venice_domain_and_uri(venice_sandbox: Any,
                                                                  tmp_path: Path) -> None:
    venice_sandbox.emulator.mint_variant = "siwe"
    address, key = venice_sandbox.new_wallet()
    settings = load_settings(environ=venice_sandbox.env(key))
    assert urlsplit(settings.api_base_url).hostname == "127.0.0.1"
    signer = RecordingSigner(key)
    out = tmp_path / "minted.key"
    async with AsyncVeniceKeys(settings, signer=signer) as vk:
        new = await vk.mint_key(description="loopback siwe", sink=FileSink(out))
        (signed,) = signer.signed
        message = parse_siwe_message(signed)
        assert (message.domain, message.uri) == ("api.venice.ai", VENICE_URI)
        assert message.address == address
        assert out.read_text().strip() == new.secret.reveal()
        limits = await vk.client.rate_limits(key=new.secret)  # the minted key works
        assert limits is not None


async def test_emulator_refuses_a_foreign_domain_with_venices_text(venice_sandbox: Any) -> None:
    venice_sandbox.emulator.mint_variant = "siwe"
    address, key = venice_sandbox.new_wallet()
    signer = RecordingSigner(key)
    base = venice_sandbox.api_base_url
    async with httpx.AsyncClient(base_url=base) as http:
        got = await http.get(GEN, params={"address": address})
        message: str = got.json()["data"]["message"]
        host = urlsplit(base).netloc
        forged = message.replace(message.split(" ", 1)[0], host, 1)  # "our host" as domain
        assert forged.startswith(host)
        answer = await http.post(GEN, json={
            "address": address, "signature": signer.sign_message(forged), "message": forged,
            "apiKeyType": "INFERENCE", "description": "foreign domain"})
    assert answer.status_code == 400
    assert answer.json() == {"error": 'The challenge domain must be "api.venice.ai"'}


# ---- the relay ------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["jwt", "siwe"])
async def test_relay_host_is_refused_before_signing(venice_sandbox: Any, relay: TcpRelay,
                                                    tmp_path: Path, variant: str) -> None:
    venice_sandbox.emulator.mint_variant = variant
    _address, key = venice_sandbox.new_wallet()
    settings = load_settings(environ=_via(relay, venice_sandbox.env(key)))
    signer = RecordingSigner(key)
    before = len(venice_sandbox.emulator.requests())
    out = tmp_path / "stolen.key"
    async with AsyncVeniceKeys(settings, signer=signer) as vk:
        with pytest.raises(UnsafeSigningRequestError) as info:
            await vk.mint_key(api_key_type="ADMIN", description="attacker", sink=FileSink(out))
    assert signer.signed == []
    assert relay.connections == 0  # refused before any request, not only before signing
    assert venice_sandbox.emulator.requests()[before:] == []
    assert not out.exists()
    assert OPT_IN in str(info.value) and relay.host in str(info.value)


def test_relay_host_is_refused_before_signing_in_the_cli(venice_sandbox: Any, relay: TcpRelay,
                                                          cli: CliRunner, tmp_path: Path) -> None:
    _address, key = venice_sandbox.new_wallet()
    env = _via(relay, venice_sandbox.env(key))
    res = cli("--json", "mint", "--type", "ADMIN", "--description", "attacker",
              "--out", "stolen.key", env=env)
    assert res.code == 2, res.stderr
    assert res.json()["error"]["type"] == "UntrustedSigningHostError"
    assert OPT_IN in res.stderr
    assert relay.connections == 0
    assert not (tmp_path / "stolen.key").exists()


def test_relay_refusal_needs_no_wallet_password_prompt(venice_sandbox: Any, relay: TcpRelay,
                                                       cli: CliRunner, tmp_path: Path) -> None:
    """The host is checked before the keystore is opened: nothing to type, nothing decrypted."""
    keystore = tmp_path / "k.json"
    create_keystore(keystore, SecretValue("pw"), kdf_iterations=16)
    env = {**_via(relay, venice_sandbox.env()), "VENICE_WALLET_KEYSTORE": str(keystore)}
    res = cli("mint", "--type", "INFERENCE", "--description", "x", "--print", env=env)
    assert res.code == 2, res.stderr
    assert OPT_IN in res.stderr and "password" not in res.stderr.lower()


# ---- the opt-in: a trusted proxy, with a warning every time the wallet signs ---------------


async def test_opt_in_proxy_warns_on_every_signature(venice_sandbox: Any,
                                                     relay: TcpRelay) -> None:
    _address, key = venice_sandbox.new_wallet()
    env = {**_via(relay, venice_sandbox.env(key)), "VENICE_ALLOW_CUSTOM_API_HOST": "1"}
    settings = load_settings(environ=env)
    venice_sandbox.emulator.faults.add(
        f"POST {GEN}", Fault(status=400, body={"error": "JWT has expired"}))
    signer = RecordingSigner(key)
    notices: list[Any] = []
    async with AsyncVeniceKeys(settings, signer=signer, on_sign=notices.append) as vk:
        new = await vk.mint_key(description="through a trusted proxy")
    assert new.id
    assert len(signer.signed) == 2  # the first challenge "expired": a second signature
    assert len(notices) == 2
    assert all(n.api_host == f"{relay.host}:{relay.port}" for n in notices)
    assert all(OPT_IN.split("=")[0] in str(n) for n in notices)


def test_opt_in_cli_warns_on_stderr_each_time(venice_sandbox: Any, relay: TcpRelay,
                                              cli: CliRunner) -> None:
    _address, key = venice_sandbox.new_wallet()
    env = {**_via(relay, venice_sandbox.env(key)), "VENICE_ALLOW_CUSTOM_API_HOST": "1"}
    res = cli("--json", "mint", "--type", "INFERENCE", "--description", "via proxy",
              "--out", "k.txt", env=env)
    assert res.code == 0, res.stderr
    assert res.json()["id"]  # stdout is still exactly one JSON object
    warnings = [line for line in res.stderr.splitlines()
                if re.search(r"warning.*sign", line, re.I)]
    assert len(warnings) == 1, res.stderr
    assert relay.host in warnings[0]


@pytest.mark.parametrize("base", [
    "http://127.0.0.1:9/api/v1", "http://127.8.9.10:9/api/v1", "http://localhost:9/api/v1",
    "http://[::1]:9/api/v1", "https://api.venice.ai/api/v1",
])
def test_official_and_loopback_hosts_may_sign(base: str) -> None:
    from venice_web3_keys.challenge import check_signing_host

    assert check_signing_host(load_settings(environ={"VENICE_API_BASE_URL": base})) is None


@pytest.mark.parametrize("base", [
    "http://api.venice.ai/api/v1",  # plain HTTP: anyone on the path is a relay
    "https://api.venice.ai.evil.example/api/v1", "https://venice.ai.evil.example/api/v1",
    "https://evil.example/api/v1", "http://0.0.0.0:9/api/v1", "http://[::ffff:127.0.0.1]:9/x",
    "http://localhost.evil.example/api/v1", "http://10.0.0.1/api/v1",
])
def test_other_hosts_are_refused_without_the_opt_in(base: str) -> None:
    from venice_web3_keys.challenge import check_signing_host

    with pytest.raises(UnsafeSigningRequestError, match=re.escape(OPT_IN)):
        check_signing_host(load_settings(environ={"VENICE_API_BASE_URL": base}))
    notice = check_signing_host(load_settings(environ={
        "VENICE_API_BASE_URL": base, "VENICE_ALLOW_CUSTOM_API_HOST": "1"}))
    assert notice is not None and notice.api_host == urlsplit(base).netloc
