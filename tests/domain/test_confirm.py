"""The confirm-N rule."""

from __future__ import annotations

import pytest

from callmeter_tui.domain.confirm import ConfirmResult, apply_confirm
from callmeter_tui.domain.health import HealthState

H, D, U, X = HealthState.HEALTHY, HealthState.DEGRADED, HealthState.UNHEALTHY, HealthState.UNKNOWN


def run(start: HealthState, observations: list[HealthState], confirm: int) -> list[ConfirmResult]:
    out, state, pending, count = [], start, None, 0
    for obs in observations:
        r = apply_confirm(state, pending, count, obs, confirm)
        out.append(r)
        state, pending, count = r.state, r.pending, r.pending_count
    return out


def test_confirm_one_changes_at_once() -> None:
    assert apply_confirm(H, None, 0, D, 1) == ConfirmResult(D, None, 0, True)


def test_needs_n_consecutive_observations() -> None:
    results = run(H, [D, D, D], 3)
    assert [r.state for r in results] == [H, H, D]
    assert [r.changed for r in results] == [False, False, True]
    assert [(r.pending, r.pending_count) for r in results] == [(D, 1), (D, 2), (None, 0)]


def test_same_as_current_clears_the_pending_count() -> None:
    results = run(H, [D, D, H, D, D, D], 3)
    assert [r.state for r in results] == [H, H, H, H, H, D]
    assert (results[2].pending, results[2].pending_count, results[2].changed) == (None, 0, False)


def test_a_different_new_state_restarts_the_count() -> None:
    results = run(H, [D, U, U], 2)
    assert [(r.state, r.pending, r.pending_count) for r in results] == [(H, D, 1), (H, U, 1), (U, None, 0)]


@pytest.mark.parametrize("first", [H, D, U])
def test_from_unknown_the_first_result_counts_at_once(first: HealthState) -> None:
    assert apply_confirm(X, None, 0, first, 5) == ConfirmResult(first, None, 0, True)
    assert apply_confirm(None, None, 0, first, 5) == ConfirmResult(first, None, 0, True)


def test_going_unknown_is_confirmed_like_any_change() -> None:
    assert [r.state for r in run(H, [X, X], 2)] == [H, X]


def test_same_state_never_changes() -> None:
    assert apply_confirm(U, None, 0, U, 3) == ConfirmResult(U, None, 0, False)
    assert apply_confirm(X, None, 0, X, 3) == ConfirmResult(X, None, 0, False)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_rejects_bad_confirm(bad: object) -> None:
    with pytest.raises(ValueError, match="confirm must be"):
        apply_confirm(H, None, 0, D, bad)  # type: ignore[arg-type]
