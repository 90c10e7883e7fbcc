"""LocalChain against a real anvil: lifecycle by PID, chain id, tokens, funding, a real transfer."""

from __future__ import annotations

import os
import stat
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from eth_account import Account
from eth_hash.auto import keccak

from tests.harness import PLAIN_HTTP
from venice_web3_keys.errors import ChainError, ConfigError, InvalidInputError
from venice_web3_keys.sandbox.chain import (
    DIEM_TOKEN,
    STAKING_CONTRACT,
    TOKENS,
    VVV_TOKEN,
    LocalChain,
    find_anvil,
    runtime_bytecode,
    to_wei,
)

WEI = 10**18


def raw_rpc(url: str, method: str, params: list[object] | None = None) -> object:
    """An independent JSON-RPC call, so assertions do not rely on LocalChain's own client."""
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}
    reply = httpx.post(url, verify=PLAIN_HTTP, json=body, timeout=10).json()
    assert "error" not in reply, reply
    return reply["result"]


def call(url: str, to: str, data: str) -> str:
    result = raw_rpc(url, "eth_call", [{"to": to, "data": data}, "latest"])
    assert isinstance(result, str)
    return result


def word_arg(address: str) -> str:
    return address.lower().removeprefix("0x").rjust(64, "0")


def abi_string(result: str) -> str:
    raw = bytes.fromhex(result[2:])
    length = int.from_bytes(raw[32:64], "big")
    return raw[64 : 64 + length].decode()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_start_and_stop_by_pid() -> None:
    c = LocalChain.start()
    pid = c.pid
    assert pid_alive(pid)
    assert "anvil" in Path(f"/proc/{pid}/cmdline").read_bytes().decode()
    assert c.rpc_url.startswith("http://127.0.0.1:")
    assert 0 < c.ready_seconds < 10
    c.stop()
    assert not pid_alive(pid)
    assert not c.running
    c.stop()  # idempotent
    with pytest.raises(ChainError, match="stopped"):
        c.rpc("eth_chainId")
    with pytest.raises(httpx.ConnectError):
        httpx.post(c.rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"})


def test_chain_id_is_base(chain: LocalChain) -> None:
    assert raw_rpc(chain.rpc_url, "eth_chainId") == hex(8453)
    assert chain.chain_id == 8453


def test_contract_code_at_all_three_mainnet_addresses(chain: LocalChain) -> None:
    token, staking = runtime_bytecode("Token"), runtime_bytecode("Staking")
    assert len(token) > 1000 and len(staking) > len(token) and token != staking
    for address in (VVV_TOKEN, DIEM_TOKEN):
        assert raw_rpc(chain.rpc_url, "eth_getCode", [address, "latest"]) == token
    assert raw_rpc(chain.rpc_url, "eth_getCode", [STAKING_CONTRACT, "latest"]) == staking
    # the staking contract knows which token it pulls: staked_token() == VVV
    assert int(call(chain.rpc_url, STAKING_CONTRACT, "0xf83a0b64"), 16) == int(VVV_TOKEN, 16)


def test_erc20_metadata(chain: LocalChain) -> None:
    for symbol, (address, name) in TOKENS.items():
        assert abi_string(call(chain.rpc_url, address, "0x95d89b41")) == symbol
        assert abi_string(call(chain.rpc_url, address, "0x06fdde03")) == name
        assert int(call(chain.rpc_url, address, "0x313ce567"), 16) == 18


def test_fund_sets_balances_and_keeps_total_supply(chain: LocalChain) -> None:
    a = "0x" + "a1" * 20
    b = "0x" + "b2" * 20
    supply_before = int(call(chain.rpc_url, VVV_TOKEN, "0x18160ddd"), 16)
    chain.fund(a, eth=Decimal("2.5"), vvv=10, svvv=Decimal("0.5"), diem=3)
    chain.fund(b, vvv=7)
    balance_of = "0x70a08231"
    assert int(call(chain.rpc_url, VVV_TOKEN, balance_of + word_arg(a)), 16) == 10 * WEI
    assert int(call(chain.rpc_url, STAKING_CONTRACT, balance_of + word_arg(a)), 16) == WEI // 2
    assert int(call(chain.rpc_url, DIEM_TOKEN, balance_of + word_arg(a)), 16) == 3 * WEI
    assert int(str(raw_rpc(chain.rpc_url, "eth_getBalance", [a, "latest"])), 16) == 25 * WEI // 10
    assert int(call(chain.rpc_url, VVV_TOKEN, "0x18160ddd"), 16) == supply_before + 17 * WEI

    chain.fund(a, vvv=4, svvv=0)  # sets, not adds; other balances untouched
    assert chain.balance_of("VVV", a) == 4 * WEI
    assert chain.balance_of("sVVV", a) == 0
    assert chain.balance_of(DIEM_TOKEN, a) == 3 * WEI
    assert chain.eth_balance(a) == 25 * WEI // 10
    assert int(call(chain.rpc_url, VVV_TOKEN, "0x18160ddd"), 16) == supply_before + 11 * WEI


def test_fund_rejects_bad_input(chain: LocalChain) -> None:
    with pytest.raises(InvalidInputError):
        chain.fund("0x1234", vvv=1)
    with pytest.raises(InvalidInputError, match="vvv"):
        chain.fund("0x" + "c3" * 20, vvv=-1)
    with pytest.raises(InvalidInputError):
        to_wei(Decimal("1e-19"), field="eth")
    with pytest.raises(InvalidInputError):
        to_wei("lots", field="eth")


def test_new_wallet_is_random_and_funded(chain: LocalChain) -> None:
    address, key = chain.new_wallet(vvv=2)
    other, other_key = chain.new_wallet()
    assert address != other and key != other_key
    assert "0x" not in repr(key)
    assert Account.from_key(key.reveal()).address == address
    assert chain.balance_of("sVVV", address) == 100 * WEI
    assert chain.balance_of("VVV", address) == 2 * WEI
    assert chain.eth_balance(address) == WEI


def _send(chain: LocalChain, key: str, to: str, data: str) -> dict[str, object]:
    sender = Account.from_key(key)
    nonce = int(str(raw_rpc(chain.rpc_url, "eth_getTransactionCount", [sender.address, "latest"])),
                16)
    # 300k: a stake that writes empty storage slots needs more than 100k (a chain whose slots an
    # earlier test filled needed less, which hid it)
    tx = {"chainId": 8453, "nonce": nonce, "to": to, "value": 0, "data": data, "gas": 300_000,
          "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9, "type": 2}
    signed = sender.sign_transaction(tx)
    tx_hash = raw_rpc(chain.rpc_url, "eth_sendRawTransaction",
                      ["0x" + bytes(signed.raw_transaction).hex()])
    # anvil mines on arrival, but under load it may answer the receipt query before the block is
    # in (a fresh-clone run got null once): poll briefly, as transactions.py does for users
    deadline = time.monotonic() + 10
    receipt = raw_rpc(chain.rpc_url, "eth_getTransactionReceipt", [tx_hash])
    while receipt is None and time.monotonic() < deadline:
        time.sleep(0.05)
        receipt = raw_rpc(chain.rpc_url, "eth_getTransactionReceipt", [tx_hash])
    assert isinstance(receipt, dict)
    return receipt


def test_real_transfer_transaction_moves_balances(chain: LocalChain) -> None:
    sender, key = chain.new_wallet(vvv=10)
    receiver = "0x" + "d4" * 20
    amount = 3 * WEI
    receipt = _send(chain, key.reveal(), VVV_TOKEN,
                    "0xa9059cbb" + word_arg(receiver) + amount.to_bytes(32, "big").hex())
    assert receipt["status"] == "0x1"
    assert receipt["logs"], "Transfer event expected"
    assert chain.balance_of("VVV", sender) == 7 * WEI
    assert chain.balance_of("VVV", receiver) == 3 * WEI

    too_much = (8 * WEI).to_bytes(32, "big").hex()
    failed = _send(chain, key.reveal(), VVV_TOKEN, "0xa9059cbb" + word_arg(receiver) + too_much)
    assert failed["status"] == "0x0"
    assert chain.balance_of("VVV", sender) == 7 * WEI


def test_approve_and_transfer_from(chain: LocalChain) -> None:
    owner, owner_key = chain.new_wallet(diem=5)
    spender, spender_key = chain.new_wallet()
    two = (2 * WEI).to_bytes(32, "big").hex()
    assert _send(chain, owner_key.reveal(), DIEM_TOKEN,
                 "0x095ea7b3" + word_arg(spender) + two)["status"] == "0x1"
    allowance = call(chain.rpc_url, DIEM_TOKEN, "0xdd62ed3e" + word_arg(owner) + word_arg(spender))
    assert int(allowance, 16) == 2 * WEI
    receipt = _send(chain, spender_key.reveal(), DIEM_TOKEN,
                    "0x23b872dd" + word_arg(owner) + word_arg(spender) + two)
    assert receipt["status"] == "0x1"
    assert chain.balance_of("DIEM", owner) == 3 * WEI
    assert chain.balance_of("DIEM", spender) == 2 * WEI


def _amount(wei: int) -> str:
    return wei.to_bytes(32, "big").hex()


def test_stake_pulls_vvv_and_credits_svvv_one_to_one(chain: LocalChain) -> None:
    staker, key = chain.new_wallet(vvv=10, svvv=0)
    recipient = "0x" + "f6" * 20
    supply = int(call(chain.rpc_url, STAKING_CONTRACT, "0x18160ddd"), 16)
    held = chain.balance_of("VVV", STAKING_CONTRACT)  # what other wallets staked before
    stake_data = "0xadc9772e" + word_arg(recipient) + _amount(4 * WEI)  # stake(address,uint256)
    # Without an approve, transferFrom (and so the stake) reverts: nothing moves.
    assert _send(chain, key.reveal(), STAKING_CONTRACT, stake_data)["status"] == "0x0"
    assert chain.balance_of("VVV", staker) == 10 * WEI

    assert _send(chain, key.reveal(), VVV_TOKEN, "0x095ea7b3" + word_arg(STAKING_CONTRACT)
                 + _amount(4 * WEI))["status"] == "0x1"
    receipt = _send(chain, key.reveal(), STAKING_CONTRACT, stake_data)
    assert receipt["status"] == "0x1"
    assert chain.balance_of("VVV", staker) == 6 * WEI
    assert chain.balance_of("VVV", STAKING_CONTRACT) == held + 4 * WEI
    assert chain.balance_of("sVVV", recipient) == 4 * WEI  # credited to `to`, not the caller
    assert chain.balance_of("sVVV", staker) == 0
    assert int(call(chain.rpc_url, STAKING_CONTRACT, "0x18160ddd"), 16) == supply + 4 * WEI
    allowance = call(chain.rpc_url, VVV_TOKEN,
                     "0xdd62ed3e" + word_arg(staker) + word_arg(STAKING_CONTRACT))
    assert int(allowance, 16) == 0  # the exact approval was used up
    # Events: VVV Transfer(staker -> staking), sVVV Transfer(0 -> recipient), Staked(...)
    logs = receipt["logs"]
    assert isinstance(logs, list)
    transfer = "0x" + keccak(b"Transfer(address,address,uint256)").hex()
    staked = "0x" + keccak(b"Staked(address,address,uint256)").hex()
    seen = [(log["address"].lower(), log["topics"][0]) for log in logs]
    assert seen == [(VVV_TOKEN.lower(), transfer), (STAKING_CONTRACT.lower(), transfer),
                    (STAKING_CONTRACT.lower(), staked)]
    assert logs[1]["topics"][1] == "0x" + "00" * 32
    assert logs[1]["topics"][2] == "0x" + word_arg(recipient)
    assert int(logs[2]["data"], 16) == 4 * WEI


def test_stake_refuses_zero_and_more_than_approved(chain: LocalChain) -> None:
    staker, key = chain.new_wallet(vvv=5, svvv=0)
    assert _send(chain, key.reveal(), VVV_TOKEN, "0x095ea7b3" + word_arg(STAKING_CONTRACT)
                 + _amount(2 * WEI))["status"] == "0x1"
    for amount in (0, 3 * WEI):
        data = "0xadc9772e" + word_arg(staker) + _amount(amount)
        assert _send(chain, key.reveal(), STAKING_CONTRACT, data)["status"] == "0x0"
    assert chain.balance_of("VVV", staker) == 5 * WEI
    assert chain.balance_of("sVVV", staker) == 0


def test_fund_still_sets_svvv_on_the_staking_contract(chain: LocalChain) -> None:
    address = "0x" + "a7" * 20
    chain.fund(address, svvv=3)
    assert chain.balance_of("sVVV", address) == 3 * WEI
    assert abi_string(call(chain.rpc_url, STAKING_CONTRACT, "0x95d89b41")) == "sVVV"


def test_snapshot_and_revert(chain: LocalChain) -> None:
    address = "0x" + "e5" * 20
    chain.fund(address, svvv=1)
    snap = chain.snapshot()
    chain.fund(address, svvv=50, eth=9)
    assert chain.balance_of("sVVV", address) == 50 * WEI
    chain.revert(snap)
    assert chain.balance_of("sVVV", address) == WEI
    assert chain.eth_balance(address) == 0
    with pytest.raises(ChainError, match="snapshot"):
        chain.revert(snap)  # anvil snapshot ids are single-use


def test_verbose_anvil_log_never_blocks_the_node(chain: LocalChain) -> None:
    # anvil logs every request to stdout; if nobody drained the pipe (~64 KiB) it would hang.
    calls: list[tuple[str, list[object]]] = [("eth_blockNumber", [])] * 1000
    for _ in range(10):
        assert len(chain.batch(calls)) == 1000


def test_missing_binary_error_says_how_to_install(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    monkeypatch.setenv("VENICE_ANVIL_BIN", str(tmp_path / "nowhere" / "anvil"))
    monkeypatch.setenv("PATH", "")
    with pytest.raises(ConfigError, match="VENICE_ANVIL_BIN") as info:
        LocalChain.start()
    assert "npm ci" in str(info.value)

    with pytest.raises(ConfigError, match="npm ci") as info:
        find_anvil(environ={"PATH": ""}, search_from=[tmp_path])
    assert "npm install @foundry-rs/anvil" in str(info.value)


def _fake_binary(path: Path) -> Path:
    path.parent.mkdir(parents=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_binary_lookup_order(tmp_path: Path) -> None:
    nested = tmp_path / "project" / "src" / "pkg"
    nested.mkdir(parents=True)
    npm = _fake_binary(tmp_path / "project/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil")
    on_path = _fake_binary(tmp_path / "bin" / "anvil")
    explicit = _fake_binary(tmp_path / "explicit" / "anvil")
    path_env = {"PATH": str(on_path.parent)}
    assert find_anvil(environ=path_env, search_from=[nested]) == str(npm)
    assert find_anvil(environ=path_env, search_from=[tmp_path / "bin"]) == str(on_path)
    assert find_anvil(environ={**path_env, "VENICE_ANVIL_BIN": str(explicit)},
                      search_from=[nested]) == str(explicit)


def test_start_failure_is_a_chain_error(tmp_path: Path) -> None:
    fake = _fake_binary(tmp_path / "bin" / "anvil")  # exits at once, never listens
    with pytest.raises(ChainError, match="did not start"):
        LocalChain.start(anvil_bin=str(fake))
