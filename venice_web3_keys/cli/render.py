"""Output for the CLI: one JSON object in `--json` mode, rich tables otherwise.

`rich` is imported lazily so that `--help` and `--version` stay fast. Nothing here ever reveals a
secret: a `--print` secret is written by the CLI itself, from the PrintSink's buffer.

Every string that came from outside (a server, a chain, a file name) is shown inert: through
`safe()` inside markup, or as a `cell()` (a rich Text, never parsed as markup). Both drop control,
C1 and bidi characters first, so server text can neither restyle the output nor crash it
(a MarkupError), move the cursor, set the window title or reorder what the user reads.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from venice_web3_keys.amounts import decimal_str
from venice_web3_keys.serialize import plain, to_jsonable

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

def safe(value: object) -> str:
    """`value` for use inside a markup string: plain(), with rich markup escaped."""
    from rich.markup import escape

    return escape(plain(value))


def cell(value: object) -> Text:
    """`value` as a table cell: plain() text, never parsed as markup."""
    from rich.text import Text

    return Text(plain(value))


def field(obj: object, *names: str) -> Any:
    """First non-None attribute or mapping entry among `names` (tolerates models and dicts)."""
    for name in names:
        value = obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)
        if value is not None:
            return value
    return None


def wallet_status_data(status: Any) -> dict[str, Any]:
    """A WalletStatus as the JSON object of `wallet status` (balances in whole tokens)."""
    balances = status.balances
    return {
        "address": status.address,
        "chainId": status.chain_id,
        "balances": {name: decimal_str(balances.get(name, 0)) for name in
                     ("ETH", "VVV", "sVVV", "DIEM")},
        "eligible": bool(status.eligible),
    }


def parse_time(value: Any) -> datetime | None:
    """An API timestamp ("2026-12-31", ISO with Z) as an aware UTC datetime, or None."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value).strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def relative(when: datetime, *, now: datetime | None = None) -> str:
    """'in 29d', '3h ago', 'just now'."""
    now = now or datetime.now(UTC)
    seconds = int((when - now).total_seconds())
    future = seconds >= 0
    seconds = abs(seconds)
    # Nearest unit, not floor: a key made with "7d" reads "in 7d" a second later, not "in 6d".
    for unit, size, threshold in (("d", 86400, 86400 - 1800), ("h", 3600, 3600 - 30),
                                  ("m", 60, 60)):
        if seconds >= threshold:
            amount = f"{max(1, (seconds + size // 2) // size)}{unit}"
            return f"in {amount}" if future else f"{amount} ago"
    return "just now"


def when_text(value: Any, *, empty: str = "never", short: bool = False) -> str:
    """Relative and absolute form of a timestamp: 'in 29d (2026-12-31 23:59 UTC)', or only
    'in 29d' when `short`."""
    parsed = parse_time(value)
    if parsed is None:
        return empty if value in (None, "") else str(value)
    return relative(parsed) if short else f"{relative(parsed)} ({parsed:%Y-%m-%d %H:%M} UTC)"


#: what each limit period means, for people who did not read the API reference
PERIOD_MEANING = {
    "EPOCH": "caps reset every day at 00:00 UTC",
    "MONTH": "caps reset at 00:00 UTC on the 1st of each month",
    "LIFETIME": "caps never reset: they cover the key's whole life",
}
#: what Venice applies when a new key is made without `limitPeriod`
DEFAULT_PERIOD = "EPOCH"


def period_text(period: Any) -> str:
    """'MONTH (caps reset at 00:00 UTC on the 1st of each month)'."""
    name = str(period) if period else DEFAULT_PERIOD
    meaning = PERIOD_MEANING.get(name)
    default = "" if period else ", Venice's default"
    return f"{name} ({meaning}{default})" if meaning else name


def short_id(key_id: Any) -> str:
    """The first 8 characters of a key id: enough to name it in any command taking an ID."""
    return str(key_id)[:8]


def limits_text(limits: Any, period: Any) -> str:
    """'$25 + 10 DIEM / MONTH', or 'no cap'."""
    parts = []
    usd = field(limits, "usd")
    diem = field(limits, "diem")
    if usd is not None:
        parts.append(f"${decimal_str(usd)}")
    if diem is not None:
        parts.append(f"{decimal_str(diem)} DIEM")
    if not parts:
        return "no cap"
    return " + ".join(parts) + (f" / {period}" if period else "")


