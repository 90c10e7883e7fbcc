"""Fleet provisioning: one capped `cust:<id>` key per customer, paced, idempotent, resumable.

The order of work, and why:
1. Every customer id and key option is checked before anything is sent (the facade does it).
2. One list call. Customers already holding an active `cust:<id>` key are `exists` and get
   nothing new; the active-key count says how many new keys fit under Venice's cap of 500, and
   the customers past it are `failed` (how many fit, what to revoke) without a create Venice
   would refuse.
3. Each create takes a slot of the create budget (budget.py) right before it is sent, so a
   healthy run sees no 429; then a claim on the customer (two processes never create for one
   customer at once); then `create_key`: a snapshot of the key list (checked again for a key
   another process made meanwhile), one POST, and the usual reconciliation of an ambiguous
   outcome. A customer someone else holds a claim on is done last, after a fresh list call.
4. A 429 that still arrives (another client spent the minute) is a definite refusal: nothing was
   created, so after Retry-After the create is sent again. It is counted, never a failure.
5. A cancelled run (Ctrl-C) finishes the create in flight (its key is never left half-made) and
   then stops; a re-run starts again at step 2 and finishes the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from venice_web3_keys.errors import (
    ActiveKeyLimitError,
    AuthenticationError,
    BudgetError,
    CredentialsRequiredError,
    PermissionDeniedError,
    RateLimitError,
    VeniceKeysError,
)
from venice_web3_keys.flows.create import SETTLE_DELAYS, abort_quietly, create_key
from venice_web3_keys.secret import get_logger

if TYPE_CHECKING:
    from venice_web3_keys.budget import Claims, RateBudget
    from venice_web3_keys.client.async_client import AsyncVeniceClient
    from venice_web3_keys.flows._result import NewKey
    from venice_web3_keys.models import ApiKey, KeySpec
    from venice_web3_keys.sinks import SecretSink, SinkReceipt

log = get_logger("venice_web3_keys.flows.provision")

#: Venice's cap on an account's active (unexpired) keys.
MAX_ACTIVE_KEYS = 500
#: 429s in a row for one customer before it is reported failed (each one honoured first).
MAX_THROTTLES = 10
#: The longest Retry-After honoured; a longer one fails the customer instead of stalling the run.
MAX_RETRY_AFTER = 900.0
#: How long an unspent slot may serve the next customer: this share of the budget window, or
#: at least SLOT_REUSE_MIN seconds (a few round trips to the budget storage on a busy host).
SLOT_REUSE_FRACTION = 0.005
SLOT_REUSE_MIN = 0.1
#: Rounds of waiting for customers another process had claimed, before giving up on them.
CLAIM_ROUNDS = 3

Status = Literal["created", "exists", "failed"]
SinkFactory = Callable[[str], "SecretSink | None"]


@dataclass
class ProvisionResult:
    """What happened for one customer. `new_key` (secret masked) only when `created`."""

    customer: str
    status: Status
    key_id: str | None = None
    last6: str | None = None
    sink: SinkReceipt | None = None
    error: str | None = None
    throttled: int = 0  # 429s honoured before this customer's create went through
    new_key: NewKey | None = field(default=None, repr=False)

    def to_public_dict(self) -> dict[str, Any]:
        """The JSON face of a result; never the secret."""
        sink = None if self.sink is None else {"kind": self.sink.kind,
                                               "location": self.sink.location}
        return {"customer": self.customer, "status": self.status, "id": self.key_id,
                "last6": self.last6, "sink": sink, "error": self.error}


@dataclass(frozen=True)
class ProvisionPlan:
    """The run as decided by the first list call."""

    customers: int
    existing: int
    to_create: int
    over_cap: int
    active_keys: int


class _SnapshotHasKey(Exception):
    def __init__(self, key: ApiKey) -> None:
        super().__init__(key.id)
        self.key = key


def _exists(customer: str, key: ApiKey) -> ProvisionResult:
    return ProvisionResult(customer, "exists", key_id=key.id, last6=key.last6_chars)


def _failed(customer: str, error: str, *, throttled: int = 0) -> ProvisionResult:
    return ProvisionResult(customer, "failed", error=error, throttled=throttled)


def _cap_message(active: int, fit: int, wanted: int) -> str:
    return (f"not created: Venice allows {MAX_ACTIVE_KEYS} active keys per account and "
            f"{active} are active, so only {fit} of the {wanted} new customer keys fit. Revoke "
            "keys you no longer use (a churned customer's: revoke_customer_keys / `venice-keys "
            "keys revoke ID`), then run again: customers that have a key are skipped.")


class ProvisionRun:
    """An async iterator of ProvisionResult, one per customer (see the module doc).

    Results come in input order, except customers another process was working on, which come
    last; with a shared (Redis) budget, those that need no create come first and each process
    starts its creates at a random point of the list.
    `results` holds every result so far, including that of a create finished after a
    cancellation; `plan` is set by the first list call (`prepare()`, or the first iteration).
    """

    def __init__(
        self,
        client: AsyncVeniceClient,
        customers: Sequence[str],
        specs: dict[str, KeySpec],
        *,
        sink_factory: SinkFactory,
        budget: RateBudget,
        claims: Claims,
        made: Claims,
        settle_delays: Sequence[float] = SETTLE_DELAYS,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self._client = client
        self._customers = list(customers)
        self._specs = specs
        self._sink_factory = sink_factory
        self._budget = budget
        self._claims = claims
        self._made = made
        # A slot admitted this recently may still buy a POST: the budget's margin over
        # Venice's window (61 s vs 60 s by default) absorbs this delay with room to spare.
        self._slot_reuse = max(budget.window * SLOT_REUSE_FRACTION, SLOT_REUSE_MIN)
        self._slot_at: float | None = None
        self._settle_delays = settle_delays
        self._sleep = sleep
        self._queue: deque[tuple[str, str]] = deque()  # (customer, "create" | "over_cap" | ...)
        self._existing: dict[str, ApiKey] = {}
        self._deferred: list[str] = []
        self._claim_rounds = 0
        self._cap_refused: str | None = None
        self._cap_note = ""
        self.plan: ProvisionPlan | None = None
        self.results: list[ProvisionResult] = []

    def __aiter__(self) -> ProvisionRun:
        return self

    async def __anext__(self) -> ProvisionResult:
        if self.plan is None:
            await self.prepare()
        result = await self._next()
        self.results.append(result)
        return result

    @property
    def pending_creates(self) -> int:
        """Creates still to send (for progress and ETA)."""
        return (sum(1 for _, action in self._queue if action in ("create", "retry"))
                + len(self._deferred))

    async def eta(self) -> float:
        """Seconds the create budget implies for the creates still to send."""
        return await self._budget.eta(self.pending_creates)

    async def prepare(self) -> ProvisionPlan:
        """The one list call: who exists, how many new keys fit under the 500 cap."""
        if self.plan is not None:
            return self.plan
        keys = await self._client.list_keys() if self._customers else []
        existing = self._index(keys)
        to_create = [c for c in self._customers if c not in existing]
        fit = max(0, MAX_ACTIVE_KEYS - len(keys))
        self._cap_note = _cap_message(len(keys), fit, len(to_create))
        creating = set(to_create[:fit])
        for customer in self._customers:
            if customer in existing:
                self._queue.append((customer, "exists"))
            else:
                self._queue.append((customer, "create" if customer in creating else "over_cap"))
        if self._budget.storage.shared:
            # Replicas sharing the budget often get the same list: each starts its creates at
            # its own random point of it, so that they rarely reach for the same customer at
            # once. What needs no request (exists, over the cap) comes first.
            settled = [item for item in self._queue if item[1] != "create"]
            creates = deque(item for item in self._queue if item[1] == "create")
            creates.rotate(-random.randrange(len(creates) or 1))  # noqa: S311 - not secret
            self._queue = deque([*settled, *creates])
        self._existing = existing
        self.plan = ProvisionPlan(
            customers=len(self._customers), existing=len(self._customers) - len(to_create),
            to_create=len(creating), over_cap=len(to_create) - len(creating),
            active_keys=len(keys))
        if self.plan.over_cap:
            log.warning("%d customer(s) past the %d-key cap will not get a key",
                        self.plan.over_cap, MAX_ACTIVE_KEYS)
        return self.plan

    def _index(self, keys: list[ApiKey]) -> dict[str, ApiKey]:
        """customer -> its newest active key (Venice lists newest first)."""
        wanted = {self._specs[c].description: c for c in self._customers}
        found: dict[str, ApiKey] = {}
        for key in keys:
            customer = wanted.get(key.description)
            if customer is not None and customer not in found:
                found[customer] = key
        return found

    async def _next(self) -> ProvisionResult:
        while True:
            if not self._queue:
                if not self._deferred:
                    raise StopAsyncIteration
                await self._retry_deferred()
                continue
            customer, action = self._queue.popleft()
            if action == "exists":
                return _exists(customer, self._existing[customer])
            if action == "over_cap":
                return _failed(customer, self._cap_note)
            if action == "gave_up":
                return _failed(customer, "another process kept this customer claimed (it may "
                               "still be creating its key); run again to finish it")
            if customer in self._existing:  # a later snapshot showed another process's key
                return _exists(customer, self._existing[customer])
            if self._cap_refused is not None:
                return _failed(customer, self._cap_refused)
            result = await self._provision(customer, heed_hints=action == "create")
            if result is None:  # claimed by another process: look again at the end
                self._deferred.append(customer)
                continue
            return result

    async def _retry_deferred(self) -> None:
        """Customers other processes held: one fresh list call finds the keys they made; for
        the rest, wait until their claims end (a process killed mid-create leaves one until
        its lease runs out), then try them again."""
        deferred, self._deferred = self._deferred, []
        self._existing.update(self._index(await self._client.list_keys()))
        missing = [c for c in deferred if c not in self._existing]
        self._queue.extend((c, "exists") for c in deferred if c in self._existing)
        if not missing:
            return
        self._claim_rounds += 1
        if self._claim_rounds > CLAIM_ROUNDS:
            self._queue.extend((c, "gave_up") for c in missing)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._claims.lease + 1
        while loop.time() < deadline and any([await self._claims.held(c) for c in missing]):
            await self._sleep(min(1.0, self._budget.window / 10))
        self._queue.extend((c, "retry") for c in missing)

    async def _provision(self, customer: str, *, heed_hints: bool) -> ProvisionResult | None:
        """Budget slot, claim, create; a 429 is waited out and retried. None: leave it for the
        end (another process holds it, or recently made its key).

        The claim is taken after the slot, so it is held only for the create itself (a process
        killed while it waits for the budget leaves no claim behind). A slot that bought no
        POST (the claim was taken, or the key turned out to exist) serves the next customer if
        it is still fresh, so replicas working through the same list do not waste slots; the
        "made" mark a replica leaves after a create lets the others skip that customer before
        even taking a slot (the fresh list call at the end then finds its key).
        """
        # Look before taking a slot: a customer another process has just made a key for, or
        # holds (the claim below tells as much once a slot is held), is left for the end.
        if heed_hints and (await self._made.held(customer) or (
                self._slot_at is None and await self._claims.held(customer))):
            return None
        throttled = 0
        while True:
            sink = self._prepared_sink(customer)
            if isinstance(sink, ProvisionResult):
                return sink
            try:
                waited = await self._take_slot()
                # Another process may have made this key while we waited for the slot: a
                # fresh look (one round trip) keeps the slot for the next customer.
                made = heed_hints and waited and await self._made.held(customer)
                claimed = not made and await self._claims.claim(customer)
            except BaseException:
                abort_quietly(sink)
                raise
            if not claimed:
                abort_quietly(sink)
                log.debug("%s is made or claimed elsewhere: left for the end", customer)
                return None
            try:
                result = await self._finish_in_flight(customer, sink)
            except RateLimitError as exc:
                self._slot_at = None
                throttled += 1
                wait = exc.retry_after if exc.retry_after is not None else self._budget.window
                if throttled > MAX_THROTTLES or wait > MAX_RETRY_AFTER:
                    return _failed(customer, f"Venice refused the create with 429 {throttled} "
                                   f"time(s) (last Retry-After: {wait:g} s); nothing was "
                                   "created; run again later", throttled=throttled)
                log.info("429 for customer %s: waiting %.1f s as Venice asks", customer, wait)
            else:
                if result.status != "exists":  # a POST may have gone out: the slot is spent
                    self._slot_at = None
                result.throttled = throttled
                if result.status == "created":
                    await asyncio.shield(self._made.claim(customer))
                return result
            finally:
                await asyncio.shield(self._claims.release(customer))
            await self._sleep(wait)

    async def _take_slot(self) -> bool:
        """Hold a budget slot: the one held if it is fresh, else a new one (may wait; True)."""
        loop = asyncio.get_running_loop()
        if self._slot_at is not None and loop.time() - self._slot_at <= self._slot_reuse:
            return False
        if self._slot_at is not None:
            log.debug("a budget slot went unused (%.3f s old)", loop.time() - self._slot_at)
        self._slot_at = None
        await self._budget.acquire()
        self._slot_at = loop.time()
        return True

    def _prepared_sink(self, customer: str) -> SecretSink | ProvisionResult | None:
        """The customer's sink, prepared (a new file exists) before any slot is spent."""
        try:
            sink = self._sink_factory(customer)
            if sink is not None:
                sink.prepare()
        except VeniceKeysError as exc:
            return _failed(customer, f"{exc}; nothing was sent")
        except Exception as exc:  # a caller's factory: its message is theirs to show
            return _failed(customer, f"could not set up where the secret goes "
                           f"({type(exc).__name__}: {exc}); nothing was sent")
        return sink

    async def _finish_in_flight(self, customer: str,
                                sink: SecretSink | None) -> ProvisionResult:
        """Run the create so that a cancellation waits for it: a POST is never abandoned."""
        task = asyncio.ensure_future(self._create(customer, sink))
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                self.results.append(await task)  # what was made, for the interrupted caller
            raise

    async def _create(self, customer: str, sink: SecretSink | None) -> ProvisionResult:
        spec = self._specs[customer]

        def check(keys: list[ApiKey]) -> None:
            # Every snapshot is news about the whole list: keys other processes made since
            # the first list call spare this run their creates (and their budget slots).
            self._existing.update(self._index(keys))
            for key in keys:  # newest first
                if key.description == spec.description:
                    raise _SnapshotHasKey(key)

        try:
            new = await create_key(self._client, spec, sink=sink, sink_prepared=True,
                                   settle_delays=self._settle_delays, check_snapshot=check)
        except _SnapshotHasKey as found:
            return _exists(customer, found.key)
        except ActiveKeyLimitError:
            self._cap_refused = (
                f"not created: Venice refused a create because the account reached "
                f"{MAX_ACTIVE_KEYS} active keys (other clients made keys during this run). "
                "Revoke keys you no longer use, then run again: customers that have a key "
                "are skipped.")
            return _failed(customer, self._cap_refused)
        except (RateLimitError, AuthenticationError, PermissionDeniedError,
                CredentialsRequiredError, BudgetError):
            raise  # a 429 is retried; the others would fail every customer the same way
        except VeniceKeysError as exc:
            return _failed(customer, str(exc))
        return ProvisionResult(customer, "created", key_id=new.id, last6=new.last6,
                               sink=new.sink, new_key=new)
