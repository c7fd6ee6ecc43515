"""Maintenance windows: wall-clock RRULE expansion across both DST changes, bad input naming the key,
cancelling keeps the past, and the one uptime rule leaving maintenance out (or counting it as down)."""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from callmeter_tui.config.recurrence import expand, first_start, last_end, make_rule, next_occurrences, window_status
from callmeter_tui.domain.health import HealthState
from callmeter_tui.domain.maintenance import (
    COMPLETED,
    IN_PROGRESS,
    SCHEDULED,
    Interval,
    MaintenanceError,
    WindowRule,
    active,
    merge,
)
from callmeter_tui.domain.spans import HealthSpan, format_uptime, state_seconds, uptime_ratio, window_seconds

BERLIN = "Europe/Berlin"
HOUR = 3600.0


def local(text: str, tz: str = BERLIN) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz)).timestamp()


def day(rule: WindowRule, date: str) -> list[Interval]:
    start = local(f"{date}T00:00")
    return expand(rule, start, start + 20 * HOUR)


@pytest.mark.parametrize(
    ("date", "hours", "utc_start"),
    [
        ("2026-03-28", 2.0, "2026-03-28T01:00:00+00:00"),  # the day before: an ordinary night
        ("2026-03-29", 1.0, "2026-03-29T01:00:00+00:00"),  # spring forward: 02:00-03:00 never happens
        ("2026-10-25", 3.0, "2026-10-25T00:00:00+00:00"),  # fall back: 02:00-03:00 happens twice
        ("2026-10-26", 2.0, "2026-10-26T01:00:00+00:00"),
    ],
)
def test_daily_window_lasts_what_the_wall_clock_says(date: str, hours: float, utc_start: str) -> None:
    rule = make_rule("2026-03-01T02:00", "2026-03-01T04:00", BERLIN, "FREQ=DAILY")
    (found,) = day(rule, date)
    assert found.duration == hours * HOUR
    assert found.start == datetime.fromisoformat(utc_start).timestamp()
    # ... and it always ends at 04:00 on the wall clock
    assert datetime.fromtimestamp(found.end, ZoneInfo(BERLIN)).strftime("%H:%M") == "04:00"


def test_one_off_with_offsets_and_weekly_rule_in_the_zone() -> None:
    one = make_rule("2026-10-25T00:00:00Z", "2026-10-25T03:00:00+00:00", BERLIN)
    assert (one.start, one.end) == ("2026-10-25T02:00:00", "2026-10-25T04:00:00")
    assert expand(one, 0, 2e9) == [Interval(local("2026-10-25T02:00"), local("2026-10-25T04:00"))]
    assert expand(one, 0, 2e9)[0].duration == 3 * HOUR
    weekly = make_rule("2026-11-01T22:00", "2026-11-02T01:00", BERLIN, "RRULE:FREQ=WEEKLY;BYDAY=SU;COUNT=3")
    found = expand(weekly, 0, 2e9)
    assert [datetime.fromtimestamp(i.start, ZoneInfo(BERLIN)).day for i in found] == [1, 8, 15]
    assert all(i.duration == 3 * HOUR for i in found)
    assert last_end(weekly) == local("2026-11-16T01:00") and first_start(weekly) == local("2026-11-01T22:00")
    assert last_end(make_rule("2026-11-01T22:00", "2026-11-02T01:00", BERLIN, "FREQ=DAILY")) is None


@pytest.mark.parametrize(
    ("start", "end", "rule", "key"),
    [
        ("2026-11-01T04:00", "2026-11-01T02:00", None, "end"),
        ("2026-11-01T04:00", "2026-11-01T04:00", None, "end"),
        ("2026-11-01T02:00", "2026-11-01T04:00", "FREQ=DAILY;UNTIL=20250101T000000Z", "rrule"),
        ("2026-11-01T02:00", "2026-11-01T04:00", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "rrule"),
        ("2026-11-01T02:00", "2026-11-01T04:00", "FREQ=DAILY;COUNT=0", "rrule"),
        ("2026-11-01T02:00", "2026-11-01T04:00", "FREQ=SOMETIMES", "rrule"),
        ("2026-11-01T02:00", "2026-11-01T04:00", "DTSTART:20260101T000000\nRRULE:FREQ=DAILY", "rrule"),
        ("tomorrow", "2026-11-01T04:00", None, "start"),
        ("2026-11-01T02:00", "later", None, "end"),
    ],
)
def test_bad_windows_are_refused_naming_the_key(start: str, end: str, rule: str | None, key: str) -> None:
    with pytest.raises(MaintenanceError) as err:
        make_rule(start, end, BERLIN, rule)
    assert err.value.key == key and str(err.value).startswith(f"{key}: ")
    assert "\n" not in str(err.value)