def usage_text(key: Any) -> str:
    """Spend this period (when limited) and over the trailing seven days."""
    out = []
    current = field(key, "current_period_usage", "currentPeriodUsage")
    if current is not None:
        out.append(f"period ${decimal_str(field(current, 'usd') or 0)}"
                   f" / {decimal_str(field(current, 'diem') or 0)} DIEM")
    usage = field(key, "usage")
    week = field(usage, "trailing_seven_days", "trailingSevenDays") if usage is not None else None
    if week is not None:
        out.append(f"7d ${decimal_str(field(week, 'usd') or 0)}"
                   f" / {decimal_str(field(week, 'diem') or 0)} DIEM")
    return "\n".join(out) or "-"


class Output:
    """Where and how a command's result is written."""

    def __init__(self, *, json_mode: bool) -> None:
        self.json_mode = json_mode
        self._out: Console | None = None
        self._err: Console | None = None

    @property
    def out(self) -> Console:
        """rich console on stdout (colour only when stdout is a terminal)."""
        if self._out is None:
            import os

            from rich.console import Console

            wide = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160
            self._out = Console(highlight=False, emoji=False, width=wide)
        return self._out

    @property
    def err(self) -> Console:
        """rich console on stderr."""
        if self._err is None:
            from rich.console import Console

            self._err = Console(stderr=True, highlight=False, emoji=False, soft_wrap=True)
        return self._err

    def emit_json(self, obj: Any) -> None:
        """The one JSON object of a `--json` run."""
        sys.stdout.write(json.dumps(to_jsonable(obj), indent=2, sort_keys=False) + "\n")
        sys.stdout.flush()

    def _plain_err(self, line: str) -> None:
        # `--json` runs never import rich (scripts call them, and wait for them)
        sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def warn(self, text: str) -> None:
        if self.json_mode:
            self._plain_err(f"warning: {plain(text)}")
            return
        self.err.print(f"[yellow]warning:[/yellow] {safe(text)}")

    def alarm(self, text: str) -> None:
        """A warning that must not be missed (the user is about to lock themselves out)."""
        if self.json_mode:
            self._plain_err(f"WARNING: {plain(text)}")
            return
        self.err.print(f"[bold red]WARNING:[/bold red] [bold]{safe(text)}[/bold]")

    @contextmanager
    def spinner(self, text: str) -> Iterator[None]:
        """A spinner on stderr while waiting on the network; none with `--json` or when stderr
        is not a TTY."""
        if self.json_mode or not sys.stderr.isatty():
            yield
            return
        with self.err.status(text, spinner="dots"):
            yield

    def error(self, type_name: str, message: str, hint: str | None,
              extra: Mapping[str, Any] | None = None) -> None:
        """A failure: JSON object on stdout in `--json` mode; the message always on stderr."""
        if self.json_mode:
            body: dict[str, Any] = {"type": type_name, "message": message}
            if hint:
                body["hint"] = hint
            body.update(extra or {})
            self.emit_json({"error": body})
            self._plain_err(f"error: {plain(message)}")
            if hint:
                self._plain_err(f"→ {plain(hint)}")
            return
        self.err.print(f"[bold red]error:[/bold red] {safe(message)}")
        if hint:
            self.err.print(f"[dim]→[/dim] {safe(hint)}")

    # ---- human renderings -------------------------------------------------------------

    def table(self) -> Table:
        from rich.table import Table

        return Table(show_lines=False, header_style="bold")

    def show(self, table: Table, title: str | None = None) -> None:
        """A table under a bold title line (not rich's title, which pads the line with spaces)."""
        if title:
            self.out.print(f"[bold]{safe(title)}[/bold]")
        self.out.print(table)

    def keys_table(self, keys: Sequence[Any], *, title: str | None = "API keys",
                   wide: bool = False) -> None:
        """The key list. It fits 80 columns: short ids (the first 8 characters, which every
        command accepts) and relative expiry; `wide` adds full ids, dates and usage."""
        if not keys:
            self.out.print("No API keys.")
            return
        from rich import box

        table = self.table()
        table.box = box.SIMPLE_HEAD
        table.pad_edge = False
        table.add_column("id", no_wrap=True)
        table.add_column("type", no_wrap=True)
        table.add_column("description", overflow="fold", min_width=12, ratio=1)
        table.add_column("key", no_wrap=True)
        table.add_column("expires", no_wrap=not wide)
        table.add_column("cap", overflow="fold")
        if wide:
            table.add_column("usage", overflow="fold")
        for key in keys:
            table.add_row(*(cell(value) for value in self._key_row(key, wide=wide)))
        self.show(table, title)

    def _key_row(self, key: Any, *, wide: bool) -> list[str]:
        last6 = field(key, "last6_chars", "last6Chars") or "??????"
        key_id = str(field(key, "id"))
        row = [
            key_id if wide else short_id(key_id),
            str(field(key, "api_key_type", "apiKeyType") or "-"),
            str(field(key, "description") or ""),
            f"…{last6}",
            when_text(field(key, "expires_at", "expiresAt"), short=not wide),
            limits_text(field(key, "consumption_limits", "consumptionLimits"),
                        field(key, "limit_period", "limitPeriod")),
        ]
        return [*row, usage_text(key)] if wide else row

    def key_detail(self, key: Any) -> None:
        table = self.table()
        table.add_column("field", style="bold")
        table.add_column("value", overflow="fold")
        rows = [
            ("type", str(field(key, "api_key_type", "apiKeyType") or "-")),
            ("description", str(field(key, "description") or "")),
            ("key", f"…{field(key, 'last6_chars', 'last6Chars') or '??????'}"),
            ("created", when_text(field(key, "created_at", "createdAt"), empty="-")),
            ("expires", when_text(field(key, "expires_at", "expiresAt"))),
            ("last used", when_text(field(key, "last_used_at", "lastUsedAt"), empty="never")),
            ("limit", limits_text(field(key, "consumption_limits", "consumptionLimits"),
                                  field(key, "limit_period", "limitPeriod"))),
            ("period", period_text(field(key, "limit_period", "limitPeriod"))),
            ("model privacy", str(field(key, "model_privacy", "modelPrivacy") or "ALL")),
            ("usage", usage_text(key)),
        ]
        for name, value in rows:
            table.add_row(name, cell(value))
        self.show(table, f"API key {field(key, 'id')}")

    def new_key(self, info: Mapping[str, Any], *, verb: str = "Created",
                notes: Sequence[str] = (), to_stderr: bool = False) -> None:
        """Summary of a new key (never its secret); on stderr when stdout carries the secret."""
        console = self.err if to_stderr else self.out
        sink = info.get("sink") or {}
        console.print(
            f"[green]✓[/green] {verb} {safe(info.get('apiKeyType'))} key "
            f"[bold]{safe(info.get('id'))}[/bold] (…{safe(info.get('last6'))}), "
            f"\"{safe(info.get('description'))}\""
        )
        limits = info.get("consumptionLimits")
        console.print(f"  expires: {safe(when_text(info.get('expiresAt')))}")
        console.print(f"  limit:   {safe(limits_text(limits, info.get('limitPeriod')))}")
        console.print(f"  period:  {safe(period_text(info.get('limitPeriod')))}")
        console.print(f"  sha256:  {safe(info.get('fingerprint'))}")
        for note in notes:
            console.print(f"  {safe(note)}")
        if sink.get("kind") == "stdout":
            console.print("  secret → stdout (shown once)")
        else:
            console.print(f"  secret → {safe(sink.get('kind'))}: {safe(sink.get('location'))}")

    def wallet_status(self, status: Mapping[str, Any], *, staking_contract: str) -> None:
        self.out.print(f"Wallet [bold]{safe(status['address'])}[/bold] on chain "
                       f"{safe(status['chainId'])}")
        table = self.table()
        table.add_column("token", style="bold")
        table.add_column("balance", justify="right")
        for name, amount in status["balances"].items():
            table.add_row(cell(name), cell(amount))
        self.out.print(table)
        if status["eligible"]:
            self.out.print("[green]✓[/green] holds sVVV: this wallet can mint API keys.")
        else:
            self.out.print(
                f"[yellow]✗[/yellow] no sVVV on Base: stake VVV at {safe(staking_contract)} "
                "to mint API keys."
            )
            if Decimal(status["balances"].get("VVV", "0")) > 0:
                self.out.print(f"  It holds {safe(status['balances']['VVV'])} VVV: `venice-keys "
                               "wallet stake AMOUNT` stakes some (any amount is enough).")

    def stake_plan(self, plan: Mapping[str, Any], *, stream: str = "out") -> None:
        """What a stake will do (a dry run, or before asking): amount, contracts, gas, fees."""
        console = self.err if stream == "err" else self.out
        contracts, after = plan["contracts"], plan["balancesAfter"]
        gas = ", ".join(f"{step} ≤ {limit}" for step, limit in plan["gasEstimate"].items())
        approve = (f"approve exactly {plan['amount']} VVV first (allowance now "
                   f"{plan['allowanceBefore']})" if plan["approveNeeded"]
                   else f"none needed (allowance {plan['allowanceBefore']} VVV)")
        console.print(f"Stake [bold]{safe(plan['amount'])} VVV[/bold] from "
                      f"{safe(plan['address'])} on chain {safe(plan['chainId'])}")
        console.print(f"  VVV token:        {safe(contracts['VVV'])}")
        console.print(f"  staking contract: {safe(contracts['staking'])}")
        console.print(f"  approve:          {safe(approve)}")
        console.print(f"  gas:              {safe(gas)} (at most "
                      f"{safe(plan['maxFeePerGasGwei'])} gwei/gas)")
        console.print(f"  fee:              at most {safe(plan['feeEstimateETH'])} ETH "
                      f"(wallet holds {safe(plan['balancesBefore']['ETH'])} ETH)")
        console.print(f"  after:            VVV {safe(after['VVV'])}, sVVV {safe(after['sVVV'])}")
        console.print(f"  simulated ({safe(plan['simulation'])}): every step succeeds"
                      + ("; nothing was signed" if plan["dryRun"] else ""))

    def stake_result(self, result: Mapping[str, Any]) -> None:
        """A finished stake: the transactions, gas, fees and sVVV before and after."""
        self.out.print(f"[green]✓[/green] Staked [bold]{safe(result['amount'])} VVV[/bold]: "
                       f"sVVV {safe(result['sVVVBefore'])} → {safe(result['sVVVAfter'])}")
        for step in ("approve", "stake"):
            tx = result[f"{step}Tx"]
            if tx:
                self.out.print(f"  {step + ':':9}{safe(tx)} "
                               f"(gas {safe(result['gasUsed'][step])})")
        self.out.print(f"  fees paid: {safe(result['feesPaidETH'])} ETH")

    def mapping_table(self, title: str, data: Mapping[str, Any]) -> None:
        table = self.table()
        table.add_column("field", style="bold")
        table.add_column("value", overflow="fold")
        for name, value in data.items():
            if isinstance(value, Mapping):
                value = ", ".join(f"{k} {_amount(v)}" for k, v in value.items()
                                  if v is not None) or "none"
            table.add_row(cell(name), cell(_scalar(value)))
        self.show(table, title)

    def billing(self, data: Mapping[str, Any]) -> None:
        """The account balance (`billing`), in plain words."""
        balances = data.get("balances") or {}
        currency = data.get("consumptionCurrency")
        self.mapping_table("Account balance", {
            "can consume": (f"yes, paying in {currency}" if currency else "yes")
            if data.get("canConsume") else "NO (no balance to pay with)",
            "USD": _amount(balances.get("usd")),
            "DIEM": _amount(balances.get("diem")),
            "DIEM per epoch": _amount(data.get("diemEpochAllocation")),
            "bundled credits": _amount(balances.get("bundledCredits")),
            "earned credits": _amount(balances.get("earnedCredits")),
        })

    def rate_limits(self, data: Mapping[str, Any]) -> None:
        balances = data.get("balances") or {}
        summary = {
            "access permitted": "yes" if data.get("accessPermitted")
            else "NO (no USD or DIEM balance to pay with)",
            "tier": _scalar(field(data.get("apiTier") or {}, "id")),
            "balances": balances or "none",
            "key expires": when_text(data.get("keyExpiration")),
            "next epoch": when_text(data.get("nextEpochBegins"), empty="-"),
        }
        self.mapping_table("Rate limits and balances of the calling key", summary)
        models = data.get("rateLimits") or []
        if models:
            table = self.table()
            table.add_column("model")
            table.add_column("limits")
            for entry in models:
                limits = ", ".join(
                    f"{_scalar(field(lim, 'amount'))} {_scalar(field(lim, 'type'))}"
                    for lim in (field(entry, "rateLimits") or [])
                )
                table.add_row(cell(field(entry, "apiModelId") or "-"), cell(limits or "-"))
            self.show(table, "Per-model limits")

    def rate_limit_log(self, entries: Sequence[Mapping[str, Any]]) -> None:
        if not entries:
            self.out.print("No rate-limit breaches recorded.")
            return
        table = self.table()
        for col in ("when", "key", "model", "tier", "type"):
            table.add_column(col, overflow="fold")
        for e in entries:
            table.add_row(*(cell(value) for value in (
                when_text(e.get("timestamp"), empty="-"), _scalar(e.get("apiKeyId")),
                _scalar(e.get("modelId")), _scalar(e.get("rateLimitTier")),
                _scalar(e.get("rateLimitType")))))
        self.show(table, "Recent rate-limit breaches")


def _amount(value: Any) -> str:
    """A balance or amount ("10.0", 10.0, Decimal) as plain decimal text; '-' when absent."""
    return "-" if value is None else decimal_str(value)


def _scalar(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | Decimal):
        return decimal_str(value)
    return str(value)
