"""State seconds, the uptime ratio and its truncated percentage."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callmeter_tui.domain.health import STATE_ORDER, HealthState
from callmeter_tui.domain.spans import (
    HealthSpan,
    exact_state_seconds,
    format_uptime,
    state_seconds,
    uptime_ratio,
)

from .strategies import T0, offsets, timelines

H, D, U, X = HealthState.HEALTHY, HealthState.DEGRADED, HealthState.UNHEALTHY, HealthState.UNKNOWN
HOUR = 3600.0


def span(state: HealthState, start_h: float, end_h: float) -> HealthSpan:
    return HealthSpan(state, T0 + start_h * HOUR, T0 + end_h * HOUR)


def test_seed_example_719_of_720_hours_is_99_86() -> None:
    spans = [span(H, 0, 500), span(U, 500, 501), span(H, 501, 720)]
    ratio = uptime_ratio(spans, T0, T0 + 720 * HOUR)
    assert ratio == pytest.approx(719 / 720)
    assert format_uptime(ratio) == "99.86"


def test_state_seconds_counts_gaps_as_unknown_and_clips_to_window() -> None:
    spans = [span(H, -5, 2), span(D, 2, 3), span(X, 3, 4), span(U, 6, 7), span(H, 9, 20)]
    secs = state_seconds(spans, T0, T0 + 10 * HOUR)
    assert secs == {H: 3 * HOUR, D: 1 * HOUR, U: 1 * HOUR, X: 5 * HOUR}
    assert list(secs) == list(STATE_ORDER)


def test_state_seconds_of_nothing_is_all_unknown() -> None:
    assert state_seconds([], T0, T0 + 60) == {H: 0.0, D: 0.0, U: 0.0, X: 60.0}
    assert state_seconds([], T0, T0 - 60) == {H: 0.0, D: 0.0, U: 0.0, X: 0.0}


def test_overlap_first_started_wins() -> None:
    spans = [span(D, 1, 3), span(H, 0, 2)]  # unsorted; H started first and keeps [0, 2)
    assert state_seconds(spans, T0, T0 + 4 * HOUR) == {H: 2 * HOUR, D: HOUR, U: 0.0, X: HOUR}


def test_uptime_ignores_unknown_and_no_data() -> None:
    spans = [span(H, 0, 1), span(X, 1, 5), span(D, 7, 8)]
    assert uptime_ratio(spans, T0, T0 + 10 * HOUR) == 0.5
    assert format_uptime(uptime_ratio(spans, T0, T0 + 10 * HOUR)) == "50.00"


def test_no_monitored_time_is_none() -> None:
    assert uptime_ratio([], T0, T0 + HOUR) is None
    assert uptime_ratio([span(X, 0, 1)], T0, T0 + HOUR) is None
    assert uptime_ratio([span(H, 2, 3)], T0, T0 + HOUR) is None  # outside the window
    assert format_uptime(None) is None


def test_hundred_only_without_any_bad_time() -> None:
    assert format_uptime(uptime_ratio([span(H, 0, 720)], T0, T0 + 720 * HOUR)) == "100.00"
    one_ms_bad = [span(H, 0, 720), HealthSpan(D, T0 + 100.0, T0 + 100.001)]  # H keeps it: first started
    assert format_uptime(uptime_ratio(one_ms_bad, T0, T0 + 720 * HOUR)) == "100.00"
    one_ms_bad = [
        HealthSpan(H, T0, T0 + 100.0),
        HealthSpan(D, T0 + 100.0, T0 + 100.001),
        HealthSpan(H, T0 + 100.001, T0 + 720 * HOUR),
    ]
    ratio = uptime_ratio(one_ms_bad, T0, T0 + 720 * HOUR)
    assert ratio is not None and ratio < 1
    assert format_uptime(ratio) == "99.99"


@pytest.mark.parametrize(
    ("ratio", "text"),
    [
        (0.999999, "99.99"),
        (1.0, "100.00"),
        (0.0, "0.00"),
        (0.29, "29.00"),
        (0.5, "50.00"),
        (719 / 720, "99.86"),
        (0.99995, "99.99"),
        (0.12345, "12.34"),
        (1e-05, "0.00"),
        (Fraction(2, 3), "66.66"),
        (np.float64(0.29), "29.00"),
        (1, "100.00"),
        (0, "0.00"),
    ],
)
def test_format_truncates_never_rounds_up(ratio: float, text: str) -> None:
    assert format_uptime(ratio) == text


def test_exact_ratio_beats_float_error() -> None:
    # 29 of 100 s healthy: the float 0.29 is below 29/100; truncating the float naively gives "28.99".
    spans = [HealthSpan(H, T0, T0 + 29), HealthSpan(U, T0 + 29, T0 + 100)]
    assert format_uptime(uptime_ratio(spans, T0, T0 + 100)) == "29.00"


@pytest.mark.parametrize("bad", [1.5, -0.1, float("nan"), float("inf"), "0.5"])
def test_format_rejects_out_of_range(bad: object) -> None:
    with pytest.raises(ValueError):
        format_uptime(bad)  # type: ignore[arg-type]


def test_span_accepts_db_spelling() -> None:
    assert HealthSpan("DEGRADED", 1.0, 2.0).state is D  # type: ignore[arg-type]
    assert HealthSpan(D, 1.0, 2.0) == HealthSpan("DEGRADED", 1.0, 2.0)  # type: ignore[arg-type]


def reference_seconds(spans: list[HealthSpan], start: float, end: float) -> dict[HealthState, Fraction]:
    """Independent reference: cut the window at every span edge; each piece belongs to the span that
    started first among those covering it (ties: list order), else it is UNKNOWN."""
    lo, hi = Fraction(start), Fraction(end)
    cuts = sorted({lo, hi, *(Fraction(t) for sp in spans for t in (sp.started_at, sp.ended_at))})
    cuts = [c for c in cuts if lo <= c <= hi]
    ordered = sorted(spans, key=lambda sp: sp.started_at)
    out = {state: Fraction(0) for state in STATE_ORDER}
    for a, b in itertools.pairwise(cuts):
        mid = (a + b) / 2
        owner = next((sp for sp in ordered if sp.started_at <= mid < sp.ended_at), None)
        out[owner.state if owner else X] += b - a
    return out


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(timelines(), timelines(overlapping=False)),
    offsets,
    st.floats(min_value=0, max_value=5 * 86400, allow_nan=False),
)
def test_properties_seconds_add_up_ratio_in_range_format_never_exceeds(spans, a, length) -> None:  # type: ignore[no-untyped-def]
    start, end = T0 + a, T0 + a + length
    secs = state_seconds(spans, start, end)
    assert all(v >= 0 for v in secs.values())
    assert sum(secs.values()) == pytest.approx(end - start, abs=1e-6)
    exact = exact_state_seconds(spans, start, end)
    assert exact == reference_seconds(spans, start, end)
    assert sum(exact.values()) == max(Fraction(end) - Fraction(start), Fraction(0))
    ratio = uptime_ratio(spans, start, end)
    monitored = exact[H] + exact[D] + exact[U]
    if ratio is None:
        assert monitored == 0
        return
    true = exact[H] / monitored
    assert 0.0 <= ratio <= 1.0
    text = format_uptime(ratio)
    assert text is not None
    shown = Fraction(text.replace(".", "")) / 10000
    assert shown <= true < shown + Fraction(1, 10000)
    assert (text == "100.00") == (exact[D] + exact[U] == 0)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**7), st.integers(1, 10**7))
def test_property_integer_seconds_truncate_exactly(healthy: int, total: int) -> None:
    healthy = min(healthy, total)
    spans = [HealthSpan(H, T0, T0 + healthy), HealthSpan(D, T0 + healthy, T0 + total)]
    text = format_uptime(uptime_ratio(spans, T0, T0 + total))
    assert text == f"{healthy * 10000 // total // 100}.{healthy * 10000 // total % 100:02d}"
