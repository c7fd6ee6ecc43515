"""Health states and the "worst of" order every view uses."""

from __future__ import annotations

import enum
from collections.abc import Iterable


class HealthState(enum.StrEnum):
    """A probe's (or component's) health. The value is the wire/DB spelling."""

    HEALTHY = "HEALTHY"
    DEGRADED = "DEGRADED"
    UNHEALTHY = "UNHEALTHY"
    UNKNOWN = "UNKNOWN"

    @property
    def severity(self) -> int:
        """Rank for "worst of": UNHEALTHY > DEGRADED > HEALTHY > UNKNOWN."""
        return _SEVERITY[self]

    @property
    def label(self) -> str:
        """Human text: "Healthy", "Degraded", ..."""
        return self.value.capitalize()

    @classmethod
    def parse(cls, value: str | HealthState) -> HealthState:
        if isinstance(value, HealthState):
            return value
        known = _BY_VALUE.get(value)
        return known if known is not None else cls(str(value).upper())


_BY_VALUE = {state.value: state for state in HealthState}  # parse without Enum's slow lookup (hot on pages)

_SEVERITY = {
    HealthState.UNKNOWN: 0,
    HealthState.HEALTHY: 1,
    HealthState.DEGRADED: 2,
    HealthState.UNHEALTHY: 3,
}

# Index order used by numpy arrays of state seconds (see domain.spans).
STATE_ORDER: tuple[HealthState, ...] = (
    HealthState.HEALTHY,
    HealthState.DEGRADED,
    HealthState.UNHEALTHY,
    HealthState.UNKNOWN,
)


# The states an automatic incident is made of (and downtime counted against uptime): defined here once.
BAD_STATES: tuple[HealthState, ...] = (HealthState.DEGRADED, HealthState.UNHEALTHY)


def worst(states: Iterable[HealthState]) -> HealthState:
    """The most severe state; UNKNOWN for an empty collection."""
    result = HealthState.UNKNOWN
    for state in states:
        if state.severity > result.severity:
            result = state
    return result


def notifies(previous: HealthState | None, current: HealthState) -> bool:
    """Whether a transition fires notifications: every change, never same -> same.

    ``previous is None`` means the probe has no recorded state yet (first result ever):
    that is a change from UNKNOWN.
    """
    return (previous or HealthState.UNKNOWN) != current
