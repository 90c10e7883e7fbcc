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

from venice_web3_keys.cli.render import Output, safe, wallet_status_data
from venice_web3_keys.serialize import to_jsonable
from venice_web3_keys.validation import validate_api_key_type, validate_limit_period

if TYPE_CHECKING:
    from venice_web3_keys.api import NewKey


class _Narrator:
    """Numbered steps to stdout (human) or collected into one JSON summary (--json)."""

    def __init__(self, output: Output) -> None:
        self.output = output
        self.n = 0
        self.steps: list[dict[str, Any]] = []
        self.started = time.perf_counter()

    def step(self, title: str, why: str, command: str | None = None, **record: Any) -> None:
        """A numbered step: what happens, why, and the CLI command that does the same."""
        self.n += 1
        self.steps.append({"step": self.n, "title": title, "why": why,
                           **({"command": command} if command else {}), **to_jsonable(record)})
        if self.output.json_mode:
            return
        self.output.out.print(f"\n[bold cyan]{self.n}.[/bold cyan] [bold]{safe(title)}[/bold]")
        self.output.out.print(f"   {safe(why)}")
        if command:
            self.output.out.print(f"   [dim]$ {safe(command)}[/dim]")

    def say(self, text: str) -> None:
        if not self.output.json_mode:
            self.output.out.print(f"   {safe(text)}")

    def new_key(self, new: NewKey, verb: str, notes: tuple[str, ...] = ()) -> None:
        self.steps[-1]["key"] = new.to_public_dict()
        if not self.output.json_mode:
            self.output.new_key(new.to_public_dict(), verb=verb, notes=notes)


def run_demo(output: Output, *, keep: bool = False) -> None:
    """Start the sandbox, run every step, stop it (also on failure)."""
    from venice_web3_keys.sandbox.runner import Sandbox

    narrator = _Narrator(output)
    folder = Path(tempfile.mkdtemp(prefix="venice-keys-demo-"))
    folder.chmod(0o700)
    narrator.step("Start a local Base chain and the Venice API emulator",
                  "local anvil (chain 8453) + an api.venice.ai emulator: nothing real is touched",
                  "venice-keys sandbox")
    with output.spinner("Starting the sandbox…"):
        sandbox = Sandbox.start()
    try:
        narrator.say(f"chain    {sandbox.rpc_url}")
        narrator.say(f"emulator {sandbox.api_base_url}   (ready in {sandbox.ready_seconds:.2f}s)")
        files = asyncio.run(_flow(narrator, sandbox, folder))
    finally:
        with output.spinner("Stopping the sandbox…"):
            sandbox.stop()
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
    elapsed = time.perf_counter() - narrator.started
    narrator.step("Stop everything", "the chain and emulator stop; the secret files are "
                  "deleted unless --keep", stopped=True,
                  secretsFolder=str(folder) if keep else None)
    for path, mode in files:
        narrator.say(f"secret file {path} (mode {mode})")
    narrator.say(f"stopped; secrets kept in {folder}" if keep else "stopped; secrets deleted")
    if output.json_mode:
        output.emit_json({"ok": True, "seconds": round(elapsed, 2), "steps": narrator.steps})
    else:
        output.out.print(f"\n[green]✓ Demo complete[/green] in {elapsed:.1f}s. "
                         "Try it yourself: `venice-keys sandbox` prints the .env lines.")


