"""Recording executions: confirm-N, health spans (extend / close / gap = no data), transitions, UNKNOWN marks.

Runs against real SQLite and PostgreSQL databases.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from callmeter_tui.domain.health import HealthState
from callmeter_tui.store.executions import mark_unknown, record_execution
from callmeter_tui.store.models import Execution, HealthSpanRow, Probe, Transition

from .conftest import T0, add_probe, assert_timeline, result

H, D, U = HealthState.HEALTHY, HealthState.DEGRADED, HealthState.UNHEALTHY


def record(session, pid: int, at: float, state: HealthState = H, **metrics: float):  # type: ignore[no-untyped-def]
    r, ev = result(at, state, metrics)
    return record_execution(session, pid, r, ev)


def spans(session, pid: int) -> list[tuple[str, float, float, bool]]:  # type: ignore[no-untyped-def]
    rows = session.scalars(select(HealthSpanRow).where(HealthSpanRow.probe_id == pid).order_by(HealthSpanRow.id))
    return [(s.state, s.started_at - T0, s.ended_at - T0, s.open) for s in rows]


def transitions(session, pid: int) -> list[Transition]:  # type: ignore[no-untyped-def]
    return list(session.scalars(select(Transition).where(Transition.probe_id == pid).order_by(Transition.id)))


def test_first_result_leaves_unknown_at_once_and_same_state_extends(session) -> None:  # type: ignore[no-untyped-def]
    pid = add_probe(session, confirm=3)
    first = record(session, pid, T0, mos=4.3)
    assert (first.previous_state, first.state, first.changed) == (HealthState.UNKNOWN, H, True)
    tr = session.get(Transition, first.transition_id)
    assert (tr.at, tr.previous_state, tr.current_state, tr.execution_id) == (
        T0,
        "UNKNOWN",
        "HEALTHY",
        first.execution_id,
    )
    assert tr.metrics == {"mos": 4.3}
    second = record(session, pid, T0 + 60)
    third = record(session, pid, T0 + 120)
    assert (second.changed, second.transition_id, third.changed) == (False, None, False)
    assert spans(session, pid) == [("HEALTHY", 0, 120, True)]
    probe = session.get(Probe, pid)
    assert (probe.state, probe.state_since, probe.last_execution_at, probe.last_execution_id) == (
        "HEALTHY",
        T0,
        T0 + 120,
        third.execution_id,
    )
    assert session.get(Execution, third.execution_id).state == "HEALTHY"


def test_new_state_closes_span_and_records_transition(session) -> None:  # type: ignore[no-untyped-def]
    pid = add_probe(session)
    record(session, pid, T0)
    record(session, pid, T0 + 60)
    out = record(session, pid, T0 + 120, D, rtt_ms=350.0)
    assert (out.previous_state, out.state, out.changed) == (H, D, True)
    assert spans(session, pid) == [("HEALTHY", 0, 120, False), ("DEGRADED", 120, 120, True)]
    tr = transitions(session, pid)[-1]
    assert (tr.previous_state, tr.current_state, tr.at, tr.execution_id) == (
        "HEALTHY",
        "DEGRADED",
        T0 + 120,
        out.execution_id,
    )
    assert tr.metrics == {"rtt_ms": 350.0} and tr.breaches == [{"metric": "rtt_ms", "level": "warning"}]
    assert session.get(Probe, pid).state_since == T0 + 120


def test_confirm_n_needs_consecutive_observations(session) -> None:  # type: ignore[no-untyped-def]
    pid = add_probe(session, confirm=3)
    record(session, pid, T0)
    outcomes = [record(session, pid, T0 + 60 * i, s) for i, s in enumerate((U, U, H, U, U), start=1)]
    assert [o.state for o in outcomes] == [H] * 5 and not any(o.changed for o in outcomes)
    assert session.get(Probe, pid).pending_count == 2
    assert [e.state for e in session.scalars(select(Execution).order_by(Execution.id))][-2:] == ["UNHEALTHY"] * 2
    third = record(session, pid, T0 + 360, U)
    assert (third.changed, third.previous_state, third.state) == (True, H, U)
    assert spans(session, pid) == [("HEALTHY", 0, 360, False), ("UNHEALTHY", 360, 360, True)]
    assert [(t.previous_state, t.current_state) for t in transitions(session, pid)] == [
        ("UNKNOWN", "HEALTHY"),
        ("HEALTHY", "UNHEALTHY"),
    ]


def test_gap_longer_than_three_intervals_is_no_data(session) -> None:  # type: ignore[no-untyped-def]
    pid = add_probe(session, interval_s=60.0)
    record(session, pid, T0)
    record(session, pid, T0 + 180)  # exactly 3 intervals: still continuous
    assert spans(session, pid) == [("HEALTHY", 0, 180, True)]
    out = record(session, pid, T0 + 180 + 181)  # just over 3 intervals: a gap
    assert not out.changed and out.transition_id is None
    assert spans(session, pid) == [("HEALTHY", 0, 240, False), ("HEALTHY", 361, 361, True)]
    out = record(session, pid, T0 + 361 + 1000, U)  # a gap and a change at once
    assert out.changed
    assert spans(session, pid)[-2:] == [("HEALTHY", 361, 421, False), ("UNHEALTHY", 1361, 1361, True)]
    assert len(transitions(session, pid)) == 2


def test_mark_unknown_then_first_result_changes_at_once(session) -> None:  # type: ignore[no-untyped-def]
    pid = add_probe(session, confirm=3)
    assert mark_unknown(session, pid, T0, "probe added") is None  # a new probe is already UNKNOWN
    record(session, pid, T0 + 10)
    record(session, pid, T0 + 70, U)  # pending 1 of 3
    out = mark_unknown(session, pid, T0 + 100, "target changed")
    assert out is not None and (out.previous_state, out.state, out.changed, out.execution_id) == (
        H,
        HealthState.UNKNOWN,
        True,
        None,
    )
    tr = session.get(Transition, out.transition_id)
    assert (tr.previous_state, tr.current_state, tr.at, tr.reason) == ("HEALTHY", "UNKNOWN", T0 + 100, "target changed")
    probe = session.get(Probe, pid)
    assert (probe.state, probe.state_since, probe.pending_state, probe.pending_count) == ("UNKNOWN", T0 + 100, None, 0)
    assert spans(session, pid) == [("HEALTHY", 10, 100, False), ("UNKNOWN", 100, 100, True)]
    assert mark_unknown(session, pid, T0 + 130, "stale") is None
    back = record(session, pid, T0 + 150, D)  # from UNKNOWN: no confirmation needed
    assert (back.changed, back.previous_state, back.state) == (True, HealthState.UNKNOWN, D)
    assert spans(session, pid)[-2:] == [("UNKNOWN", 100, 150, False), ("DEGRADED", 150, 150, True)]


def test_mark_unknown_on_a_stale_probe_leaves_the_silence_uncovered(session) -> None:  # type: ignore[no-untyped-def]
    pid = add_probe(session, interval_s=60.0)
    record(session, pid, T0)
    mark_unknown(session, pid, T0 + 600, "stale: no result for 10m")
    assert spans(session, pid) == [("HEALTHY", 0, 60, False), ("UNKNOWN", 600, 600, True)]


def test_late_result_switches_at_the_newest_evidence(session) -> None:  # type: ignore[no-untyped-def]
    pid = add_probe(session, interval_s=60.0)
    for at in (0, 60, 120):
        record(session, pid, T0 + at)
    late = record(session, pid, T0 + 30, U)  # started before the last run, recorded after it (another writer)
    assert (late.changed, late.previous_state, late.state) == (True, H, U)
    assert spans(session, pid) == [("HEALTHY", 0, 120, False), ("UNHEALTHY", 120, 120, True)]
    tr = session.get(Transition, late.transition_id)
    assert (tr.at, tr.execution_id, late.changed_at) == (
        T0 + 120,
        late.execution_id,
        T0 + 120,
    )  # what the engine announces
    probe = session.get(Probe, pid)
    assert (probe.state_since, probe.last_execution_at) == (T0 + 120, T0 + 120)
    record(session, pid, T0 + 240, U)  # 120 s after the newest evidence: no gap, no span without a transition
    assert spans(session, pid) == [("HEALTHY", 0, 120, False), ("UNHEALTHY", 120, 240, True)]
    assert_timeline(session, pid, T0 + 240)


def test_uncommitted_record_holds_the_probe_lock(db_url: str, database) -> None:  # type: ignore[no-untyped-def]
    with database.session() as s:
        pid = add_probe(s)
    holder = database.sessions()
    try:
        record(holder, pid, T0)  # not committed: the engine adds outbox rows first
        with database.engine.connect() as other:
            if database.dialect == "postgresql":
                other.exec_driver_sql("SET lock_timeout = '100ms'")
                with pytest.raises(OperationalError, match="lock"):
                    other.execute(text("SELECT id FROM probe WHERE id = :i FOR UPDATE NOWAIT"), {"i": pid})
            else:
                other.exec_driver_sql("PRAGMA busy_timeout = 0")
                try:
                    with pytest.raises(OperationalError, match="locked"):
                        other.exec_driver_sql("BEGIN IMMEDIATE")
                finally:
                    other.exec_driver_sql("PRAGMA busy_timeout = 30000")
            other.rollback()
    finally:
        holder.rollback()
        holder.close()


def test_two_writers_on_one_probe_never_interleave(database) -> None:  # type: ignore[no-untyped-def]
    with database.session() as s:
        pid = add_probe(s, interval_s=60.0)
    errors: list[BaseException] = []

    def writer(offset: float) -> None:
        try:
            for i in range(15):
                with database.session() as s:
                    record(s, pid, T0 + offset + 60 * i, U if i % 5 == 4 else H)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(off,)) for off in (0.0, 30.0)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    with database.session() as s:
        assert s.scalar(select(text("count(*)")).select_from(Execution)) == 30
        assert_timeline(s, pid, T0 + 30 + 60 * 14)  # any order of the two writers: no silence, so no gap
