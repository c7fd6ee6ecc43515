"""One probe run: prober -> ASR -> threshold rule -> one transaction (execution, spans, transition,
outbox) -> events. A failure of the prober itself becomes a recorded probe error, never a silent drop."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar, cast

from sqlalchemy.orm import Session

from ..bus.events import DeliveriesQueued, Event, EventBus, ExecutionRecorded, StateChanged
from ..domain.health import HealthState
from ..domain.probe import ProbeKind, ProbeSpec
from ..domain.results import ProbeResult
from ..domain.thresholds import evaluate
from ..store import queries
from ..store.database import Database, in_transaction
from ..store.executions import RecordOutcome, mark_unknown, record_execution
from ..store.models import Execution, Probe, Project, Transition
from ..webhooks.outbox import enqueue_for_transition

log = logging.getLogger("callmeter_tui.engine")
P = ParamSpec("P")
T = TypeVar("T")
MAX_BATCH = 500


class Prober(Protocol):
    async def run(self, spec: ProbeSpec, password: str | None = None) -> ProbeResult: ...


@dataclass
class RunOutcome:
    probe_id: int
    result: ProbeResult
    record: RecordOutcome
    breaches: list[dict[str, Any]]
    execution_state: HealthState
    queued: int = 0


class Runner:
    """Runs probes and persists their results. DB work runs on one writer thread (SQLite has one writer)."""

    def __init__(
        self,
        db: Database,
        bus: EventBus,
        prober: Prober,
        *,
        agent: str = "local",
        clock: Callable[[], float] = time.time,
        max_concurrency: int = 64,
        secrets: Mapping[str, str] = os.environ,
        observe: Callable[[Event], None] | None = None,
    ) -> None:
        self.secrets = secrets  # where auth.password_env is looked up
        self.observe = observe  # the Monitor's snapshot, updated where a run ends, before the views hear of it
        self.db = db
        self.bus = bus
        self.prober = prober
        self.agent = agent
        self.clock = clock
        self._sem = asyncio.Semaphore(max_concurrency)
        self._locks: dict[int, asyncio.Lock] = {}
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="callmeter-db")
        self.in_flight: set[int] = set()
        self._tasks: dict[int, asyncio.Task[Any]] = {}
        self._pending: list[tuple[int, ProbeSpec, ProbeResult, asyncio.Future[RunOutcome]]] = []
        self._flushing = False
        self._flusher: asyncio.Task[None] | None = None
        self._refusing = False  # set by cancel_in_flight: shutdown has begun, no new run starts

    async def db_call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.writer, fn, *args)

    async def unit_of_work(self, fn: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Off-loop database work, one style everywhere: ``fn(session, ...)`` on the writer thread inside one
        transaction (``store.database.in_transaction``): commit when ``fn`` returns, roll back when it raises."""

        def bound(s: Session) -> T:
            return fn(s, *args, **kwargs)

        return cast(T, await self.db_call(in_transaction, self.db.sessions, bound))

    def _emit(self, event: Event) -> None:
        if self.observe is not None:
            self.observe(event)
        self.bus.publish(event)

    def lock_for(self, probe_id: int) -> asyncio.Lock:
        return self._locks.setdefault(probe_id, asyncio.Lock())

    async def run(self, probe_id: int, spec: ProbeSpec) -> RunOutcome | None:
        """Run ``spec`` once unless that probe is already running (a probe never overlaps itself) or the
        runner is shutting down (see cancel_in_flight)."""
        lock = self.lock_for(probe_id)
        if lock.locked() or self._refusing:
            return None
        async with lock:
            self.in_flight.add(probe_id)
            task = asyncio.current_task()
            if task is not None:
                self._tasks[probe_id] = task
            started = self.clock()
            try:
                async with self._sem:  # bounds probing, not the database write behind it
                    result = await self._probe(spec)
                outcome = await self._write(probe_id, spec, result)
            except asyncio.CancelledError:
                await self.db_call(self._persist_interrupted, probe_id, started)
                raise
            finally:
                self.in_flight.discard(probe_id)
                self._tasks.pop(probe_id, None)
        self._publish(outcome, spec)
        return outcome

    async def _probe(self, spec: ProbeSpec) -> ProbeResult:
        started = self.clock()
        password = None
        if spec.password_env:
            password = self.secrets.get(spec.password_env)
            if password is None:
                return ProbeResult.failure(
                    started, 0.0, f"auth.password_env: environment variable {spec.password_env} is not set"
                )
        try:
            return await self.prober.run(spec, password)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # the prober must not take the engine down
            log.exception("prober failed on %r", spec.name)
            return ProbeResult.failure(
                started, (self.clock() - started) * 1000, f"prober error: {type(e).__name__}: {e}"
            )

    async def _write(self, probe_id: int, spec: ProbeSpec, result: ProbeResult) -> RunOutcome:
        """Queue one result for the writer. Results that arrive while a batch is being written go
        into the next one: one transaction per burst under load, no added wait when idle."""
        fut: asyncio.Future[RunOutcome] = asyncio.get_running_loop().create_future()
        self._pending.append((probe_id, spec, result, fut))
        if not self._flushing:
            self._flushing = True
            self._flusher = asyncio.get_running_loop().create_task(self._flush())  # kept, never dropped
        return await fut

    async def _flush(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                items = [(pid, spec, res) for pid, spec, res, _ in batch]
                try:
                    outcomes: list[RunOutcome | BaseException] = await self.db_call(self._persist_many, items)
                except Exception:
                    log.warning("batch of %d executions failed; writing them one by one", len(items), exc_info=True)
                    outcomes = await self.db_call(self._persist_each, items)
                for (_, _, _, fut), outcome in zip(batch, outcomes):
                    if fut.done():
                        continue
                    if isinstance(outcome, BaseException):
                        fut.set_exception(outcome)
                    else:
                        fut.set_result(outcome)
        finally:
            self._flushing = False

    def _persist_many(self, items: list[tuple[int, ProbeSpec, ProbeResult]]) -> list[RunOutcome]:
        with self.db.session() as s:
            return [self._persist_in(s, *item) for item in items]

    def _persist_each(self, items: list[tuple[int, ProbeSpec, ProbeResult]]) -> list[RunOutcome | BaseException]:
        out: list[RunOutcome | BaseException] = []
        for item in items:
            try:
                with self.db.session() as s:
                    out.append(self._persist_in(s, *item))
            except Exception as e:  # e.g. the probe was deleted meanwhile
                out.append(e)
        return out

    def _persist_in(self, s: Any, probe_id: int, spec: ProbeSpec, result: ProbeResult) -> RunOutcome:
        if ProbeKind(spec.kind).places_call and "call_answered" in result.details:
            asr = queries.asr_pct(
                s, probe_id, max(spec.asr_window - 1, 0), include=bool(result.details["call_answered"])
            )
            if asr is not None:
                result.metrics["asr_pct"] = asr
        evaluation = evaluate(result, spec.thresholds)
        rec = record_execution(s, probe_id, result, evaluation, agent=self.agent)
        queued = 0
        if rec.transition_id is not None:
            queued = self._enqueue(s, probe_id, rec.transition_id)
        s.flush()
        return RunOutcome(probe_id, result, rec, evaluation.breaches, evaluation.state, queued)

    def _persist_interrupted(self, probe_id: int, started: float) -> None:
        """Shutdown cut a run short: keep a trace of it, without judging the target (no state change)."""
        with self.db.session() as s:
            s.add(
                Execution(
                    probe_id=probe_id,
                    started_at=started,
                    duration_ms=(self.clock() - started) * 1000,
                    state="UNKNOWN",
                    ok=False,
                    error="interrupted: monitor shutting down",
                    agent=self.agent,
                )
            )

    def _enqueue(self, s: Any, probe_id: int, transition_id: int) -> int:
        probe = s.get(Probe, probe_id)
        transition = s.get(Transition, transition_id)
        project = s.get(Project, probe.project_id)
        return enqueue_for_transition(s, transition, probe, project, self.clock())

    def _publish(self, o: RunOutcome, spec: ProbeSpec) -> None:
        r = o.result
        self._emit(
            ExecutionRecorded(
                probe_id=o.probe_id,
                probe_name=spec.name,
                execution_id=o.record.execution_id,
                at=r.started_at,
                state=o.record.state,
                execution_state=o.execution_state,
                metrics=dict(r.metrics),
                breaches=list(o.breaches),
                error=r.error,
                sip_code=r.sip_code,
                duration_ms=r.duration_ms,
            )
        )
        if o.record.changed and o.record.transition_id is not None:
            log.info("%r: %s -> %s", spec.name, o.record.previous_state.value, o.record.state.value)
            self._emit(
                StateChanged(
                    o.probe_id,
                    spec.name,
                    o.record.previous_state,
                    o.record.state,
                    o.record.changed_at if o.record.changed_at is not None else r.started_at,
                    o.record.transition_id,
                    o.record.execution_id,
                )
            )
        if o.queued:
            self._emit(DeliveriesQueued(o.queued))

    async def to_unknown(self, probe_id: int, name: str, reason: str) -> bool:
        """Mark a probe UNKNOWN (stale, added, target changed) with its transition and outbox rows."""

        def mark(s: Session) -> tuple[RecordOutcome | None, int]:
            rec = mark_unknown(s, probe_id, self.clock(), reason)
            queued = self._enqueue(s, probe_id, rec.transition_id) if rec and rec.transition_id else 0
            return rec, queued

        rec, queued = await self.unit_of_work(mark)
        if rec is None or rec.transition_id is None:
            return False
        log.info("%r: %s -> UNKNOWN (%s)", name, rec.previous_state.value, reason)
        self._emit(
            StateChanged(
                probe_id,
                name,
                rec.previous_state,
                HealthState.UNKNOWN,
                rec.changed_at if rec.changed_at is not None else self.clock(),
                rec.transition_id,
                None,
            )
        )
        if queued:
            self._emit(DeliveriesQueued(queued))
        return True

    async def cancel_in_flight(self) -> None:
        """Cancel runs still going (shutdown grace over); each records itself as interrupted. From here on
        no run starts: a job handed to the loop just before shutdown, or a "run now", would otherwise begin
        a probe after this, outlive the writer and find it closed when the prober stops under it."""
        self._refusing = True
        tasks = [t for t in self._tasks.values() if not t.done()]
        for t in tasks:
            if not t.cancelling():  # one already cancelled is recording itself: let it
                t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def drain(self) -> None:
        """Let results already queued reach the database (before ``close``: the writer takes no work after)."""
        while self._flusher is not None and not self._flusher.done():
            await asyncio.gather(self._flusher, return_exceptions=True)

    def close(self) -> None:
        self.writer.shutdown(wait=True)
