"""Read queries: spans as the views see them, recent executions, sparkline values, ASR, lookups."""

from __future__ import annotations

from sqlalchemy import select

from callmeter_tui.domain.health import HealthState
from callmeter_tui.domain.probe import ProbeKind
from callmeter_tui.domain.spans import HealthSpan
from callmeter_tui.store import queries
from callmeter_tui.store.executions import mark_unknown, record_execution
from callmeter_tui.store.models import HealthSpanRow, Probe

from .conftest import T0, add_probe, result

H, D, U = HealthState.HEALTHY, HealthState.DEGRADED, HealthState.UNHEALTHY


def rec(session, pid: int, at: float, state: HealthState = H, metrics=None, **details):  # type: ignore[no-untyped-def]
    r, ev = result(at, state, metrics, **details)
    return record_execution(session, pid, r, ev)


def test_load_spans_extends_fresh_open_span_to_until_and_stale_one_by_an_interval(session) -> None:  # type: ignore[no-untyped-def]
    fresh, stale, silent = add_probe(session, "fresh"), add_probe(session, "stale"), add_probe(session, "silent")
    for i in range(5):
        rec(session, fresh, T0 + 60 * i, D if i >= 3 else H)
    rec(session, stale, T0)
    got = queries.load_spans(session, [fresh, stale, silent], since=T0 - 3600, until=T0 + 420)
    assert got[fresh] == [HealthSpan(H, T0, T0 + 180), HealthSpan(D, T0 + 180, T0 + 420)]  # 420-240 <= 180
    assert got[stale] == [HealthSpan(H, T0, T0 + 60)]  # 420 s without a result: only one interval counted
    assert got[silent] == []

    clipped = queries.load_spans(session, [fresh], since=T0 + 100, until=T0 + 200)
    assert clipped[fresh] == [HealthSpan(H, T0 + 100, T0 + 180), HealthSpan(D, T0 + 180, T0 + 200)]
    assert queries.load_spans(session, [fresh], since=T0 + 1000, until=T0 + 2000)[fresh] == []  # long gone quiet


def test_load_spans_agrees_with_what_recording_stores_after_a_gap(session) -> None:  # type: ignore[no-untyped-def]
    pid = add_probe(session, interval_s=60.0)
    rec(session, pid, T0)
    shown = queries.load_spans(session, [pid], T0 - 60, T0 + 900)[pid]
    rec(session, pid, T0 + 900)  # the probe comes back after 15 minutes
    stored = queries.load_spans(session, [pid], T0 - 60, T0 + 900)[pid]
    assert shown == stored == [HealthSpan(H, T0, T0 + 60)]


def test_unknown_span_from_mark_is_returned(session) -> None:  # type: ignore[no-untyped-def]
    pid = add_probe(session)
    rec(session, pid, T0)
    mark_unknown(session, pid, T0 + 60, "target changed")
    got = queries.load_spans(session, [pid], T0, T0 + 120)[pid]
    assert [s.state for s in got] == [H, HealthState.UNKNOWN] and got[1].ended_at == T0 + 120


def test_latest_executions_transitions_and_recent_values(session) -> None:  # type: ignore[no-untyped-def]
    a, b = add_probe(session, "a"), add_probe(session, "b")
    for i in range(40):
        rec(session, a, T0 + 60 * i, U if i == 20 else H, {"mos": 3.0 + i / 100} if i % 10 != 5 else {})
    rec(session, b, T0, H, {"rtt_ms": 5.0})
    latest = queries.latest_executions(session, a, limit=3)
    assert [e.started_at for e in latest] == [T0 + 60 * 39, T0 + 60 * 38, T0 + 60 * 37]
    trs = queries.transitions(session, a, limit=2)
    assert [(t.previous_state, t.current_state) for t in trs] == [("UNHEALTHY", "HEALTHY"), ("HEALTHY", "UNHEALTHY")]
    values = queries.recent_metric_values(session, [a, b], "mos", n=12)
    # last 12 executions are i = 28..39; i = 35 measured no MOS
    assert values[a] == [3.0 + i / 100 for i in range(28, 40) if i != 35]
    assert values[b] == []


