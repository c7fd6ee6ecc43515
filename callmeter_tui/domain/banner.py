"""The banner rule: one overall line for a set of components (page, TUI header, JSON)."""

from __future__ import annotations

from collections.abc import Iterable

from .health import HealthState

ALL_OPERATIONAL = "All Systems Operational"
PARTIAL_DEGRADATION = "Partial Degradation"
MAJOR_ISSUES = "Major Issues Detected"
STATUS_PENDING = "Status Pending"


def overall_state(states: Iterable[HealthState]) -> HealthState:
    """Worst known state; UNKNOWN only when nothing is known (UNKNOWN never spoils HEALTHY)."""
    states = list(states)
    if HealthState.UNHEALTHY in states:
        return HealthState.UNHEALTHY
    if HealthState.DEGRADED in states:
        return HealthState.DEGRADED
    if HealthState.HEALTHY in states:
        return HealthState.HEALTHY
    return HealthState.UNKNOWN


_TEXT = {
    HealthState.HEALTHY: ALL_OPERATIONAL,
    HealthState.DEGRADED: PARTIAL_DEGRADATION,
    HealthState.UNHEALTHY: MAJOR_ISSUES,
    HealthState.UNKNOWN: STATUS_PENDING,
}


def banner(states: Iterable[HealthState]) -> tuple[HealthState, str]:
    """(overall state, banner text) for the given component states."""
    state = overall_state(states)
    return state, _TEXT[state]


def banner_states(states: Iterable[HealthState], under_maintenance: Iterable[bool]) -> list[HealthState]:
    """The banner rule's input: a component inside a scheduled maintenance window counts as not known,
    so planned work never spoils the banner (its own row says "Under maintenance")."""
    return [HealthState.UNKNOWN if m else s for s, m in zip(states, under_maintenance, strict=True)]