async def _flow(narrator: _Narrator, sandbox: Any, folder: Path) -> list[tuple[Path, str]]:
    """Steps 2-10 through the library facade; returns the secret files and their modes."""
    import dataclasses

    from venice_web3_keys.api import AsyncVeniceKeys
    from venice_web3_keys.settings import Settings
    from venice_web3_keys.sinks import FileSink
    from venice_web3_keys.timeparse import parse_expires

    out = narrator.output

    narrator.step("Create a throwaway wallet: 1 ETH, 50 VVV and 5 DIEM, nothing staked yet",
                  "minting needs staked VVV (sVVV); staked DIEM is inference credit")
    address, private_key = sandbox.new_wallet(eth=1, vvv=50, svvv=0, diem=5)
    narrator.say(f"wallet {address} (its private key stays in memory only)")
    settings = Settings(api_base_url=sandbox.api_base_url, rpc_urls=(sandbox.rpc_url,),
                        chain_id=sandbox.chain_id, wallet_private_key=private_key)

    async with AsyncVeniceKeys(settings) as wallet_vk:
        status = wallet_status_data(await wallet_vk.wallet_status())
        narrator.step("Check the wallet on Base", "one batched RPC call; any sVVV at all makes "
                      "the wallet eligible, and this one has none yet",
                      "venice-keys wallet status", **status)
        if not out.json_mode:
            out.wallet_status(status, staking_contract=settings.staking_contract)

        stake = "10"
        narrator.step(f"Stake {stake} VVV for sVVV",
                      f"simulated first; approve exactly {stake} VVV, stake, and check that sVVV "
                      f"rose by {stake} (a terminal asks before signing; --yes skips the question)",
                      command(f"wallet stake {stake}", {}, yes=True))
        staked = await wallet_vk.stake_vvv(stake)
        narrator.steps[-1].update(staked.to_public_dict())
        if not out.json_mode:
            out.stake_result(staked.to_public_dict())
            out.wallet_status(wallet_status_data(await wallet_vk.wallet_status()),
                              staking_contract=settings.staking_contract)

        admin_file = folder / "admin.key"
        admin_options = {"type": "ADMIN", "description": "demo admin", "expires": "1d"}
        narrator.step("Mint an ADMIN key with the wallet",
                      "the wallet signs Venice's challenge; the secret goes straight to a 0600 "
                      "file", command("mint", admin_options, out=admin_file.name))
        admin_type = validate_api_key_type(admin_options["type"])
        admin = await wallet_vk.mint_key(api_key_type=admin_type,
                                         description=admin_options["description"],
                                         expires_at=parse_expires(admin_options["expires"]),
                                         sink=FileSink(admin_file))
        narrator.new_key(admin, "Minted")

    admin_settings = dataclasses.replace(settings, wallet_private_key=None,
                                         admin_key=admin.secret)
    async with AsyncVeniceKeys(admin_settings) as vk:
        customer_file = folder / "acme.key"
        caps = {"usd-limit": "25", "diem-limit": "5", "limit-period": "MONTH", "expires": "30d"}
        narrator.step("Create a capped INFERENCE key for customer 'acme'",
                      "one key per customer with a monthly cap: no customer can run up the bill",
                      command("keys create", {"type": "INFERENCE", "description": "cust:acme",
                                              **caps}, out=customer_file.name))
        customer = await vk.provision_customer_key(
            "acme", usd_limit=caps["usd-limit"], diem_limit=caps["diem-limit"],
            limit_period=validate_limit_period(caps["limit-period"]),
            expires_at=parse_expires(caps["expires"]),
            sink=FileSink(customer_file))
        narrator.new_key(customer, "Created")

        narrator.step("Rate limits and balances", "what the calling key (here the ADMIN key) "
                      "may use, and what the account pays with", "venice-keys limits")
        limits = await vk.rate_limits()
        narrator.steps[-1]["limits"] = to_jsonable(limits)
        if not out.json_mode:
            out.rate_limits(to_jsonable(limits))

        narrator.step("The key list", "secrets are never shown again: only their last 6 "
                      "characters", "venice-keys keys list")
        keys = await vk.list_keys()
        narrator.steps[-1]["keys"] = to_jsonable(keys)
        if not out.json_mode:
            out.keys_table(keys, title=None)

        rotated_file = folder / "acme-rotated.key"
        narrator.step("Rotate the customer key", "the successor copies the caps; it is verified "
                      "working before the old key is revoked",
                      command(f"keys rotate {customer.id}", {}, out=rotated_file.name))
        rotation = await vk.rotate_key(customer.id, sink=FileSink(rotated_file))
        narrator.steps[-1].update(to_jsonable(rotation.to_public_dict()))
        narrator.new_key(rotation.new_key, "Rotated to", notes=(
            f"old key: {rotation.revoked_key_id} revoked; successor "
            f"{'verified working' if rotation.verified else 'NOT verified'}",))

        narrator.step("Revoke the customer's key", "the customer churned: the key stops "
                      "working at once", command(f"keys revoke {rotation.new_key.id}", {},
                                                 yes=True))
        await vk.revoke_key(rotation.new_key.id)
        remaining = await vk.list_keys()
        narrator.steps[-1].update({"revoked": rotation.new_key.id,
                                   "remaining": [k.id for k in remaining]})
        left = ", ".join(f"{k.description} ({k.api_key_type})" for k in remaining) or "none"
        narrator.say(f"revoked {rotation.new_key.id}; keys left: {left}")
    paths = (admin_file, customer_file, rotated_file)
    return [(path, _mode(path)) for path in paths]


def command(words: str, options: dict[str, str], *, out: str | None = None,
            yes: bool = False) -> str:
    """The `venice-keys` command line doing what a step does, built from the same values the
    step passes to the library (so what is printed is what ran)."""
    import shlex

    argv = ["venice-keys", *words.split()]
    for name, value in options.items():
        argv += [f"--{name}", value]
    if out is not None:
        argv += ["--out", out]
    if yes:
        argv.append("--yes")
    return shlex.join(argv)


def _mode(path: Path) -> str:
    try:
        return oct(path.stat().st_mode & 0o777)
    except OSError:
        return "missing"
