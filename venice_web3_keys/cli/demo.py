"""`venice-keys demo`: the whole flow on a throwaway sandbox, narrated step by step.

Every secret goes to a 0600 file in a fresh temporary folder (removed at the end unless --keep);
nothing secret is printed. Only the library facade is used, exactly as a user's script would.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from venice_web3_keys.cli.render import Output, decimal_str, to_jsonable

if TYPE_CHECKING:
    from venice_web3_keys.api import NewKey


class _Narrator:
    """Numbered steps to stdout (human) or collected into one JSON summary (--json)."""

    def __init__(self, output: Output) -> None:
        self.output = output
        self.n = 0
        self.steps: list[dict[str, Any]] = []
        self.started = time.perf_counter()

    def step(self, title: str, **record: Any) -> None:
        self.n += 1
        self.steps.append({"step": self.n, "title": title, **to_jsonable(record)})
        if not self.output.json_mode:
            self.output.out.print(f"\n[bold cyan]{self.n}.[/bold cyan] [bold]{title}[/bold]")

    def say(self, text: str) -> None:
        if not self.output.json_mode:
            self.output.out.print(f"   {text}")

    def new_key(self, new: NewKey, verb: str, notes: tuple[str, ...] = ()) -> None:
        if not self.output.json_mode:
            self.output.new_key(new.to_public_dict(), verb=verb, notes=notes)


def run_demo(output: Output, *, keep: bool = False) -> None:
    """Start the sandbox, run every step, stop it (also on failure)."""
    from venice_web3_keys.sandbox.runner import Sandbox

    narrator = _Narrator(output)
    folder = Path(tempfile.mkdtemp(prefix="venice-keys-demo-"))
    folder.chmod(0o700)
    narrator.step("Start a local Base chain (anvil, chain id 8453) and the Venice API emulator")
    with output.spinner("Starting the sandbox…"):
        sandbox = Sandbox.start()
    try:
        narrator.say(f"chain    {sandbox.rpc_url}")
        narrator.say(f"emulator {sandbox.api_base_url}   (ready in {sandbox.ready_seconds:.2f}s)")
        asyncio.run(_flow(narrator, sandbox, folder))
    finally:
        with output.spinner("Stopping the sandbox…"):
            sandbox.stop()
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
    elapsed = time.perf_counter() - narrator.started
    narrator.step("Stop everything", stopped=True, secretsFolder=str(folder) if keep else None)
    narrator.say("anvil and the emulator are stopped; "
                 + (f"secrets kept in {folder}" if keep else "the temporary secrets are deleted"))
    if output.json_mode:
        output.emit_json({"ok": True, "seconds": round(elapsed, 2), "steps": narrator.steps})
    else:
        output.out.print(f"\n[green]✓ Demo complete[/green] in {elapsed:.1f}s.")


async def _flow(narrator: _Narrator, sandbox: Any, folder: Path) -> None:
    import dataclasses

    from venice_web3_keys.api import AsyncVeniceKeys
    from venice_web3_keys.settings import Settings
    from venice_web3_keys.sinks import FileSink
    from venice_web3_keys.timeparse import parse_expires

    out = narrator.output

    narrator.step("Create a throwaway wallet and fund it (1 ETH, 100 sVVV) on the local chain")
    address, private_key = sandbox.new_wallet()
    narrator.say(f"wallet {address} (its private key stays in memory only)")
    settings = Settings(api_base_url=sandbox.api_base_url, rpc_urls=(sandbox.rpc_url,),
                        chain_id=sandbox.chain_id, wallet_private_key=private_key)

    async with AsyncVeniceKeys(settings) as wallet_vk:
        status = await wallet_vk.wallet_status()
        balances = {k: decimal_str(v) for k, v in status.balances.items()}
        narrator.step("Wallet status on Base", address=status.address, chainId=status.chain_id,
                      balances=balances, eligible=status.eligible)
        if not out.json_mode:
            out.wallet_status({"address": status.address, "chainId": status.chain_id,
                               "balances": balances, "eligible": status.eligible},
                              staking_contract=settings.staking_contract)

        admin_file = folder / "admin.key"
        narrator.step("Mint an ADMIN key by signing Venice's challenge with the wallet")
        admin = await wallet_vk.mint_key(api_key_type="ADMIN", description="demo admin",
                                         expires_at=parse_expires("1d"),
                                         sink=FileSink(admin_file))
        narrator.steps[-1]["key"] = admin.to_public_dict()
        narrator.new_key(admin, "Minted")

    admin_settings = dataclasses.replace(settings, wallet_private_key=None,
                                         admin_key=admin.secret)
    async with AsyncVeniceKeys(admin_settings) as vk:
        narrator.step("Use the ADMIN key to create a capped INFERENCE key for customer 'acme'")
        customer = await vk.provision_customer_key(
            "acme", usd_limit=25, diem_limit=5, limit_period="MONTH",
            expires_at=parse_expires("30d"), sink=FileSink(folder / "acme.key"))
        narrator.steps[-1]["key"] = customer.to_public_dict()
        narrator.new_key(customer, "Created")

        narrator.step("Rate limits and balances (as seen by the ADMIN key)")
        limits = await vk.rate_limits()
        narrator.steps[-1]["limits"] = to_jsonable(limits)
        if not out.json_mode:
            out.rate_limits(to_jsonable(limits))

        narrator.step("The key list")
        keys = await vk.list_keys()
        narrator.steps[-1]["keys"] = to_jsonable(keys)
        if not out.json_mode:
            out.keys_table(keys)

        narrator.step("Rotate the customer key (new key, verify, then revoke the old one)")
        rotation = await vk.rotate_key(customer.id, sink=FileSink(folder / "acme-rotated.key"))
        narrator.steps[-1].update(to_jsonable(rotation.to_public_dict()))
        narrator.new_key(rotation.new_key, "Rotated to", notes=(
            f"old key: {rotation.revoked_key_id} revoked; successor "
            f"{'verified working' if rotation.verified else 'NOT verified'}",))

        narrator.step("Revoke the customer's key (customer churned)")
        await vk.revoke_key(rotation.new_key.id)
        remaining = await vk.list_keys()
        narrator.steps[-1].update({"revoked": rotation.new_key.id,
                                   "remaining": [k.id for k in remaining]})
        narrator.say(f"revoked {rotation.new_key.id}; {len(remaining)} key(s) left "
                     "(the ADMIN key)")
        if not out.json_mode:
            out.keys_table(remaining, title="Keys after the revoke")
    for path in (admin_file, folder / "acme.key", folder / "acme-rotated.key"):
        narrator.say(f"secret file {path} (mode {_mode(path)})")


def _mode(path: Path) -> str:
    try:
        return oct(path.stat().st_mode & 0o777)
    except OSError:
        return "missing"
