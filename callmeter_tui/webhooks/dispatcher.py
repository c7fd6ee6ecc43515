"""The webhook dispatcher: sends due outbox rows, each attempt its own task, under leases in the database.

It sleeps until the next due time (or a foreign lease expiring) and is woken early by the event bus
(DeliveriesQueued / StateChanged) and by its own finished attempts. Concurrency is bounded overall and per
webhook, so a slow or dead endpoint only ever occupies its own slots. A slot is the request itself: it is free
again when the answer is in, and the next delivery claimed ahead for it starts at once (slots.py). The loop's
database hops run beside the requests: each one records the outcomes that came in meanwhile and claims what
is due (one hand-over to the database thread per cycle: on a loaded machine each one waits for the scheduler,
and those waits, not HTTP, were what bounded deliveries per second). Several dispatchers may share one
PostgreSQL database: a delivery is only ever in flight at one of them (see ledger.py).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from ..bus.events import DeliveriesQueued, EventBus, NotificationRaised, StateChanged
from ..config.model import WebhookSettings
from ..domain.probe import WebhookFormat
from ..store.database import in_transaction
from . import ledger
from .guard import Resolver
from .ledger import Claimed, Finished, host_of
from .payloads import fill_routing_key
from .recorder import AttemptRecorder, Outcome
from .sender import Sender, SendResult, signed_headers
from .slots import Slots

log = logging.getLogger("callmeter_tui.webhooks")

IDLE_S = 60.0  # safety net for rows written by other processes that did not wake us
LEASE_MARGIN_S = 30.0  # lease = attempt timeout + this
RECLAIM_EVERY_S = 1.0  # look for expired leases at most this often (a lease is >= 30 s: a second late is nothing)
LOCAL_SHORTAGE_RETRY_S = 30.0  # after a local shortage (descriptors...) in an attempt
# A delivery claimed ahead starts only this long after its claim: its lease (timeout + LEASE_MARGIN_S) must still
# cover a whole attempt; past this it is released unsent.
CLAIMED_AHEAD_MAX_S = LEASE_MARGIN_S - 5.0
_DEFAULT = object()
T = TypeVar("T")


def default_owner() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:4]}"


class Dispatcher:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        settings: WebhookSettings,
        *,
        bus: EventBus | None = None,
        owner: str | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        ca_bundle: Any = _DEFAULT,
        max_concurrency: int = 16,
        per_webhook_concurrency: int = 2,
        resolver: Resolver | None = None,
    ) -> None:
        self.sessions = session_factory
        self.settings = settings
        self.bus = bus
        self.owner = owner or default_owner()
        self.clock = clock
        self.sleep = sleep
        self.ca_bundle = settings.ca_bundle if ca_bundle is _DEFAULT else ca_bundle
        self.max_concurrency = max(1, max_concurrency)
        self.per_webhook = max(1, per_webhook_concurrency)
        self.resolver = resolver
        self.sender: Sender | None = None
        self._tasks: dict[int, asyncio.Task[None]] = {}  # delivery id -> its attempt
        self.slots = Slots(self.max_concurrency, self.per_webhook)
        self._release: list[int] = []  # claimed ahead, never sent: back to pending in the next hop
        self._urgent = False  # new rows were committed: the next tick hops whatever it would batch
        self._wake = asyncio.Event()
        self._stopping = False
        self._reclaimed_at = float("-inf")
        self._loop_task: asyncio.Task[None] | None = None
        self._bus_task: asyncio.Task[None] | None = None
        self._queue: asyncio.Queue[Any] | None = None
        # All database work of this dispatcher runs on one thread: its writes never queue on each other for
        # SQLite's write lock, and finished attempts are recorded in batches (recorder.py).
        self._db: ThreadPoolExecutor | None = None
        self.recorder = AttemptRecorder(session_factory, self.owner, self._in_db)

    @property
    def lease_s(self) -> float:
        return self.settings.timeout_s + LEASE_MARGIN_S

    # ---- lifecycle ---------------------------------------------------------------------------------

    async def _in_db(self, work: Callable[[], T]) -> T:
        """Run ``work`` on the dispatcher's database thread."""
        if self._db is None:
            self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="webhooks-db")
        return await asyncio.get_running_loop().run_in_executor(self._db, work)

    async def unit_of_work(self, fn: Callable[[Session], T]) -> T:
        """``fn(session)`` as one transaction on the dispatcher's database thread (the store's one style)."""
        return await self._in_db(partial(in_transaction, self.sessions, fn))

    async def start(self) -> None:
        self.sender = Sender(
            ca_bundle=self.ca_bundle or None,
            allow_private=self.settings.allow_private_targets,
            per_destination=self.per_webhook,
            resolver=self.resolver,
        )
        self._stopping = False
        self._reclaimed_at = float("-inf")
        self.slots = Slots(self.max_concurrency, self.per_webhook)
        self.recorder.deferred = True  # outcomes ride along with the loop's claims (see _tick)
        n = await self.unit_of_work(partial(ledger.retry_local_failures_now, now=self.clock()))
        if n:
            log.info("%d webhook deliveries held back by a missing secret or routing key are due again", n)
        if self.bus is not None:
            self._queue = self.bus.subscribe()
            self._bus_task = asyncio.create_task(self._listen(self._queue), name="webhooks-bus")
        self._loop_task = asyncio.create_task(self._run(), name="webhooks-dispatcher")
        log.info("webhook dispatcher %s started", self.owner)

    async def stop(self, grace_s: float | None = None) -> None:
        """Stop claiming; let in-flight attempts finish (up to the attempt timeout), then close the pool."""
        self._stopping = True
        self._wake.set()
        if self._bus_task is not None:
            self._bus_task.cancel()
        for task in (self._bus_task, self._loop_task):
            if task is not None:
                try:
                    await task
                except asyncio.CancelledError:
                    pass
        if self.bus is not None and self._queue is not None:
            self.bus.unsubscribe(self._queue)
        self.recorder.release()  # no loop any more: outcomes are written on their own
        await self._release_waiting()
        pending = list(self._tasks.values())
        if pending:
            _done, still = await asyncio.wait(
                pending, timeout=self.settings.timeout_s + 1 if grace_s is None else grace_s
            )
            for t in still:  # their leases expire and another run reclaims them: nothing is lost
                t.cancel()
            await asyncio.gather(*still, return_exceptions=True)
        await self.recorder.drain()
        if self.sender is not None:
            await self.sender.aclose()
        if self._db is not None:
            self._db.shutdown(wait=False)  # queued work still runs; nothing new is submitted
            self._db = None
        self._loop_task = self._bus_task = None

    async def _release_waiting(self) -> None:
        """Deliveries claimed ahead and never started go back to pending (else they wait for their lease)."""
        ids = [*self._release, *(c.delivery_id for c in self.slots.drop_all())]
        self._release = []
        if not ids:
            return
        try:
            await self.unit_of_work(partial(ledger.release, ids=ids, owner=self.owner))
        except Exception:  # their leases expire and another run sends them: nothing is lost
            log.exception("releasing %d webhook deliveries claimed ahead failed", len(ids))

    def wake(self) -> None:
        """Look for due deliveries now (new outbox rows were committed)."""
        self._urgent = True
        self._wake.set()

    async def _listen(self, queue: asyncio.Queue[Any]) -> None:
        while True:
            event = await queue.get()
            if isinstance(event, (DeliveriesQueued, StateChanged)):
                self.wake()

    # ---- the loop ----------------------------------------------------------------------------------

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                delay = await self._tick()
            except Exception:  # a DB hiccup must not kill the dispatcher: try again shortly
                log.exception("webhook dispatcher tick failed")
                delay = 5.0
            if self._stopping:
                return
            await self._wait(delay)

    async def _tick(self) -> float | None:
        """Reclaim dead leases, claim what is due, start attempts. Returns seconds until the next timer (or None)."""
        urgent, self._urgent = self._urgent, False
        if not urgent and self._can_wait():
            return None  # a finishing request wakes us
        now = self.clock()
        slots = self.slots
        live = set(self._tasks) | slots.waiting_ids()
        busy = slots.claim_counts()
        room = slots.claim_room()
        cap = slots.claim_cap

        reclaim = now - self._reclaimed_at >= RECLAIM_EVERY_S
        if reclaim:
            self._reclaimed_at = now
        batch = self.recorder.take()
        release, self._release = self._release, []
        if not batch and not release and room <= 0 and not reclaim:
            return None  # full and nothing to record: a finishing request wakes us

        active = len(slots.sending) + len(slots.waiting)

        def claim(s: Session) -> tuple[list[Claimed], float | None]:
            counts = dict(busy)  # this may run twice (see AttemptRecorder.write_with)
            ledger.release(s, release, owner=self.owner)
            if reclaim:
                ledger.reclaim_expired(s, now=now, live=live)
            claimed = ledger.claim_due(
                s,
                owner=self.owner,
                now=now,
                lease_s=self.lease_s,
                limit=room,
                busy=counts,
                per_webhook=cap,
            )
            if active or claimed or room - len(claimed) <= 0:
                return claimed, None  # busy or full: a finishing attempt wakes us, and the next hop looks again
            return claimed, ledger.next_due(s, owner=self.owner, busy=counts, per_webhook=cap)

        outcomes = [o for o, _ in batch]
        try:
            written, claim_result = await self._in_db(partial(self.recorder.write_with, outcomes, claim))
        except BaseException as exc:  # the database thread itself failed: every attempt of the batch learns it
            self._release.extend(release)
            self.recorder.settle(batch, [exc if isinstance(exc, Exception) else RuntimeError(str(exc))] * len(batch))
            raise
        self.recorder.settle(batch, written)
        if isinstance(claim_result, Exception):
            self._release.extend(release)  # not released: the next hop tries again
            raise claim_result
        claimed, due = claim_result
        slots.add(claimed, now)
        self._start_waiting()
        if due is None:
            return None
        return max(0.0, due - now)

    def _can_wait(self) -> bool:
        """True when a hop now would be a small one for nothing: every slot is busy, a round of deliveries is
        claimed behind them, fewer outcomes than slots wait and none is a failure (failures may disable a webhook
        or hold it back: those are written at once). Bigger batches cost less CPU per delivery, and a database
        thread that holds the GIL less often delays the requests' answers less."""
        slots = self.slots
        full = slots.max_concurrency
        if self._release or len(slots.sending) < full or len(slots.waiting) < full:
            return False
        outcomes, failed = self.recorder.waiting()
        return outcomes < full and not failed

    def _start_waiting(self) -> None:
        """Start what the slots allow now; deliveries whose lease would not cover an attempt are released."""
        if self._stopping:
            return
        start, stale = self.slots.startable(self.clock(), CLAIMED_AHEAD_MAX_S)
        if stale:
            self._release.extend(c.delivery_id for c in stale)
            self._wake.set()
        for c in start:
            task = asyncio.create_task(self._attempt(c), name=f"webhook-delivery-{c.delivery_id}")
            self._tasks[c.delivery_id] = task
            task.add_done_callback(partial(self._done, c.delivery_id))

    def _done(self, delivery_id: int, _task: object = None) -> None:
        self._tasks.pop(delivery_id, None)
        self.slots.sending.pop(delivery_id, None)  # cancelled before its answer came in
        self._wake.set()

    async def _wait(self, delay: float | None) -> None:
        """Until woken, or ``delay`` seconds pass (the injected sleep: due times are on the injected clock).

        With nothing due and nothing in flight, a real-time idle timer is the safety net for rows that another
        process wrote without waking us.
        """
        if delay is not None and delay <= 0:
            await asyncio.sleep(0.005)  # due now (e.g. rows another dispatcher holds a row lock on): look again
            return
        waiter = asyncio.create_task(self._wake.wait())
        if delay is not None:
            timer: asyncio.Task[Any] | None = asyncio.create_task(self._sleep_for(delay))
        elif not self.slots.sending:
            timer = asyncio.create_task(asyncio.sleep(IDLE_S))
        else:
            timer = None  # a finishing attempt wakes us
        try:
            await asyncio.wait([t for t in (waiter, timer) if t is not None], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in (waiter, timer):
                if t is not None and not t.done():
                    t.cancel()

    async def _sleep_for(self, delay: float) -> None:
        await self.sleep(delay)

    # ---- one attempt -------------------------------------------------------------------------------

    async def _attempt(self, c: Claimed) -> None:
        at = self.clock()
        try:
            result, retry_after = await self._send(c, at)
        except Exception as exc:  # anything unexpected is a failed attempt with its reason: counted, never lost
            log.exception("webhook delivery %d: unexpected error in the attempt", c.delivery_id)
            result, retry_after = (
                SendResult(None, f"internal error: {type(exc).__name__}: {exc}"[:300], None, 0.0),
                None,
            )
        self.slots.finished(c, result.ok)  # the slot is free: the next delivery claimed ahead takes it now
        self._start_waiting()
        self._wake.set()  # the loop records this outcome and claims more
        try:
            fin: Finished | None = await self.recorder.record(Outcome(c, at, self.clock(), result, retry_after))
        except Exception:
            log.exception(
                "recording webhook delivery %d failed (its lease will expire and it is retried)", c.delivery_id
            )
            fin = None
        self.slots.recorded(c, result.ok)
        if fin is not None and fin.disabled_reason is not None:  # nothing more to it: those claimed ahead fail
            self._release.extend(d.delivery_id for d in self.slots.drop_webhook(c.webhook_id))
            self._wake.set()
        if not result.ok:
            self._start_waiting()  # its webhook was held back until this outcome was in
            self._wake.set()  # and the loop may have to time the retry (it does not while anything is in flight)
        if fin is None:
            return
        where = f"webhook #{c.webhook_id} ({host_of(c.url)}) delivery {c.key}"
        if result.ok:
            log.info("%s: HTTP %s in %.0f ms", where, result.status, result.duration_ms)
        else:
            log.warning("%s attempt %d failed: %s -> %s", where, c.attempts + 1, result.error, fin.status)
        if fin.notification is not None:
            n = fin.notification
            log.warning("%s", n.text)
            if self.bus is not None:
                self.bus.publish(NotificationRaised(n.id, n.level, n.kind, n.text, n.at))

    async def _send(self, c: Claimed, at: float) -> tuple[SendResult, float | None]:
        """One attempt: (its result, Retry-After in seconds). Local problems never reach the network."""
        body, secret, problem = self._prepare(c)
        if problem is not None:
            return SendResult(None, f"{ledger.LOCAL} {problem}", None, 0.0, local=True), None
        assert self.sender is not None and secret is not None
        headers = signed_headers(secret, int(at * 1000), body, c.key)
        result = await self.sender.post(
            c.url, headers, body, self.settings.timeout_s, destination=f"webhook-{c.webhook_id}"
        )
        if result.local:  # e.g. out of descriptors: retry soon, never counted against the endpoint
            return dataclasses.replace(result, error=f"{ledger.LOCAL} {result.error}"), LOCAL_SHORTAGE_RETRY_S
        return result, ledger.retry_after_seconds(result.retry_after, self.clock())

    def _prepare(self, c: Claimed) -> tuple[bytes, str | None, str | None]:
        """(body to send, secret, problem): secrets and the PagerDuty routing key are read now, never stored."""
        secret = c.secret
        if c.secret_env:
            secret = os.environ.get(c.secret_env)
            if not secret:
                return c.body, None, f"secret: environment variable {c.secret_env} (secret_env) is not set"
        if not secret:
            return c.body, None, "secret: the webhook has no secret (rotate it to create one)"
        body = c.body
        if c.format == WebhookFormat.PAGERDUTY.value:
            key = os.environ.get(c.routing_key_env or "") if c.routing_key_env else None
            if not key:
                name = c.routing_key_env or "(routing_key_env not set)"
                return body, None, f"routing key: environment variable {name} (routing_key_env) is not set"
            body = fill_routing_key(body, key)
        return body, secret, None
