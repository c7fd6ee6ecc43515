"""What a drill-down chart draws, as numbers: gaps, hourly means, thinning, the health band, axis labels."""

from __future__ import annotations

from callmeter_tui.domain.chart import (
    HOUR,
    WINDOWS,
    StateRun,
    chart_data,
    next_window,
    split_at_gaps,
    state_columns,
    thin,
    time_ticks,
    value_ticks,
)
from callmeter_tui.domain.health import HealthState
from callmeter_tui.domain.spans import HealthSpan

T0 = 1_780_000_000.0 - 1_780_000_000.0 % HOUR  # an hour boundary
H, D, U = HealthState.HEALTHY, HealthState.DEGRADED, HealthState.UNHEALTHY


def test_a_silence_longer_than_three_intervals_is_a_gap_not_a_line() -> None:
    pts = [(T0 + 60 * i, 1.0) for i in (0, 1, 2, 5, 9)]  # 180 s apart is still a line; 240 s is a gap
    assert split_at_gaps(pts, 60.0) == [tuple(pts[:4]), (pts[4],)]
    assert split_at_gaps([], 60.0) == []


def test_hourly_means_are_judged_by_the_hour_then_runs_by_the_interval() -> None:
    means = [(T0 + HOUR * i + HOUR / 2, 1.0) for i in range(3)]
    runs = [(T0 + 3 * HOUR + 60 * i, 2.0) for i in range(3)]
    assert split_at_gaps(means + runs, 60.0, hourly_before=T0 + 3 * HOUR) == [tuple(means + runs)]
    assert len(split_at_gaps([*means[:1], *means[2:]], 60.0, hourly_before=T0 + 3 * HOUR)) == 1  # 2 h < 3 h
    assert len(split_at_gaps(means, 60.0)) == 3  # read as single runs, an hour apart is a gap


def test_chart_data_clips_to_the_window_and_keeps_thresholds_and_states() -> None:
    pts = [(T0 - 120, 9.0), (T0, 100.0), (T0 + 60, 700.0), (T0 + 3600, 5.0)]
    spans = [HealthSpan(H, T0 - 600, T0 + 30), HealthSpan(U, T0 + 30, T0 + 7200)]
    d = chart_data(
        "response_time_ms",
        pts,
        since=T0,
        until=T0 + 600,
        spacing=60.0,
        thresholds={"warning": 150.0, "critical": None},
        spans=spans,
    )
    assert d.points == ((T0, 100.0), (T0 + 60, 700.0))
    assert [(t.level, t.value) for t in d.thresholds] == [("warning", 150.0)]
    assert d.states == (StateRun(H, T0, T0 + 30), StateRun(U, T0 + 30, T0 + 600))
    assert d.y_range == (40.0, 760.0) and d.title == "Response (ms)"  # values and thresholds, 10 % margin
    low = chart_data(
        "packet_loss_pct", [(T0, 0.0), (T0 + 60, 99.0)], since=T0, until=T0 + 60, spacing=60.0, thresholds={}
    )
    assert low.y_range == (0.0, 100.0)  # never below or above what the metric can take


def test_thinning_keeps_each_columns_extremes_at_their_real_times() -> None:
    pts = [(T0 + i, float(i % 10)) for i in range(1000)]
    kept = thin(pts, T0, T0 + 1000, 10)
    assert len(kept) == 20 and set(kept) <= set(pts)
    assert kept[:2] == [(T0, 0.0), (T0 + 9, 9.0)]
    assert thin(pts[:15], T0, T0 + 1000, 10) == pts[:15]  # sparse: untouched


def test_health_band_shows_the_worst_state_per_column_and_nothing_where_no_data() -> None:
    runs = [StateRun(H, T0, T0 + 35), StateRun(D, T0 + 35, T0 + 40), StateRun(U, T0 + 70, T0 + 100)]
    cols = state_columns(runs, T0, T0 + 100, 10)
    assert cols == {
        H: [T0 + 5, T0 + 15, T0 + 25],
        D: [T0 + 35],  # degraded for 5 s of that column: it shows
        U: [T0 + 75, T0 + 85, T0 + 95],
    }  # 40..70: no data, no mark


def test_axis_labels_hours_within_a_day_dates_beyond_and_units_on_values() -> None:
    day = [label for _, label in time_ticks(T0 - 86400, T0, 14)]
    assert all(len(x) == 5 and x[2] == ":" for x in day) and len(day) <= 14
    month = [label for _, label in time_ticks(T0 - 30 * 86400, T0, 14)]
    assert month[0][:3].isalpha() and month[0][3] == " "  # "Apr 30"
    assert [label for _, label in value_ticks(0, 700, "ms", 4)] == ["0 ms", "200 ms", "400 ms", "600 ms"]
    assert [label for _, label in value_ticks(2.06, 3.98, "", 4)] == ["2.5", "3.0", "3.5"]
    assert [label for _, label in value_ticks(0, 5, "%", 2)] == ["0.0%", "2.5%", "5.0%"]
    assert [w.label for w in WINDOWS] == ["1 h", "24 h", "7 d", "30 d"] and next_window(WINDOWS[-1]) == WINDOWS[0]
