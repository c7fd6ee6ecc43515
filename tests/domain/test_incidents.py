"""Incidents: maximal runs of degraded/unhealthy time, newest first."""

from __future__ import annotations

from hypothesis import given, settings

from callmeter_tui.domain.health import HealthState
from callmeter_tui.domain.incidents import Incident, incidents
from callmeter_tui.domain.spans import HealthSpan

from .strategies import timelines

H, D, U, X = HealthState.HEALTHY, HealthState.DEGRADED, HealthState.UNHEALTHY, HealthState.UNKNOWN


def sp(state: HealthState, a: float, b: float) -> HealthSpan:
    return HealthSpan(state, a, b)


def test_touching_bad_spans_merge_and_take_the_worst() -> None:
    spans = [sp(H, 0, 10), sp(D, 10, 20), sp(U, 20, 25), sp(D, 25, 30), sp(H, 30, 40)]
    assert incidents(spans) == [Incident(10, 30, U)]


def test_healthy_or_unknown_span_or_gap_ends_a_run() -> None:
    spans = [sp(D, 0, 10), sp(H, 10, 11), sp(D, 11, 12), sp(X, 12, 13), sp(U, 13, 14), sp(D, 15, 16), sp(H, 16, 20)]
    assert incidents(spans) == [Incident(15, 16, D), Incident(13, 14, U), Incident(11, 12, D), Incident(0, 10, D)]


def test_newest_first_and_ongoing_when_the_last_span_is_bad() -> None:
    spans = [sp(U, 0, 5), sp(H, 5, 50), sp(D, 50, 60), sp(U, 60, 70)]
    found = incidents(spans)
    assert found == [Incident(50, None, U), Incident(0, 5, U)]
    assert found[0].ongoing and found[0].duration(now=100) == 50
    assert incidents(spans, ongoing=False)[0] == Incident(50, 70, U)


def test_not_ongoing_once_recovered_or_unknown() -> None:
    assert incidents([sp(D, 0, 5), sp(H, 5, 6)]) == [Incident(0, 5, D)]
    assert incidents([sp(D, 0, 5), sp(X, 5, 6)]) == [Incident(0, 5, D)]


def test_unsorted_and_overlapping_input() -> None:
    spans = [sp(U, 8, 12), sp(D, 0, 10), sp(H, 12, 13)]
    assert incidents(spans) == [Incident(0, 12, U)]


def test_zero_length_bad_span_is_a_fresh_incident() -> None:
    assert incidents([sp(H, 0, 10), sp(D, 10, 10)]) == [Incident(10, None, D)]


def test_nothing_bad_no_incidents() -> None:
    assert incidents([]) == []
    assert incidents([sp(H, 0, 1), sp(X, 1, 2)]) == []


def test_db_spelling_states() -> None:
    assert incidents([sp("UNHEALTHY", 0, 1)], ongoing=False) == [Incident(0, 1, U)]  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(timelines(overlapping=False))
def test_property_incidents_cover_exactly_the_bad_spans(spans: list[HealthSpan]) -> None:
    found = incidents(spans, ongoing=False)
    starts = [i.started_at for i in found]
    assert starts == sorted(starts, reverse=True)
    for older, newer in zip(found[1:], found):
        assert older.ended_at is not None and older.ended_at <= newer.started_at
    bad = [s for s in spans if s.state in (D, U)]
    for s in bad:  # every bad span inside exactly one incident
        holders = [i for i in found if i.started_at <= s.started_at and s.ended_at <= i.ended_at]  # type: ignore[operator]
        assert len(holders) == 1
        assert holders[0].worst.severity >= s.state.severity
    assert len(found) <= len(bad)


def test_zero_length_good_span_does_not_split_but_ends_ongoing() -> None:
    assert incidents([sp(D, 0, 5), sp(H, 5, 5), sp(U, 5, 9)]) == [Incident(0, None, U)]
    assert incidents([sp(D, 0, 5), sp(H, 5, 5)]) == [Incident(0, 5, D)]
