"""Hourly rollups and pruning, against real SQLite and PostgreSQL."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import func, select

from callmeter_tui.config.model import RetentionSettings
from callmeter_tui.store.models import (
    Delivery,
    DeliveryAttempt,
    Execution,
    HealthSpanRow,
    MetricRollup,
    Transition,
    Webhook,
)
from callmeter_tui.store.queries import chart_series
from callmeter_tui.store.retention import hour_floor, prune, rollup_hours

from .conftest import T0, add_probe

H = hour_floor(T0)
DAY = 86400.0


def add_exec(session, probe_id: int, at: float, **metrics: float) -> None:  # type: ignore[no-untyped-def]
    session.add(Execution(probe_id=probe_id, started_at=at, state="HEALTHY", ok=True, metrics=metrics))


def test_rollup_aggregates_completed_hours_once(session) -> None:  # type: ignore[no-untyped-def]
    pid = add_probe(session)
    values = list(range(1, 21))
    random.Random(7).shuffle(values)
    for i, v in enumerate(values):
        add_exec(session, pid, H + 60 * i + 1, mos=float(v), rtt_ms=10.0)
    add_exec(session, pid, H + 3600 + 5, mos=1.0)  # next hour: not complete yet
    session.flush()

    assert rollup_hours(session, now=H + 3600 + 200) == 0  # hour ended, but still within the grace period
    assert rollup_hours(session, now=H + 3600 + 400) == 2
    rows = {r.metric: r for r in session.scalars(select(MetricRollup).where(MetricRollup.probe_id == pid))}
    mos = rows["mos"]
    assert (mos.hour_start, mos.count, mos.min, mos.max, mos.mean) == (H, 20, 1.0, 20.0, 10.5)
    assert mos.p95 == pytest.approx(19.05)  # linear interpolation between ranks 19 and 20
    assert (rows["rtt_ms"].count, rows["rtt_ms"].p95) == (20, 10.0)

    assert rollup_hours(session, now=H + 3600 + 400) == 0  # idempotent
    assert rollup_hours(session, now=H + 7200 + 400) == 1  # the next hour, once complete
    assert session.scalar(select(func.count()).select_from(MetricRollup)) == 3


def test_executions_pruned_only_after_rollup_and_series_spans_both(session) -> None:  # type: ignore[no-untyped-def]
    pid = add_probe(session)
    now = H + 40 * DAY
    for day in range(40):
        for minute in (0, 30):
            add_exec(session, pid, H + day * DAY + minute * 60, mos=4.0 + day / 100)
    session.flush()
    retention = RetentionSettings(executions_s=30 * DAY, history_s=400 * DAY)

    assert prune(session, retention, now).get("executions", 0) == 0  # nothing rolled up yet: nothing goes
    rollup_hours(session, now)
    counts = prune(session, retention, now)
    assert counts["executions"] == 2 * 10  # days 0..9 are older than 30 days
    kept = session.scalars(select(Execution.started_at).where(Execution.probe_id == pid)).all()
    assert min(kept) == H + 10 * DAY and len(kept) == 60

    series = chart_series(session, pid, ["mos"], since=H, until=now, hourly=False)[0]["mos"]
    assert len(series) == 10 + 60  # 10 hourly means (mid-hour), then raw points
    assert series[0] == (H + 1800, pytest.approx(4.0)) and series[9] == (H + 9 * DAY + 1800, pytest.approx(4.09))
    assert series[10] == (H + 10 * DAY, pytest.approx(4.10))
    assert [t for t, _ in series] == sorted(t for t, _ in series)


def test_history_pruning_keeps_open_spans_and_pending_deliveries(session) -> None:  # type: ignore[no-untyped-def]
    pid = add_probe(session)
    now = H + 500 * DAY
    old, recent = H, now - DAY
    session.add_all(
        [
            HealthSpanRow(probe_id=pid, state="HEALTHY", started_at=old, ended_at=old + 60, open=False),
            HealthSpanRow(probe_id=pid, state="DEGRADED", started_at=old + 60, ended_at=old + 120, open=True),
            HealthSpanRow(probe_id=pid, state="HEALTHY", started_at=recent, ended_at=recent + 60, open=False),
            Transition(probe_id=pid, at=old, previous_state="UNKNOWN", current_state="HEALTHY"),
            Transition(probe_id=pid, at=recent, previous_state="HEALTHY", current_state="DEGRADED"),
        ]
    )
    hook = Webhook(probe_id=pid, url="https://h.example/x", created_at=old)
    session.add(hook)
    session.flush()
    done = Delivery(
        webhook_id=hook.id, key="k-done", body=b"{}", status="succeeded", next_attempt_at=old, created_at=old
    )
    waiting = Delivery(
        webhook_id=hook.id, key="k-wait", body=b"{}", status="pending", next_attempt_at=old, created_at=old
    )
    session.add_all([done, waiting])
    session.flush()
    session.add(DeliveryAttempt(delivery_id=done.id, webhook_id=hook.id, at=old, success=True))
    session.flush()

    counts = prune(session, RetentionSettings(history_s=400 * DAY), now)
    assert (counts["spans"], counts["transitions"], counts["deliveries"], counts["attempts"]) == (1, 1, 1, 1)
    assert session.scalars(select(HealthSpanRow.state).order_by(HealthSpanRow.started_at)).all() == [
        "DEGRADED",
        "HEALTHY",
    ]
    assert session.scalars(select(Transition.at)).all() == [recent]
    assert session.scalars(select(Delivery.key)).all() == ["k-wait"]
