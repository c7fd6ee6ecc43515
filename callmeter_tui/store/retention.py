"""Hourly rollups and pruning: raw executions are short-lived, hourly aggregates and spans keep history.

Executions are deleted only after their hour is rolled up (``RollupMark.rolled_until`` per probe), so
charts beyond the execution retention never have holes caused by pruning.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any, cast

import numpy as np
from sqlalchemy import CursorResult, Delete, delete, select
from sqlalchemy.orm import Session

from ..config.model import RetentionSettings
from .models import (
    Delivery,
    DeliveryAttempt,
    Execution,
    HealthSpanRow,
    MetricRollup,
    Probe,
    RollupMark,
    Transition,
)

HOUR = 3600.0
# An execution is stored when it finishes: a call started at 10:59:50 arrives after 11:00. Hours are
# rolled up only once this much time has passed after their end.
ROLLUP_GRACE_S = 300.0
_CHUNK_HOURS = 24


def hour_floor(t: float) -> float:
    return math.floor(t / HOUR) * HOUR


def _aggregate(values: list[float]) -> dict[str, float]:
    a = np.asarray(values, dtype=float)
    # p95 uses numpy's default (linear interpolation between closest ranks).
    return {
        "count": int(a.size),
        "min": float(a.min()),
        "mean": float(a.mean()),
        "max": float(a.max()),
        "p95": float(np.percentile(a, 95)),
    }


def _rollup_range(session: Session, probe_id: int, start: float, end: float) -> int:
    """Write rollup rows for hours in [start, end) of one probe; existing rows are left alone."""
    buckets: dict[tuple[float, str], list[float]] = defaultdict(list)
    rows = session.execute(
        select(Execution.started_at, Execution.metrics).where(
            Execution.probe_id == probe_id, Execution.started_at >= start, Execution.started_at < end
        )
    )
    for started_at, metrics in rows:
        h = hour_floor(started_at)
        for name, value in (metrics or {}).items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                buckets[(h, name)].append(float(value))
    if not buckets:
        return 0
    existing = {
        (h, m)
        for h, m in session.execute(
            select(MetricRollup.hour_start, MetricRollup.metric).where(
                MetricRollup.probe_id == probe_id, MetricRollup.hour_start >= start, MetricRollup.hour_start < end
            )
        )
    }
    new = [
        MetricRollup(probe_id=probe_id, hour_start=h, metric=m, **_aggregate(v))
        for (h, m), v in sorted(buckets.items())
        if (h, m) not in existing
    ]
    session.add_all(new)
    return len(new)


def rollup_hours(session: Session, now: float, grace_s: float = ROLLUP_GRACE_S) -> int:
    """Roll up every completed hour not yet rolled up, for every probe. Idempotent; does not commit.

    Returns the number of MetricRollup rows written.
    """
    until = hour_floor(now - grace_s)
    marks = {m.probe_id: m for m in session.scalars(select(RollupMark))}
    written = 0
    for probe_id in session.scalars(select(Probe.id)):
        mark = marks.get(probe_id)
        start = mark.rolled_until if mark else None
        if start is None:
            first = session.scalar(
                select(Execution.started_at)
                .where(Execution.probe_id == probe_id)
                .order_by(Execution.started_at)
                .limit(1)
            )
            if first is None:
                continue
            start = hour_floor(first)
        while start < until:
            end = min(until, start + _CHUNK_HOURS * HOUR)
            written += _rollup_range(session, probe_id, start, end)
            start = end
        if mark is None:
            session.add(RollupMark(probe_id=probe_id, rolled_until=max(start, until)))
        elif until > mark.rolled_until:
            mark.rolled_until = until
        session.flush()
    return written


def prune(session: Session, retention: RetentionSettings, now: float) -> dict[str, int]:
    """Delete what retention allows; returns row counts per table. Does not commit.

    Executions: older than ``retention.executions_s`` and already rolled up. Spans (closed ones),
    transitions, rollups, finished deliveries and delivery attempts: older than ``retention.history_s``.
    """
    exec_cutoff = hour_floor(now - retention.executions_s)
    hist_cutoff = now - retention.history_s
    counts: dict[str, int] = defaultdict(int)
    for probe_id, rolled_until in session.execute(select(RollupMark.probe_id, RollupMark.rolled_until)):
        cutoff = min(exec_cutoff, rolled_until)
        counts["executions"] += _deleted(
            session, delete(Execution).where(Execution.probe_id == probe_id, Execution.started_at < cutoff)
        )
    statements = {
        "spans": delete(HealthSpanRow).where(HealthSpanRow.ended_at < hist_cutoff, HealthSpanRow.open.is_(False)),
        "transitions": delete(Transition).where(Transition.at < hist_cutoff),
        "rollups": delete(MetricRollup).where(MetricRollup.hour_start < hour_floor(hist_cutoff)),
        "attempts": delete(DeliveryAttempt).where(DeliveryAttempt.at < hist_cutoff),
        "deliveries": delete(Delivery).where(
            Delivery.created_at < hist_cutoff, Delivery.status.in_(("succeeded", "failed"))
        ),
    }
    for name, stmt in statements.items():
        counts[name] += _deleted(session, stmt.execution_options(synchronize_session=False))
    return dict(counts)


def _deleted(session: Session, stmt: Delete) -> int:
    """Rows a DELETE removed (a DML statement's result is a CursorResult, which has the count)."""
    result = cast("CursorResult[Any]", session.execute(stmt))
    return result.rowcount or 0
