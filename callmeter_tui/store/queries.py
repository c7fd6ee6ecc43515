"""Read side of the store: spans for uptime bars, recent executions, series for charts, ASR."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..domain.packed_spans import ComponentSpans
from ..domain.spans import HealthSpan
from .models import Execution, MetricRollup, Probe, RollupMark, Transition
from .retention import HOUR, hour_floor
from .span_arrays import load_span_arrays


def load_spans(session: Session, probe_ids: Iterable[int], since: float, until: float) -> dict[int, list[HealthSpan]]:
    """Spans overlapping [since, until), clipped to it, oldest first; every asked id is a key."""
    ids = list(probe_ids)
    packed = load_span_arrays(session, ids, since, until)
    return {pid: list(ComponentSpans(packed, i)) for i, pid in enumerate(ids)}


def latest_executions(session: Session, probe_id: int, limit: int = 50) -> list[Execution]:
    """Newest first."""
    return list(
        session.scalars(
            select(Execution)
            .where(Execution.probe_id == probe_id)
            .order_by(Execution.started_at.desc(), Execution.id.desc())
            .limit(limit)
        )
    )


def _recent(session: Session, probe_id: int, n: int, column):  # type: ignore[no-untyped-def]
    """``column`` of the probe's last ``n`` executions, newest first.

    One indexed LIMIT query per probe: a window function over all kept executions would sort
    millions of rows (200 probes x 30 days) just to keep a few.
    """
    if n <= 0:
        return []
    return list(
        session.scalars(
            select(column)
            .where(Execution.probe_id == probe_id)
            .order_by(Execution.started_at.desc(), Execution.id.desc())
            .limit(n)
        )
    )


def recent_metric_values(
    session: Session, probe_ids: Iterable[int], metric: str = "mos", n: int = 30
) -> dict[int, list[float]]:
    """Values of ``metric`` in each probe's last ``n`` executions that measured it, oldest first."""
    ids = list(probe_ids)
    out: dict[int, list[float]] = {pid: [] for pid in ids}
    if not ids:
        return out
    for pid in ids:
        for metrics in reversed(_recent(session, pid, n, Execution.metrics)):
            value = (metrics or {}).get(metric)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                out[pid].append(float(value))
    return out


def transitions(session: Session, probe_id: int, limit: int = 50) -> list[Transition]:
    """Newest first."""
    return list(
        session.scalars(
            select(Transition)
            .where(Transition.probe_id == probe_id)
            .order_by(Transition.at.desc(), Transition.id.desc())
            .limit(limit)
        )
    )


def recent_transitions(session: Session, limit: int) -> list[tuple[Transition, str]]:
    """The newest ``limit`` transitions of every probe, with the probe's name; newest first."""
    rows = session.execute(
        select(Transition, Probe.name)
        .join(Probe, Probe.id == Transition.probe_id)
        .order_by(Transition.at.desc(), Transition.id.desc())
        .limit(limit)
    )
    return [(t, name) for t, name in rows]


def chart_series(
    session: Session, probe_id: int, metrics: Iterable[str], since: float, until: float, *, hourly: bool
) -> tuple[dict[str, list[tuple[float, float]]], float]:
    """Points of several metrics in [since, until), oldest first, in one pass; and where hourly means end.

    Hourly means (placed mid-hour) cover the hours before the oldest kept execution, and with ``hourly``
    every hour already rolled up, so a 30-day chart reads ~720 rollup rows a metric instead of every run;
    single runs at their start time follow. Returns ({metric: points}, time before which points are means).
    """
    names = list(metrics)
    out: dict[str, list[tuple[float, float]]] = {m: [] for m in names}
    oldest = session.scalar(select(func.min(Execution.started_at)).where(Execution.probe_id == probe_id))
    rolled = session.scalar(select(RollupMark.rolled_until).where(RollupMark.probe_id == probe_id))
    means_until = until if oldest is None else hour_floor(oldest)
    if hourly and rolled is not None:
        means_until = max(means_until, rolled)
    means_until = min(means_until, until)
    for metric, hour, mean in session.execute(
        select(MetricRollup.metric, MetricRollup.hour_start, MetricRollup.mean)
        .where(
            MetricRollup.probe_id == probe_id,
            MetricRollup.metric.in_(names),
            MetricRollup.hour_start >= since,
            MetricRollup.hour_start < means_until,
        )
        .order_by(MetricRollup.hour_start)
    ):
        out[metric].append((min(float(hour) + HOUR / 2, until), float(mean)))
    if oldest is not None:
        for t, values in session.execute(
            select(Execution.started_at, Execution.metrics)
            .where(
                Execution.probe_id == probe_id,
                Execution.started_at >= max(since, means_until),
                Execution.started_at < until,
            )
            .order_by(Execution.started_at)
        ):
            for name, value in (values or {}).items():
                if name in out and isinstance(value, (int, float)) and not isinstance(value, bool):
                    out[name].append((float(t), float(value)))
    return out, means_until


def asr_pct(session: Session, probe_id: int, window: int, include: bool | None = None) -> float | None:
    """Answered / attempted calls over the last ``window`` executions, in percent; None with no attempts.

    An attempt is an execution whose ``details`` has a boolean ``call_answered``. ``include`` adds one
    more attempt (the run being recorded, not stored yet): the engine passes ``asr_window - 1`` with it.
    """
    attempted = answered = 0
    if include is not None:
        attempted, answered = 1, int(bool(include))
    for details in _recent(session, probe_id, window, Execution.details):
        value = (details or {}).get("call_answered")
        if isinstance(value, bool):
            attempted += 1
            answered += value
    return None if attempted == 0 else 100.0 * answered / attempted


def probe_by_name(session: Session, name: str) -> Probe | None:
    return session.scalars(select(Probe).where(Probe.name == name)).first()


def all_probes(session: Session, agent: str | None = None) -> list[Probe]:
    """Ordered as the dashboard lists them (position, then id); only ``agent``'s probes when given."""
    stmt = select(Probe).order_by(Probe.position, Probe.id)
    if agent is not None:
        stmt = stmt.where(Probe.agent == agent)
    return list(session.scalars(stmt))
