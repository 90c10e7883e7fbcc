"""`venice-keys keys provision`: one capped `cust:<id>` key per customer, paced and resumable.

The face reads the customer file, checks where the secrets go, shows progress and renders. The
pacing (create budget), idempotence, claims and the 500-key cap live in the library
(flows/provision.py), so the library, the CLI and any replica behave the same.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from venice_web3_keys.cli import failures
from venice_web3_keys.cli.options import PERIODS, PRIVACY, Choice, key_options
from venice_web3_keys.cli.render import cell, safe
from venice_web3_keys.cli.state import PROG, State, pass_state
from venice_web3_keys.errors import BudgetError, InvalidInputError, SinkError, VeniceKeysError

if TYPE_CHECKING:
    from venice_web3_keys.api import AsyncVeniceKeys
    from venice_web3_keys.flows.provision import ProvisionResult, ProvisionRun
    from venice_web3_keys.sinks import PrivateDirectory, SecretSink

MAX_CUSTOMER_FILE = 10 * 1024 * 1024
RERUN_HINT = "run the same command again to finish: customers that have a key are skipped"


def read_customers(source: str) -> list[str]:
    """Customer ids from FILE (or stdin for `-`): one per line; blank and `#` lines skipped.

    Every id is checked here, before anything is sent; errors name the line.
    """
    from venice_web3_keys.flows.customers import validate_customer_ids

    where = "stdin" if source == "-" else source
    try:
        if source == "-":
            data = sys.stdin.buffer.read(MAX_CUSTOMER_FILE + 1)
        else:
            with open(source, "rb") as fh:
                data = fh.read(MAX_CUSTOMER_FILE + 1)
    except OSError as exc:
        raise InvalidInputError(f"--customers {where}: {exc.strerror or type(exc).__name__}",
                                field="customers") from None
    if len(data) > MAX_CUSTOMER_FILE:
        raise InvalidInputError(f"--customers {where} is larger than "
                                f"{MAX_CUSTOMER_FILE // (1024 * 1024)} MB", field="customers")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInputError(f"--customers {where} is not UTF-8 text", field="customers") \
            from None
    entries = [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1)
               if line.strip() and not line.strip().startswith("#")]
    if not entries:
        raise InvalidInputError(f"--customers {where} holds no customer ids (one per line)",
                                field="customers")
    try:
        return validate_customer_ids([value for _, value in entries],
                                     labels=[f"line {n}" for n, _ in entries])
    except InvalidInputError as exc:
        raise InvalidInputError(f"--customers {where}: {exc}", field="customers") from None


def secrets_dir(path: str) -> PrivateDirectory:
    """The --out-dir: created 0700 if missing; an existing one must be ours and private. It is
    held open for the run, so every secret lands in the directory checked here."""
    from venice_web3_keys.sinks import PrivateDirectory

    try:
        return PrivateDirectory(path)
    except SinkError as exc:
        raise InvalidInputError(f"--out-dir {exc}", field="out_dir") from None


def sink_factory(out_dir: str | None, keyring: str | None) -> Callable[[str], SecretSink]:
    """Exactly one destination: a new 0600 `<id>.key` per customer, or one keyring entry each."""
    from venice_web3_keys.sinks import KeyringSink

    if (out_dir is None) == (keyring is None):
        raise InvalidInputError("say where the secrets go: exactly one of --out-dir DIR or "
                                "--keyring SERVICE", field="sink")
    if out_dir is not None:
        directory = secrets_dir(out_dir)
        return lambda customer: directory.file_sink(f"{customer}.key")
    service = str(keyring)
    if not service.strip():
        raise InvalidInputError("--keyring needs a service name", field="keyring")
    return lambda customer: KeyringSink(service, username=customer)


async def _eta(run: ProvisionRun) -> float | None:
    """The budget's ETA, or None when the budget cannot be read (the next create says why)."""
    try:
        return await run.eta()
    except BudgetError:
        return None


