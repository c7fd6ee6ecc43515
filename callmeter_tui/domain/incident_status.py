"""Operator incidents as Atlassian Statuspage models them, and Statuspage's page-indicator rule.

Why a second incident kind: automatic incidents (``domain.incidents``) say *that* something was wrong;
an operator incident says *what* and *what is being done*: a title, an impact, the affected components
with the status the operator sets, and timestamped updates (investigating -> identified -> monitoring
-> resolved), optionally a postmortem. An operator can also adopt an automatic incident (give it a title
and updates): it is then one incident with the automatic one's times.

Two rules for the overall status live side by side on purpose: our banner keeps the documented rule
(``domain.banner``: worst component state), while ``status.indicator`` in the Statuspage-shaped JSON
follows Statuspage's rule (worst of the unresolved incidents' impacts and the component blend), because
that is what Statuspage's consumers (exporters, widgets) read.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from .health import HealthState


class IncidentStatus(enum.StrEnum):
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Impact(enum.StrEnum):
    """Statuspage's impact, also its page indicator (plus ``maintenance``, which is not an impact)."""

    NONE = "none"
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _IMPACT_ORDER.index(self)

    @property
    def label(self) -> str:
        return _IMPACT_LABEL[self]


_IMPACT_ORDER = (Impact.NONE, Impact.MINOR, Impact.MAJOR, Impact.CRITICAL)
_IMPACT_LABEL = {
    Impact.NONE: "No impact",
    Impact.MINOR: "Minor impact",
    Impact.MAJOR: "Major impact",
    Impact.CRITICAL: "Critical impact",
}


class ComponentStatus(enum.StrEnum):
    """Statuspage's component statuses (``under_maintenance`` is set by scheduled maintenance)."""

    OPERATIONAL = "operational"
    DEGRADED_PERFORMANCE = "degraded_performance"
    PARTIAL_OUTAGE = "partial_outage"
    MAJOR_OUTAGE = "major_outage"
    UNDER_MAINTENANCE = "under_maintenance"

    @property
    def rank(self) -> int:
        return _COMPONENT_RANK[self]

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


_COMPONENT_RANK = {
    ComponentStatus.OPERATIONAL: 0,
    ComponentStatus.UNDER_MAINTENANCE: 1,
    ComponentStatus.DEGRADED_PERFORMANCE: 2,
    ComponentStatus.PARTIAL_OUTAGE: 3,
    ComponentStatus.MAJOR_OUTAGE: 4,
}

# A probe's confirmed state as a Statuspage component status. UNKNOWN has none: a component with no
# result yet is left out of Statuspage's component lists rather than claimed operational.
STATE_COMPONENT_STATUS: dict[HealthState, ComponentStatus] = {
    HealthState.HEALTHY: ComponentStatus.OPERATIONAL,
    HealthState.DEGRADED: ComponentStatus.DEGRADED_PERFORMANCE,
    HealthState.UNHEALTHY: ComponentStatus.MAJOR_OUTAGE,
}

# What an operator's impact suggests for an affected component when they name no status.
IMPACT_COMPONENT_STATUS = {
    Impact.NONE: ComponentStatus.OPERATIONAL,
    Impact.MINOR: ComponentStatus.DEGRADED_PERFORMANCE,
    Impact.MAJOR: ComponentStatus.PARTIAL_OUTAGE,
    Impact.CRITICAL: ComponentStatus.MAJOR_OUTAGE,
}

_STATE_IMPACT = {HealthState.DEGRADED: Impact.MINOR, HealthState.UNHEALTHY: Impact.MAJOR}

# Statuspage's own wording of each indicator, used when an incident sets the indicator above what the
# components say (otherwise the description is our banner, so consumers show what our page shows).
INDICATOR_DESCRIPTION = {
    Impact.NONE: "All Systems Operational",
    Impact.MINOR: "Minor Service Outage",
    Impact.MAJOR: "Partial System Outage",
    Impact.CRITICAL: "Major System Outage",
}


def parse_choice(enum_type: type[enum.StrEnum], key: str, value: str) -> enum.StrEnum:
    """``enum_type(value)`` or a ValueError naming ``key`` and the accepted spellings."""
    try:
        return enum_type(value.strip().lower())
    except ValueError:
        allowed = " | ".join(m.value for m in enum_type)
        raise ValueError(f"{key}: {value!r} is not one of {allowed}") from None


@dataclass(frozen=True)
class AffectedComponent:
    probe_id: int
    name: str
    status: ComponentStatus


@dataclass(frozen=True)
class IncidentUpdate:
    id: int
    status: IncidentStatus
    body: str
    created_at: float


@dataclass(frozen=True)
class OperatorIncident:
    """An incident as stored; ``auto_probe_id``/``auto_started_at`` set when it adopts an automatic one."""

    id: int
    page_slug: str
    title: str
    impact: Impact
    status: IncidentStatus
    created_at: float
    updated_at: float
    resolved_at: float | None
    components: tuple[AffectedComponent, ...]
    updates: tuple[IncidentUpdate, ...]  # oldest first
    postmortem: str | None = None
    auto_probe_id: int | None = None
    auto_started_at: float | None = None

    @property
    def ongoing(self) -> bool:
        return self.status is not IncidentStatus.RESOLVED

    @property
    def latest(self) -> IncidentUpdate | None:
        return self.updates[-1] if self.updates else None


def state_impact(state: HealthState, page_blend: Impact) -> Impact:
    """The impact of an automatic incident in ``state``: degraded is minor, unhealthy major, and an
    unhealthy component on a page where every component is down shares the page's critical blend."""
    impact = _STATE_IMPACT.get(state, Impact.NONE)
    if state is HealthState.UNHEALTHY and page_blend is Impact.CRITICAL:
        return Impact.CRITICAL
    return impact


def component_blend(statuses: Iterable[ComponentStatus]) -> Impact:
    """Statuspage's blend of component statuses: degraded or partial -> minor, some major outage ->
    major, every component in major outage -> critical."""
    listed = list(statuses)
    if not listed:
        return Impact.NONE
    if all(s is ComponentStatus.MAJOR_OUTAGE for s in listed):
        return Impact.CRITICAL
    if any(s is ComponentStatus.MAJOR_OUTAGE for s in listed):
        return Impact.MAJOR
    if any(s in (ComponentStatus.DEGRADED_PERFORMANCE, ComponentStatus.PARTIAL_OUTAGE) for s in listed):
        return Impact.MINOR
    return Impact.NONE


def page_indicator(statuses: Iterable[ComponentStatus], unresolved: Iterable[Impact]) -> tuple[Impact, bool]:
    """Statuspage's ``status.indicator``: the worst of the component blend and the unresolved incidents'
    impacts. The flag says whether an incident (not the components) set it."""
    blend = component_blend(statuses)
    worst_incident = max(unresolved, key=lambda i: i.rank, default=Impact.NONE)
    if worst_incident.rank > blend.rank:
        return worst_incident, True
    return blend, False


def worse_component_status(a: ComponentStatus, b: ComponentStatus | None) -> ComponentStatus:
    return a if b is None or a.rank >= b.rank else b
