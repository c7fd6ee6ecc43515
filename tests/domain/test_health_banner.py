"""The banner table and the transition (notification) table from the seeds."""

from __future__ import annotations

import itertools

import pytest

from callmeter_tui.domain.banner import (
    ALL_OPERATIONAL,
    MAJOR_ISSUES,
    PARTIAL_DEGRADATION,
    STATUS_PENDING,
    banner,
    overall_state,
)
from callmeter_tui.domain.health import STATE_ORDER, HealthState, notifies, worst

H, D, U, X = HealthState.HEALTHY, HealthState.DEGRADED, HealthState.UNHEALTHY, HealthState.UNKNOWN


@pytest.mark.parametrize(
    ("states", "state", "text"),
    [
        ([H, H, H], H, "All Systems Operational"),
        ([H, D, H], D, "Partial Degradation"),
        ([D, D], D, "Partial Degradation"),
        ([H, D, U], U, "Major Issues Detected"),
        ([U], U, "Major Issues Detected"),
        ([X, U, H], U, "Major Issues Detected"),
        ([X, X], X, "Status Pending"),
        ([], X, "Status Pending"),
        ([X, H], H, "All Systems Operational"),  # unknown beside healthy does not spoil the banner
        ([X, D], D, "Partial Degradation"),
    ],
)
def test_banner_table(states: list[HealthState], state: HealthState, text: str) -> None:
    assert banner(states) == (state, text)
    assert overall_state(iter(states)) == state


def test_banner_texts_are_the_seed_spellings() -> None:
    assert (ALL_OPERATIONAL, PARTIAL_DEGRADATION, MAJOR_ISSUES, STATUS_PENDING) == (
        "All Systems Operational",
        "Partial Degradation",
        "Major Issues Detected",
        "Status Pending",
    )


def test_banner_accepts_db_spellings() -> None:
    assert banner(["HEALTHY", "DEGRADED"]) == (D, "Partial Degradation")


@pytest.mark.parametrize(("previous", "current"), list(itertools.product(STATE_ORDER, STATE_ORDER)))
def test_transition_table_every_change_fires_same_never(previous: HealthState, current: HealthState) -> None:
    assert notifies(previous, current) is (previous != current)


@pytest.mark.parametrize("previous", [H, D, U])
def test_any_to_unknown_fires(previous: HealthState) -> None:
    assert notifies(previous, X)


def test_first_result_is_a_change_from_unknown() -> None:
    assert notifies(None, H)
    assert not notifies(None, X)


def test_worst_and_severity_order() -> None:
    assert worst([]) == X
    assert worst([H, X]) == H
    assert worst([H, D, X]) == D
    assert worst([D, U, H]) == U
    assert [s.severity for s in (X, H, D, U)] == [0, 1, 2, 3]
    assert STATE_ORDER == (H, D, U, X)


def test_parse_and_label() -> None:
    assert HealthState.parse("degraded") is D
    assert HealthState.parse(U) is U
    assert H.label == "Healthy"
    with pytest.raises(ValueError):
        HealthState.parse("GREEN")