def test_asr_counts_answered_over_attempted_in_the_window(session) -> None:  # type: ignore[no-untyped-def]
    pid = add_probe(session, "call", kind=ProbeKind.SIP_CALL)
    assert queries.asr_pct(session, pid, 10) is None
    rec(session, pid, T0, U)  # prober error before dialling: not an attempt
    assert queries.asr_pct(session, pid, 10) is None
    answers = [True, False, True, True, False, True, True, True]
    for i, answered in enumerate(answers, start=1):
        rec(session, pid, T0 + 60 * i, H if answered else U, call_answered=answered)
    assert queries.asr_pct(session, pid, 3) == 100.0  # the last three all answered
    assert queries.asr_pct(session, pid, 4) == 75.0
    assert queries.asr_pct(session, pid, 5) == 80.0
    assert queries.asr_pct(session, pid, 20) == 75.0  # 6 of 8 attempts
    assert queries.asr_pct(session, pid, 3, include=False) == 75.0  # the run being recorded counts too
    assert queries.asr_pct(session, pid, 0, include=True) == 100.0


def test_chart_series_from_raw_executions(session) -> None:  # type: ignore[no-untyped-def]
    pid = add_probe(session)
    for i in range(5):
        rec(session, pid, T0 + 60 * i, H, {"mos": 4.0 + i / 10, "rtt_ms": 10.0 * i} if i != 2 else {})
    series, means_before = queries.chart_series(session, pid, ["mos", "rtt_ms"], T0 + 60, T0 + 240, hourly=False)
    assert series == {"mos": [(T0 + 60, 4.1), (T0 + 180, 4.3)], "rtt_ms": [(T0 + 60, 10.0), (T0 + 180, 30.0)]}
    assert means_before <= T0


def test_long_chart_reads_hourly_means_where_rolled_up_then_runs(session) -> None:  # type: ignore[no-untyped-def]
    """A 30-day chart reads one mean an hour up to the rollup mark, then the runs since; a silent day
    stays empty (no means are made up for hours nobody measured)."""
    from callmeter_tui.store.retention import hour_floor, rollup_hours

    pid = add_probe(session)
    start = hour_floor(T0)
    for i in range(3 * 24 * 12):  # 3 days, a run every 5 minutes, none on the middle day
        at = start + 300 * i
        if not start + 86400 <= at < start + 2 * 86400:
            rec(session, pid, at, H, {"response_time_ms": 100.0 + i % 12})
    now = start + 3 * 86400
    rollup_hours(session, now)  # rolls up to the hour before now - grace: the last hour stays raw
    series, means_before = queries.chart_series(session, pid, ["response_time_ms"], now - 30 * 86400, now, hourly=True)
    pts = series["response_time_ms"]
    assert means_before == now - 3600
    means = [p for p in pts if p[0] < means_before]
    assert len(means) == 24 + 23 and all(t % 3600 == 1800 for t, _ in means)
    assert means[0] == (start + 1800, 105.5) and means[24][0] == start + 2 * 86400 + 1800  # the silent day
    assert [t for t, _ in pts if t >= means_before] == [now - 3600 + 300 * i for i in range(12)]
    raw, _ = queries.chart_series(session, pid, ["response_time_ms"], now - 86400, now, hourly=False)
    assert len(raw["response_time_ms"]) == 24 * 12  # a day or less: every run


def test_lookups(session) -> None:  # type: ignore[no-untyped-def]
    add_probe(session, "z-first", agent="local")
    add_probe(session, "remote", agent="paris")
    session.scalars(select(Probe).where(Probe.name == "remote")).one().position = -1
    session.flush()
    assert queries.probe_by_name(session, "remote").agent == "paris"
    assert queries.probe_by_name(session, "nope") is None
    assert [p.name for p in queries.all_probes(session)] == ["remote", "z-first"]
    assert [p.name for p in queries.all_probes(session, agent="local")] == ["z-first"]
    assert session.scalars(select(HealthSpanRow)).all() == []