def test_unknown_zone_is_refused() -> None:
    with pytest.raises(MaintenanceError, match=r"^timezone: unknown IANA"):
        make_rule("2026-11-01T02:00", "2026-11-01T04:00", "Mars/Olympus")


def test_cancel_cuts_occurrences_and_keeps_the_past() -> None:
    rule = make_rule("2026-11-01T02:00", "2026-11-01T04:00", "UTC", "FREQ=DAILY")
    cancelled = WindowRule(
        rule.start, rule.end, rule.timezone, rule.rrule, cancelled_at=local("2026-11-03T03:00", "UTC")
    )
    found = expand(cancelled, 0, 2e9)
    assert [i.duration / HOUR for i in found] == [2.0, 2.0, 1.0]
    assert window_status(cancelled, local("2026-11-10T00:00", "UTC")) == COMPLETED
    assert window_status(rule, local("2026-11-10T03:00", "UTC")) == IN_PROGRESS
    assert window_status(rule, local("2026-11-10T05:00", "UTC")) == SCHEDULED
    nxt = next_occurrences(rule, local("2026-11-10T05:00", "UTC"), 2)
    assert [i.start for i in nxt] == [local("2026-11-11T02:00", "UTC"), local("2026-11-12T02:00", "UTC")]


def test_merge_and_active() -> None:
    merged = merge([Interval(5, 8), Interval(0, 2), Interval(2, 3), Interval(7, 9)])
    assert merged == [Interval(0, 3), Interval(5, 9)]
    assert active(merged, 0) and active(merged, 8.5) and not active(merged, 3) and not active(merged, 4)


H, D, U, X = HealthState.HEALTHY, HealthState.DEGRADED, HealthState.UNHEALTHY, HealthState.UNKNOWN
T0 = 1_700_000_000.0


def test_uptime_is_healthy_over_monitored_minus_maintenance() -> None:
    """720 h monitored; 10 h maintenance of which 4 h unhealthy; 2 h unhealthy outside it."""
    spans = [
        HealthSpan(H, T0, T0 + 100 * HOUR),
        HealthSpan(U, T0 + 100 * HOUR, T0 + 106 * HOUR),  # 100-106 bad; maintenance 102-112
        HealthSpan(H, T0 + 106 * HOUR, T0 + 720 * HOUR),
    ]
    maint = [Interval(T0 + 102 * HOUR, T0 + 112 * HOUR)]
    end = T0 + 720 * HOUR
    assert format_uptime(uptime_ratio(spans, T0, end)) == "99.16"  # 714/720 without the window
    ratio = uptime_ratio(spans, T0, end, maint)
    assert ratio is not None and ratio.exact == Fraction(708, 710)  # type: ignore[attr-defined]
    down = uptime_ratio(spans, T0, end, maint, maintenance_is_downtime=True)
    assert down is not None and down.exact == Fraction(708, 720)  # type: ignore[attr-defined]
    secs = window_seconds(spans, T0, end, maint).as_floats()
    assert secs == {
        "healthy_s": 708 * HOUR,
        "degraded_s": 0.0,
        "unhealthy_s": 2 * HOUR,
        "unknown_s": 0.0,
        "maintenance_s": 10 * HOUR,
    }
    assert sum(secs.values()) == end - T0
    assert state_seconds(spans, T0, end, maint)[X] == 0.0


def test_maintenance_without_data_is_not_unknown_and_whole_maintenance_has_no_uptime() -> None:
    maint = [Interval(T0, T0 + HOUR)]
    secs = window_seconds([], T0, T0 + 2 * HOUR, maint)
    assert (float(secs.maintenance), float(secs.by_state[X])) == (HOUR, HOUR)
    assert uptime_ratio([HealthSpan(U, T0, T0 + HOUR)], T0, T0 + HOUR, maint) is None
    assert uptime_ratio([HealthSpan(U, T0, T0 + HOUR)], T0, T0 + HOUR, maint, maintenance_is_downtime=True) == 0.0


def test_carve_cuts_every_window_out_of_a_span() -> None:
    from callmeter_tui.domain.spans import carve

    spans = [HealthSpan(H, 0, 100), HealthSpan(U, 100, 130), HealthSpan(D, 200, 210)]
    windows = merge([Interval(10, 20), Interval(30, 40), Interval(90, 120), Interval(150, 160)])
    pieces = [(s.state, s.started_at, s.ended_at) for s in carve(spans, windows)]
    assert pieces == [(H, 0, 10), (H, 20, 30), (H, 40, 90), (U, 120, 130), (D, 200, 210)]
    assert carve(spans, []) is spans
