"""Storing one probe run: the execution row, the confirm-N rule, the health-span timeline, transitions.

Nothing here commits: the engine writes webhook outbox rows in the same transaction and commits, so a
transition and its notifications are stored together or not at all.

Span rules (``load_spans`` in queries.py reads them back the same way):
- the open span's ``ended_at`` is the time of its latest evidence (execution or mark);
- the same confirmed state extends it; a new state closes it at the execution time and opens another;
- evidence more than ``NO_DATA_INTERVALS`` x interval after the open span's end is a gap: the open span
  is closed one interval after its end and the next span starts at the new execution (no data between);
- a late result (older than the open span's end: two writers, or a run that outlasted a newer one) that
  changes the state switches at the open span's end, not back at its own time: evidence already recorded
  is never cut off, so the open span's end stays the newest evidence and the gap rule sees only real
  silence. The transition's ``at`` and ``state_since`` are that switch time, so transitions stay in
  time order with their spans: one transition per span, except a span opened after a gap.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..domain.confirm import apply_confirm
from ..domain.defaults import NO_DATA_INTERVALS
from ..domain.health import HealthState
from ..domain.results import Evaluation, ProbeResult
from .models import Execution, HealthSpanRow, Probe, Transition


@dataclass
class RecordOutcome:
    """What recording did. ``execution_id`` is None for ``mark_unknown`` (no execution)."""

    execution_id: int | None
    state: HealthState
    previous_state: HealthState
    changed: bool
    transition_id: int | None
    changed_at: float | None = None  # the transition's time (a late result's is the open span's end)


def lock_probe(session: Session, probe_id: int) -> Probe:
    """The probe row, locked for this transaction so two writers never interleave for one probe.

    PostgreSQL: SELECT ... FOR UPDATE. SQLite has no row locks: a no-op UPDATE takes the database's
    write lock up front (waiting on busy_timeout) instead of failing later on a stale read snapshot.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            update(Probe)
            .where(Probe.id == probe_id)
            .values(pending_count=Probe.pending_count)
            .execution_options(synchronize_session=False)
        )
        stmt = select(Probe).where(Probe.id == probe_id)
    else:
        stmt = select(Probe).where(Probe.id == probe_id).with_for_update()
    probe = session.execute(stmt.execution_options(populate_existing=True)).scalar_one_or_none()
    if probe is None:
        raise LookupError(f"probe {probe_id} does not exist")
    return probe


def open_span(session: Session, probe_id: int) -> HealthSpanRow | None:
    return session.scalars(
        select(HealthSpanRow)
        .where(HealthSpanRow.probe_id == probe_id, HealthSpanRow.open.is_(True))
        .order_by(HealthSpanRow.started_at.desc())
        .limit(1)
    ).first()


def _close_stale(span: HealthSpanRow | None, interval_s: float, at: float) -> tuple[HealthSpanRow | None, bool]:
    """Apply the gap rule before new evidence at ``at``; returns (span still open or None, gap found)."""
    if span is None or at - span.ended_at <= NO_DATA_INTERVALS * interval_s:
        return span, False
    span.ended_at = span.ended_at + interval_s
    span.open = False
    return None, True


def _switch_span(session: Session, probe_id: int, span: HealthSpanRow | None, state: HealthState, at: float) -> float:
    """Close ``span`` at ``at`` and open a span in ``state`` from there; returns that switch time.

    A late ``at`` (before the open span's end) switches at the span's end instead: cutting the span back
    would drop evidence it already holds, and the next result would then look like a gap (no data).
    """
    start = at if span is None else max(at, span.ended_at)
    if span is not None:
        span.ended_at = start
        span.open = False
    session.add(HealthSpanRow(probe_id=probe_id, state=state.value, started_at=start, ended_at=start, open=True))
    return start


def record_execution(
    session: Session, probe_id: int, result: ProbeResult, evaluation: Evaluation, agent: str = "local"
) -> RecordOutcome:
    """Insert the execution and move the probe's confirmed state, spans and transitions. No commit."""
    probe = lock_probe(session, probe_id)
    t = float(result.started_at)
    execution = Execution(
        probe_id=probe_id,
        started_at=t,
        duration_ms=float(result.duration_ms),
        state=evaluation.state.value,
        ok=bool(result.ok),
        sip_code=result.sip_code,
        sip_reason=(result.sip_reason or "")[:200],
        error=result.error,
        metrics=dict(result.metrics),
        breaches=list(evaluation.breaches),
        details=dict(result.details),
        agent=agent,
        sip_trace=result.trace,
    )
    session.add(execution)
    session.flush()

    previous = HealthState.parse(probe.state or "UNKNOWN")
    pending = HealthState.parse(probe.pending_state) if probe.pending_state else None
    confirmed = apply_confirm(previous, pending, probe.pending_count or 0, evaluation.state, max(1, probe.confirm))
    probe.pending_state = confirmed.pending.value if confirmed.pending is not None else None
    probe.pending_count = confirmed.pending_count

    span, _gap = _close_stale(open_span(session, probe_id), probe.interval_s, t)
    transition_id, changed_at = None, None
    if confirmed.changed:
        since = changed_at = _switch_span(session, probe_id, span, confirmed.state, t)
        tr = Transition(
            probe_id=probe_id,
            at=since,
            previous_state=previous.value,
            current_state=confirmed.state.value,
            execution_id=execution.id,
            metrics=dict(result.metrics),
            breaches=list(evaluation.breaches),
        )
        session.add(tr)
        session.flush()
        transition_id = tr.id
        probe.state = confirmed.state.value
        probe.state_since = since
    elif span is None or span.state != confirmed.state.value:
        # No open span (first record, after a gap, or history pruned): start one without a transition.
        since = _switch_span(session, probe_id, span, confirmed.state, t)
        if probe.state_since is None:
            probe.state_since = since
    else:
        span.ended_at = max(span.ended_at, t)

    if probe.last_execution_at is None or t >= probe.last_execution_at:
        probe.last_execution_at = t
        probe.last_execution_id = execution.id
    session.flush()
    return RecordOutcome(
        execution_id=execution.id,
        state=confirmed.state,
        previous_state=previous,
        changed=confirmed.changed,
        transition_id=transition_id,
        changed_at=changed_at,
    )


def mark_unknown(session: Session, probe_id: int, at: float, reason: str) -> RecordOutcome | None:
    """Stale, newly added or retargeted probe: confirmed state -> UNKNOWN with a transition and an
    UNKNOWN span from ``at``. None when it is already UNKNOWN. No commit."""
    probe = lock_probe(session, probe_id)
    previous = HealthState.parse(probe.state or "UNKNOWN")
    if previous is HealthState.UNKNOWN:
        return None
    span, _gap = _close_stale(open_span(session, probe_id), probe.interval_s, at)
    since = _switch_span(session, probe_id, span, HealthState.UNKNOWN, at)
    tr = Transition(
        probe_id=probe_id,
        at=since,
        previous_state=previous.value,
        current_state=HealthState.UNKNOWN.value,
        execution_id=None,
        metrics={},
        breaches=[],
        reason=reason,
    )
    session.add(tr)
    probe.state = HealthState.UNKNOWN.value
    probe.state_since = since
    probe.pending_state = None
    probe.pending_count = 0
    session.flush()
    return RecordOutcome(
        execution_id=None,
        state=HealthState.UNKNOWN,
        previous_state=previous,
        changed=True,
        transition_id=tr.id,
        changed_at=since,
    )
