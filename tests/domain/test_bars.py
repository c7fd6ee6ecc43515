"""Uptime bars: day/hour boundaries (DST), the seconds matrix, the colour rule."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from callmeter_tui.domain.bars import (
    BarSegment,
    bar_segments,
    bar_segments_many,
    day_boundaries,
    hour_boundaries,
    pack_spans,
    state_seconds_matrix,
    state_seconds_matrix_arrays,
)
from callmeter_tui.domain.health import STATE_ORDER, HealthState
from callmeter_tui.domain.spans import HealthSpan

from .strategies import T0, timelines
from .test_spans import reference_seconds

H, D, U, X = HealthState.HEALTHY, HealthState.DEGRADED, HealthState.UNHEALTHY, HealthState.UNKNOWN
DAY = 86400.0


def local(ts: float, tz: str) -> datetime:
    return datetime.fromtimestamp(ts, ZoneInfo(tz))


def noon(d: date, tz: str) -> float:
    return datetime(d.year, d.month, d.day, 12, tzinfo=ZoneInfo(tz)).timestamp()


@pytest.mark.parametrize(
    ("tz", "day", "hours"),
    [
        ("America/New_York", date(2026, 3, 8), 23),
        ("America/New_York", date(2026, 11, 1), 25),
        ("Europe/Berlin", date(2026, 3, 29), 23),
        ("Europe/Berlin", date(2026, 10, 25), 25),
        ("UTC", date(2026, 3, 29), 24),
    ],
)
def test_dst_days_are_23_or_25_hours(tz: str, day: date, hours: int) -> None:
    now = noon(day + timedelta(days=2), tz)
    b = day_boundaries(now, days=5, tz=tz)
    assert len(b) == 6
    starts = [local(t, tz) for t in b]
    assert all((s.hour, s.minute, s.second) == (0, 0, 0) for s in starts)
    assert [s.date() for s in starts] == [day - timedelta(days=2) + timedelta(days=i) for i in range(6)]
    lengths = np.diff(b) / 3600
    assert lengths[2] == hours
    assert sorted(set(lengths) - {24.0}) == ([] if hours == 24 else [hours])


def test_last_segment_is_today_up_to_the_next_midnight() -> None:
    now = datetime(2026, 7, 14, 23, 59, 59, tzinfo=ZoneInfo("Europe/Berlin")).timestamp()
    b = day_boundaries(now, 90, "Europe/Berlin")
    assert len(b) == 91
    assert b[-2] <= now < b[-1]
    assert local(b[-1], "Europe/Berlin").date() == date(2026, 7, 15)
    assert local(b[0], "Europe/Berlin").date() == date(2026, 7, 14) - timedelta(days=89)


def test_midnight_in_a_dst_gap_starts_the_day_when_it_really_starts() -> None:
    # Chile moves clocks from 00:00 to 01:00 on 2026-09-06: that day starts at 01:00 local.
    tz = "America/Santiago"
    b = day_boundaries(noon(date(2026, 9, 6), tz), 2, tz)
    first_instant = local(b[1], tz)
    assert (first_instant.date(), first_instant.hour) == (date(2026, 9, 6), 1)
    assert local(b[1] - 1, tz).date() == date(2026, 9, 5)
    assert np.diff(b).tolist() == [24 * 3600.0, 23 * 3600.0]


@settings(max_examples=150, deadline=None)
@given(
    st.floats(min_value=1.6e9, max_value=2.1e9),
    st.integers(1, 40),
    st.sampled_from(
        [
            "UTC",
            "America/New_York",
            "Europe/Berlin",
            "Australia/Lord_Howe",
            "America/Santiago",
            "Asia/Kolkata",
            "Pacific/Chatham",
        ]
    ),
)
def test_property_boundaries_are_first_instants_of_consecutive_days(now: float, days: int, tz: str) -> None:
    b = day_boundaries(now, days, tz)
    assert len(b) == days + 1 and np.all(np.diff(b) > 0)
    assert b[-2] <= now < b[-1]
    dates = [local(t, tz).date() for t in b]
    assert all(later - earlier == timedelta(days=1) for earlier, later in itertools.pairwise(dates))
    assert all(local(t - 1, tz).date() == d - timedelta(days=1) for t, d in zip(b, dates))


def test_day_boundaries_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        day_boundaries(T0, 90, "Mars/Olympus")
    with pytest.raises(ValueError, match="days"):
        day_boundaries(T0, 0)


def test_hour_boundaries() -> None:
    now = 1_780_003_723.5  # 43 min 43.5 s into an hour
    b = hour_boundaries(now, 24)
    assert len(b) == 25 and np.all(np.diff(b) == 3600)
    assert b[-2] <= now < b[-1] and b[-2] % 3600 == 0
    assert hour_boundaries(b[-2], 1).tolist() == [b[-2], b[-1]]


def test_matrix_counts_states_no_data_and_stops_at_now() -> None:
    b = np.array([T0, T0 + DAY, T0 + 2 * DAY, T0 + 3 * DAY])
    now = T0 + 1.5 * DAY
    spans = [
        HealthSpan(H, T0 - 100, T0 + 1000),
        HealthSpan(U, T0 + 1000, T0 + 1600),
        HealthSpan(D, T0 + DAY - 50, T0 + DAY + 50),
        HealthSpan(H, T0 + DAY + 50, T0 + 2.5 * DAY),
    ]
    m = state_seconds_matrix([spans, []], b, now)
    assert m.shape == (2, 3, 4)
    assert m[0, 0].tolist() == [1000.0, 50.0, 600.0, DAY - 1650.0]
    assert m[0, 1].tolist() == [0.5 * DAY - 50, 50.0, 0.0, 0.0]
    assert m[0, 2].tolist() == [0.0, 0.0, 0.0, 0.0]  # after now: not counted
    assert m[1].tolist() == [[0, 0, 0, DAY], [0, 0, 0, 0.5 * DAY], [0, 0, 0, 0]]


def test_span_over_many_segments_fills_the_middle() -> None:
    b = T0 + DAY * np.arange(6)
    spans = [HealthSpan(D, T0 + 0.75 * DAY, T0 + 4.25 * DAY)]
    m = state_seconds_matrix([spans], b, T0 + 10 * DAY)[0]
    assert m[:, 1].tolist() == [0.25 * DAY, DAY, DAY, DAY, 0.25 * DAY]
    assert m[:, 3].tolist() == [0.75 * DAY, 0, 0, 0, 0.75 * DAY]


def test_overlapping_unsorted_spans_first_started_wins() -> None:
    b = np.array([T0, T0 + 100])
    spans = [HealthSpan(U, T0 + 20, T0 + 60), HealthSpan(H, T0, T0 + 40), HealthSpan(D, T0 + 30, T0 + 35)]
    assert state_seconds_matrix([spans], b, T0 + 100)[0, 0].tolist() == [40.0, 0.0, 20.0, 40.0]


def test_colour_rule_worst_present_wins() -> None:
    b = T0 + DAY * np.arange(5)
    spans = [
        HealthSpan(H, T0, T0 + DAY - 1),
        HealthSpan(U, T0 + DAY - 1, T0 + DAY),  # day 0: one bad second
        HealthSpan(H, T0 + DAY, T0 + 1.5 * DAY),
        HealthSpan(D, T0 + 1.5 * DAY, T0 + 1.6 * DAY),
        HealthSpan(X, T0 + 2 * DAY, T0 + 2.5 * DAY),
        HealthSpan(H, T0 + 2.5 * DAY, T0 + 2.6 * DAY),
    ]
    segs = bar_segments(spans, list(b), T0 + 4 * DAY)
    assert [s.state for s in segs] == [U, D, H, X]
    assert segs[0] == BarSegment(T0, T0 + DAY, U, DAY - 1, 0.0, 1.0, 0.0)
    assert segs[3].unknown_s == DAY and segs[3].state is X


def test_many_equals_one_by_one() -> None:
    b = T0 + DAY * np.arange(4)
    comps = [[HealthSpan(H, T0, T0 + 2 * DAY)], [], [HealthSpan(D, T0 + 5, T0 + 7)]]
    many = bar_segments_many(comps, b, T0 + 3 * DAY)
    assert many == [bar_segments(c, b, T0 + 3 * DAY) for c in comps]
    assert [len(row) for row in many] == [3, 3, 3]


def test_boundaries_must_increase() -> None:
    with pytest.raises(ValueError, match="increasing"):
        state_seconds_matrix([[]], [T0, T0], T0)
    with pytest.raises(ValueError, match="two edges"):
        state_seconds_matrix([[]], [T0], T0)


def test_pack_spans_layout() -> None:
    packed = pack_spans([[HealthSpan(D, 1.0, 2.0)], [], [HealthSpan(X, 3.0, 4.0), HealthSpan(H, 4.0, 5.0)]])
    assert packed.offsets.tolist() == [0, 1, 1, 3]
    assert packed.codes.tolist() == [1, 3, 0]
    assert packed.components == 3


edges = st.lists(st.floats(min_value=-DAY, max_value=5 * DAY, allow_nan=False), min_size=2, max_size=8, unique=True)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(timelines(max_spans=8), timelines(max_spans=8, overlapping=False)), min_size=1, max_size=4),
    edges,
    st.floats(min_value=-2 * DAY, max_value=7 * DAY, allow_nan=False),
)
def test_property_matrix_matches_exact_reference(comps, offs, now_off) -> None:  # type: ignore[no-untyped-def]
    b = np.unique(T0 + np.array(offs))
    assume(len(b) >= 2)
    now = T0 + now_off
    m = state_seconds_matrix(comps, b, now)
    assert m.shape == (len(comps), len(b) - 1, 4) and np.all(m >= 0)
    seg_len = np.clip(np.minimum(b[1:], now) - b[:-1], 0, None)
    assert np.allclose(m.sum(axis=2), seg_len[None, :], atol=1e-5)
    for c, spans in enumerate(comps):
        for j in range(len(b) - 1):
            ref = reference_seconds(spans, b[j], max(b[j], min(b[j + 1], now)))
            assert m[c, j] == pytest.approx([float(ref[s]) for s in STATE_ORDER], abs=1e-5)
    segs = bar_segments_many(comps, b, now)
    for c, row in enumerate(segs):
        for j, seg in enumerate(row):
            present = [s for s, v in zip(STATE_ORDER[:3], m[c, j, :3]) if v > 0]
            expected = max(present, key=lambda s: s.severity) if present else X
            assert seg.state is expected


def test_arrays_entry_point_matches() -> None:
    comps = [[HealthSpan(H, T0, T0 + 10)], [HealthSpan(U, T0 + 3, T0 + 4)]]
    b = np.array([T0, T0 + 5, T0 + 20])
    assert np.array_equal(
        state_seconds_matrix_arrays(pack_spans(comps), b, T0 + 20), state_seconds_matrix(comps, b, T0 + 20)
    )


def test_segment_build_restores_the_garbage_collector_setting() -> None:
    import gc

    b = np.array([T0, T0 + DAY])
    assert gc.isenabled()
    bar_segments([HealthSpan(H, T0, T0 + 5)], b, T0 + DAY)
    assert gc.isenabled()
    gc.disable()
    try:
        bar_segments([], b, T0 + DAY)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_no_components() -> None:
    b = day_boundaries(T0, 3)
    assert bar_segments_many([], b, T0) == []
    assert state_seconds_matrix([], b, T0).shape == (0, 3, 4)
