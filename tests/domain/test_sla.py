"""domain.sla on its own: month windows in the page's zone (DST months), the SLA target's exact
comparison, time over critical, and the two merge seams (maintenance windows, operator incidents)."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from callmeter_tui.domain.health import HealthState
from callmeter_tui.domain.sla import (
    ComponentInput,
    MetricSample,
    Verdict,
    component_report,
    merged_seconds,
    month_window,
    parse_target,
    recent_months,
)
from callmeter_tui.domain.spans import HealthSpan
from callmeter_tui.domain.thresholds import Threshold

H = HealthState
UTC_OCT = datetime(2026, 10, 1, tzinfo=UTC).timestamp()
LATER = datetime(2027, 6, 1, tzinfo=UTC).timestamp()


def test_month_windows_follow_the_page_zone_and_its_clock_changes() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    oct_ = month_window("2026-10", "Europe/Berlin", LATER)
    assert oct_.start == datetime(2026, 10, 1, tzinfo=berlin).timestamp()
    assert oct_.end - oct_.start == 745 * 3600 and not oct_.partial
    march = month_window("2026-03", "Europe/Berlin", LATER)
    assert march.end - march.start == 743 * 3600
    now = UTC_OCT + 5 * 86400 + 7
    cut = month_window("2026-10", "UTC", now)
    assert (cut.start, cut.end, cut.partial, cut.month_end) == (UTC_OCT, now, True, UTC_OCT + 31 * 86400)


@pytest.mark.parametrize("bad", ["2026-13", "2026-00", "26-10", "2026/10", "", "1969-12"])
def test_bad_months_are_refused_in_one_line(bad: str) -> None:
    with pytest.raises(ValueError, match="expected a month like '2026-10'"):
        month_window(bad, "UTC", LATER)


def test_a_month_not_started_is_refused() -> None:
    with pytest.raises(ValueError, match="has not started yet"):
        month_window("2026-11", "UTC", UTC_OCT + 10)


def test_recent_months_cross_the_year() -> None:
    assert recent_months(datetime(2026, 2, 3, tzinfo=UTC).timestamp(), "UTC", 4) == [
        "2025-11",
        "2025-12",
        "2026-01",
        "2026-02",
    ]


def test_targets_are_exact_fractions_and_bad_ones_refused() -> None:
    assert parse_target(99.9) == Fraction(999, 1000) and parse_target(100) == 1
    for bad in (0, -1, 100.01, "high", True, None, float("nan")):
        with pytest.raises(ValueError):
            parse_target(bad)


def _comp(spans: list[tuple[HealthState, float, float]], **kw: object) -> ComponentInput:
    return ComponentInput("c", [HealthSpan(s, a, b) for s, a, b in spans], **kw)  # type: ignore[arg-type]


def test_verdict_compares_the_exact_ratio_with_the_target() -> None:
    w = month_window("2026-10", "UTC", LATER)
    # 999 s healthy and 1 s unhealthy: exactly 99.9 % passes a 99.9 target; one more bad second fails it.
    at_target = _comp(
        [(H.HEALTHY, UTC_OCT, UTC_OCT + 999), (H.UNHEALTHY, UTC_OCT + 999, UTC_OCT + 1000)], sla_target=99.9
    )
    assert (component_report(at_target, w).verdict, component_report(at_target, w).uptime_pct) == (
        Verdict.PASS,
        "99.90",
    )
    below = _comp([(H.HEALTHY, UTC_OCT, UTC_OCT + 998), (H.UNHEALTHY, UTC_OCT + 998, UTC_OCT + 1000)], sla_target=99.9)
    assert component_report(below, w).verdict is Verdict.FAIL
    assert component_report(_comp([], sla_target=99.9), w).verdict is Verdict.NO_DATA
    assert component_report(_comp([]), w).verdict is Verdict.NO_TARGET


def test_time_over_critical_follows_the_samples_and_their_gaps() -> None:
    w = month_window("2026-10", "UTC", LATER)
    samples = [
        MetricSample(UTC_OCT - 30, {"mos": 2.0}),  # from September: only its 30 s inside October count
        MetricSample(UTC_OCT + 30, {"mos": 4.2}),
        MetricSample(UTC_OCT + 90, {"mos": 2.4, "rtt_ms": 900.0}),  # next sample 1 h later: covers interval_s
        MetricSample(UTC_OCT + 3690, {"mos": 4.3}),
    ]
    th = {"mos": Threshold(3.5, 2.5), "rtt_ms": Threshold(300.0, 800.0), "jitter_ms": Threshold(30.0)}
    rep = component_report(_comp([], samples=samples, thresholds=th, sample_gap_s=180.0, interval_s=60.0), w)
    assert rep.over_critical_s == {"mos": 90.0, "rtt_ms": 60.0}  # no critical for jitter: not listed
    assert rep.metrics_seen_s == 30 + 60 + 60 + 60


def test_maintenance_and_operator_incidents_are_counted() -> None:
    w = month_window("2026-10", "UTC", LATER)
    spans = [(H.HEALTHY, UTC_OCT, UTC_OCT + 86400), (H.DEGRADED, UTC_OCT + 86400, UTC_OCT + 86400 + 600)]
    maint = [(UTC_OCT + 100, UTC_OCT + 400), (UTC_OCT + 300, UTC_OCT + 700), (UTC_OCT - 1000, UTC_OCT + 10)]
    ops = [(UTC_OCT + 5000, UTC_OCT + 5000 + 7200), (UTC_OCT + 31 * 86400 - 60, None), (UTC_OCT - 99, UTC_OCT - 9)]
    rep = component_report(_comp(spans, maintenance=maint, operator_incidents=ops), w)
    assert rep.maintenance_s == 610.0 == merged_seconds(maint, w.start, w.end)
    assert (rep.incidents, rep.operator_incidents) == (1, 2)  # the September one is outside the month
    assert (rep.longest_incident_s, rep.longest_incident_start) == (7200.0, UTC_OCT + 5000)


def test_an_incident_whose_data_stopped_counts_the_bad_time_seen() -> None:
    w = month_window("2026-10", "UTC", LATER)
    spans = [(H.HEALTHY, UTC_OCT, UTC_OCT + 86400), (H.UNHEALTHY, UTC_OCT + 86400, UTC_OCT + 86400 + 600)]
    rep = component_report(_comp(spans), w)  # nothing after it: no data for the rest of the month
    assert (rep.incidents, rep.longest_incident_s, rep.no_data_s) == (1, 600.0, w.end - w.start - 86400 - 600)


def test_the_page_verdict_does_not_call_a_month_without_data_a_pass() -> None:
    from callmeter_tui.domain.sla import build_report

    w = month_window("2026-10", "UTC", LATER)
    good = _comp([(H.HEALTHY, UTC_OCT, UTC_OCT + 10)], sla_target=99.9)
    empty = _comp([], sla_target=99.9)
    bad = _comp([(H.UNHEALTHY, UTC_OCT, UTC_OCT + 10)], sla_target=99.9)
    assert build_report("p", "P", w, [good], LATER).verdict is Verdict.PASS
    assert build_report("p", "P", w, [good, empty], LATER).verdict is Verdict.NO_DATA
    assert build_report("p", "P", w, [good, empty, bad], LATER).verdict is Verdict.FAIL
    assert build_report("p", "P", w, [_comp([])], LATER).verdict is Verdict.NO_TARGET
