"""Property tests: any sequence of results, gaps and UNKNOWN marks keeps the span timeline consistent, and so
does any order in which two writers' results for one probe reach the store.

Real SQLite file (one database for all examples, a new probe per example).
"""

from __future__ import annotations

import itertools
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from callmeter_tui.domain.confirm import apply_confirm
from callmeter_tui.domain.health import HealthState
from callmeter_tui.store.database import open_database
from callmeter_tui.store.executions import mark_unknown, record_execution
from callmeter_tui.store.models import Probe, Transition

from .conftest import T0, add_probe, assert_timeline, result, span_rows

STATES = [HealthState.HEALTHY, HealthState.DEGRADED, HealthState.UNHEALTHY]
EVENT = st.tuples(st.sampled_from([30.0, 60.0, 60.0, 61.0, 180.0, 181.0, 900.0]), st.sampled_from([*STATES, "mark"]))


def test_span_timeline_invariants(tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    db = open_database(f"sqlite:///{Path(tmp_path_factory.mktemp('prop')) / 'p.db'}")
    counter = iter(range(10**6))

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(confirm=st.integers(1, 3), events=st.lists(EVENT, min_size=1, max_size=25))
    def check(confirm: int, events: list[tuple[float, object]]) -> None:
        with db.session() as s:
            pid = add_probe(s, f"p{next(counter)}", interval_s=60.0, confirm=confirm)
            t = T0
            state, pending, count = HealthState.UNKNOWN, None, 0
            changes, seen, evidence = 0, [], []
            for dt, what in events:
                t += dt
                if what == "mark":
                    out = mark_unknown(s, pid, t, "test")
                    assert (out is None) == (state is HealthState.UNKNOWN)
                    if out is not None:
                        state, pending, count, changes = HealthState.UNKNOWN, None, 0, changes + 1
                        evidence.append(t)
                    continue
                r, ev = result(t, what)
                out = record_execution(s, pid, r, ev)
                expected = apply_confirm(state, pending, count, what, confirm)
                state, pending, count = expected.state, expected.pending, expected.pending_count
                changes += expected.changed
                assert (out.state, out.changed) == (state, expected.changed)
                seen.append((t, state))
                evidence.append(t)

            spans = span_rows(s, pid)
            probe = s.get(Probe, pid)
            assert probe.state == state.value
            if spans:
                assert [x.open for x in spans] == [False] * (len(spans) - 1) + [True]
                assert spans[-1].state == probe.state
            for a, b in itertools.pairwise(spans):
                assert a.started_at <= a.ended_at <= b.started_at
            for at, st_after in seen:  # every result lies inside a span of the state it confirmed
                assert any(x.started_at <= at <= x.ended_at and x.state == st_after.value for x in spans)
            for a, b in itertools.pairwise(evidence):  # silence over 3 intervals: no data after one interval
                if b - a > 180.0:
                    assert all(min(x.ended_at, b) <= max(x.started_at, a + 60.0) for x in spans)
            n_transitions = len(s.scalars(select(Transition.id).where(Transition.probe_id == pid)).all())
            assert n_transitions == changes

    try:
        check()
    finally:
        db.close()


def test_two_writers_in_any_order_keep_one_transition_per_span(tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    """The serialised orders test_recording's two threads can produce, all of them reachable: writer 0 runs at
    0, 60, 120 s..., writer 30 at 30, 90, 150 s..., every fifth run UNHEALTHY; one of them may run far ahead."""
    db = open_database(f"sqlite:///{Path(tmp_path_factory.mktemp('order')) / 'o.db'}")
    counter = iter(range(10**6))

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(confirm=st.integers(1, 2), order=st.permutations([0.0] * 10 + [30.0] * 10))
    def check(confirm: int, order: list[float]) -> None:
        with db.session() as s:
            pid = add_probe(s, f"w{next(counter)}", interval_s=60.0, confirm=confirm)
            runs = {0.0: itertools.count(), 30.0: itertools.count()}
            for offset in order:
                i = next(runs[offset])
                r, ev = result(T0 + offset + 60 * i, HealthState.UNHEALTHY if i % 5 == 4 else HealthState.HEALTHY)
                record_execution(s, pid, r, ev)
            assert_timeline(s, pid, T0 + 30 + 60 * 9)

    try:
        check()
    finally:
        db.close()