def _eta_text(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    whole = max(0, round(seconds))
    return f"{whole // 60}m{whole % 60:02d}s" if whole >= 60 else f"{whole}s"


class Progress:
    """Progress on stderr: a bar with the budget's ETA on a terminal, plain lines otherwise."""

    def __init__(self, state: State, total: int) -> None:
        self.total = total
        self.done = 0
        self._err = state.output.err
        self._bar: Any = None
        self._task: Any = None
        if sys.stderr.isatty():
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self._bar = Progress(TextColumn("provisioning"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[status]}"), console=self._err,
                                 transient=True)

    def start(self, summary: str, eta: float | None) -> None:
        if self._bar is not None:
            self._bar.start()
            self._task = self._bar.add_task("", total=self.total,
                                            status=f"ETA {_eta_text(eta)}")
        else:
            self._err.print(f"{summary}; the create budget implies ETA {_eta_text(eta)}")

    def advance(self, result: ProvisionResult, eta: float | None) -> None:
        self.done += 1
        if self._bar is not None:
            self._bar.update(self._task, advance=1, status=f"ETA {_eta_text(eta)}")
            return
        what = result.status + (f" …{safe(result.last6)}" if result.last6 else "")
        self._err.print(f"[{self.done}/{self.total}] {safe(result.customer)}: {what}; "
                        f"ETA {_eta_text(eta)}")

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


@click.command("provision", short_help="One capped key per customer, paced, resumable.")
@click.option("--customers", "customers_file", required=True, metavar="FILE",
              help="Customer ids, one per line (`-` for stdin); blank and # lines skipped.")
@click.option("--expires", metavar="WHEN",
              help="YYYY-MM-DD, ISO 8601 with Z/offset, or a duration (12h, 30d, 6w).")
@click.option("--usd-limit", metavar="N", help="USD cap per limit period (a cap is required).")
@click.option("--diem-limit", metavar="N", help="DIEM cap per limit period.")
@click.option("--limit-period", type=Choice(PERIODS), metavar="|".join(PERIODS),
              help="When the caps reset (default MONTH).")
@click.option("--model-privacy", type=Choice(PRIVACY), metavar="|".join(PRIVACY),
              help="Which models the keys may call.")
@click.option("--out-dir", metavar="DIR",
              help="One NEW file per customer, DIR/<id>.key, mode 0600 (DIR 0700).")
@click.option("--keyring", metavar="SERVICE",
              help="The OS keyring: one entry per customer (username = customer id).")
@pass_state
def keys_provision(state: State, customers_file: str, expires: str | None,
                   usd_limit: str | None, diem_limit: str | None, limit_period: str | None,
                   model_privacy: str | None, out_dir: str | None,
                   keyring: str | None) -> None:
    """One capped INFERENCE key per customer (`cust:<id>`), paced, resumable.

    Creates go through the account's create budget (20 a minute; VENICE_BUDGET_URL=redis://...
    shares it between processes), so Venice's rate limit is never hit. Customers that already
    hold an active key are reported as `exists` and get nothing new: after a failure or Ctrl-C,
    run the same command again. Customers past the 500-active-keys cap are reported as failed
    before anything Venice would refuse is sent. Exit 1 if any customer failed.
    """
    customers = read_customers(customers_file)
    options = key_options(description=None, expires=expires, usd_limit=usd_limit,
                          diem_limit=diem_limit, limit_period=limit_period,
                          model_privacy=model_privacy)
    from venice_web3_keys.flows.customers import customer_spec

    customer_spec(customers[0], **options)  # e.g. no cap: refused now, nothing sent
    factory = sink_factory(out_dir, keyring)
    progress = Progress(state, len(customers))
    runs: list[ProvisionRun] = []

    async def provision(vk: AsyncVeniceKeys) -> list[ProvisionResult]:
        run = vk.provision_customer_keys(customers, sink_factory=factory, **options)
        runs.append(run)
        plan = await run.prepare()
        progress.start(f"{plan.customers} customers: {plan.to_create} to create, "
                       f"{plan.existing} already have a key, {plan.over_cap} past the cap",
                       await _eta(run))
        async for result in run:
            progress.advance(result, await _eta(run))
        return run.results

    try:
        results = state.call("Provisioning…", provision, spinner=False,
                             writes=f"keys may have been made: {RERUN_HINT}")
    except KeyboardInterrupt:
        progress.stop()
        made = runs[0].results if runs else []
        _render(state, made, out_dir, stopped_by=("Interrupted", "interrupted"))
        raise click.exceptions.Exit(failures.EXIT_INTERRUPTED) from None
    except VeniceKeysError as exc:
        made = runs[0].results if runs else []
        if not made:
            raise  # nothing to show: the usual error object
        progress.stop()
        _render(state, made, out_dir, stopped_by=(type(exc).__name__, str(exc)))
        raise click.exceptions.Exit(failures.exit_code(exc)) from None
    finally:
        progress.stop()
    _render(state, results, out_dir)
    if any(r.status == "failed" for r in results):
        raise click.exceptions.Exit(1)


def _lost_secrets(results: Sequence[ProvisionResult], out_dir: str | None) -> list[str]:
    """Customers whose key exists but whose <id>.key is empty: a run killed mid-create."""
    if out_dir is None:
        return []
    directory = Path(out_dir).expanduser()
    lost = []
    for result in results:
        path = directory / f"{result.customer}.key"
        if result.status == "exists" and path.is_file() and not path.is_symlink() \
                and path.stat().st_size == 0:
            lost.append(f"{result.customer} (key {result.key_id}, empty {path})")
    return lost


def _render(state: State, results: Sequence[ProvisionResult], out_dir: str | None, *,
            stopped_by: tuple[str, str] | None = None) -> None:
    """The results (all, or those made before the run stopped: `stopped_by` = (error type,
    why)); with --json one object, `{"data": [...]}` plus `"error"` when the run stopped."""
    output = state.output
    data = [r.to_public_dict() for r in results]
    counts = {s: sum(1 for r in results if r.status == s) for s in ("created", "exists",
                                                                    "failed")}
    summary = (f"{counts['created']} created, {counts['exists']} already had a key, "
               f"{counts['failed']} failed")
    lost = _lost_secrets(results, out_dir)
    for item in lost:
        output.warn(f"the secret of {item} was never written (an interrupted run): revoke it "
                    f"with `{PROG} keys revoke ID`, delete the empty file, and run again")
    error: dict[str, Any] | None = None
    if stopped_by is not None:
        kind, why = stopped_by
        message = f"{why}; stopped after {len(results)} customer(s): {summary}"
        error = {"type": kind, "message": message, "hint": RERUN_HINT}
        output.err.print(f"[bold red]error:[/bold red] {safe(message)}")
        output.err.print(f"[dim]→[/dim] {RERUN_HINT}")
    if output.json_mode:
        output.emit_json({"data": data} if error is None else {"data": data, "error": error})
        return
    if results:
        table = output.table()
        for column in ("customer", "status", "id", "key", "secret / error"):
            table.add_column(column, overflow="fold")
        for r in results:  # every cell inert: ids, last6 and errors may come from the server
            where = r.error if r.status == "failed" else (
                f"{r.sink.kind}: {r.sink.location}" if r.sink else "-")
            table.add_row(cell(r.customer), r.status, cell(r.key_id or "-"),
                          cell(f"…{r.last6}" if r.last6 else "-"), cell(where or "-"))
        output.show(table, "Customer keys")
    output.out.print(summary + ".")
