"""Helpers for the emulator tests: uvicorn in a thread, the test view of an emulator, signing.

The fixtures live in emulator_fixtures.py (loaded with `pytest_plugins`, not a conftest, so they
stay within the emulator's files).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn

from venice_web3_keys.sandbox.chain import LocalChain
from venice_web3_keys.sandbox.emulator import EmulatorState, FakeClock, create_app


class ServerThread:
    """uvicorn serving an ASGI app on 127.0.0.1:<free port> until `stop()`."""

    def __init__(self, app: Any) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="critical",
                                lifespan="off", timeout_graceful_shutdown=2)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> int:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.005)
        return int(self.server.servers[0].sockets[0].getsockname()[1])

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@dataclass
class Emu:
    state: EmulatorState
    clock: FakeClock
    base_url: str  # http://127.0.0.1:PORT/api/v1
    origin: str  # http://127.0.0.1:PORT
    http: httpx.Client
    chain: LocalChain

    def admin(self, address: str | None = None) -> tuple[str, dict[str, str]]:
        """(key id, auth headers) of a fresh account's ADMIN key."""
        key_id, secret = self.state.create_account_with_admin_key(address)
        return key_id, bearer(secret.reveal())


def start_emulator(state: EmulatorState) -> tuple[ServerThread, int]:
    server = ServerThread(create_app(state))
    return server, server.start()

class SwappableApp:
    """One uvicorn for the whole session; each test plugs in a fresh emulator app (fast)."""

    def __init__(self) -> None:
        self.app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def sign(text: str, private_key: str) -> str:
    """EIP-191 personal_sign, 0x-prefixed, as a wallet would."""
    from eth_account import Account
    from eth_account.messages import encode_defunct

    signed = Account.sign_message(encode_defunct(text=text), private_key=private_key)
    return "0x" + bytes(signed.signature).hex()


def mint(emu: Emu, address: str, private_key: str, **fields: Any) -> httpx.Response:
    """The whole wallet flow over HTTP in the state's current variant."""
    if emu.state.mint_variant == "jwt":
        token = emu.http.get("/api_keys/generate_web3_key").json()["data"]["token"]
        proof = {"token": token}
        text = token
    else:
        data = emu.http.get("/api_keys/generate_web3_key", params={"address": address}).json()
        text = data["data"]["message"]
        proof = {"message": text}
    body = {"address": address, "signature": sign(text, private_key), "apiKeyType": "INFERENCE",
            **proof, **fields}
    return emu.http.post("/api_keys/generate_web3_key", json=body)


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}
