"""One list of the incidents a page tells the public about: automatic ones (health runs) and operator ones.

Why merged here, once: the page, the history, the Atom feed and the Statuspage JSON must agree on what
is ongoing, its impact and its words. An operator incident that adopted an automatic one replaces it (the
automatic times, the operator's title, impact and updates). Every incident and every update has a stable
id: ``op-<id>`` / ``auto-<probe>-<start>`` for incidents, the update's row id (or ``start``/``end`` for an
automatic incident's own two updates), so feed readers and Statuspage consumers never see duplicates.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .health import HealthState
from .incident_status import (
    STATE_COMPONENT_STATUS,
    AffectedComponent,
    ComponentStatus,
    Impact,
    IncidentStatus,
    OperatorIncident,
    state_impact,
)
from .incidents import Incident

ADOPT_TOLERANCE_S = 1.0  # an adopted run's start as stored vs as recomputed from spans


@dataclass(frozen=True)
class PublicUpdate:
    key: str  # stable within its incident
    status: IncidentStatus
    body: str
    at: float


@dataclass(frozen=True)
class PublicIncident:
    key: str  # stable id: "op-12" or "auto-3-1763812800"
    title: str
    impact: Impact
    status: IncidentStatus
    started_at: float
    updated_at: float
    resolved_at: float | None
    components: tuple[AffectedComponent, ...]
    updates: tuple[PublicUpdate, ...]  # oldest first
    automatic: bool  # from health spans, with no operator words
    state: HealthState | None = None  # the worst health seen, for automatic runs
    postmortem: str | None = None
    operator_id: int | None = None

    @property
    def ongoing(self) -> bool:
        return self.status is not IncidentStatus.RESOLVED

    @property
    def latest(self) -> PublicUpdate | None:
        return self.updates[-1] if self.updates else None


@dataclass(frozen=True)
class AutoRun:
    """An automatic incident and the component it happened to."""

    probe_id: int
    component: str
    incident: Incident


def auto_key(probe_id: int, started_at: float) -> str:
    return f"auto-{probe_id}-{int(started_at)}"


def _auto_updates(run: AutoRun) -> tuple[PublicUpdate, ...]:
    inc, name = run.incident, run.component
    state = inc.worst.label.lower()
    first = PublicUpdate(
        "start", IncidentStatus.INVESTIGATING, f"{name} is {state} (detected automatically).", inc.started_at
    )
    if inc.ended_at is None:
        return (first,)
    return first, PublicUpdate("end", IncidentStatus.RESOLVED, f"{name} is healthy again.", inc.ended_at)


def _automatic(run: AutoRun, blend: Impact) -> PublicIncident:
    inc = run.incident
    status = STATE_COMPONENT_STATUS.get(inc.worst, ComponentStatus.MAJOR_OUTAGE)
    updates = _auto_updates(run)
    return PublicIncident(
        key=auto_key(run.probe_id, inc.started_at),
        title=f"{run.component}: {inc.worst.label}",
        impact=state_impact(inc.worst, blend) if inc.ongoing else state_impact(inc.worst, Impact.NONE),
        status=IncidentStatus.INVESTIGATING if inc.ongoing else IncidentStatus.RESOLVED,
        started_at=inc.started_at,
        updated_at=updates[-1].at,
        resolved_at=inc.ended_at,
        components=(AffectedComponent(run.probe_id, run.component, status),),
        updates=updates,
        automatic=True,
        state=inc.worst,
    )


def _operator(op: OperatorIncident, run: AutoRun | None) -> PublicIncident:
    updates = tuple(PublicUpdate(str(u.id), u.status, u.body, u.created_at) for u in op.updates)
    started = op.created_at
    components = op.components
    state = None
    if run is not None:
        updates = _auto_updates(run)[:1] + updates
        started = run.incident.started_at
        state = run.incident.worst
        if not components:
            status = STATE_COMPONENT_STATUS.get(run.incident.worst, ComponentStatus.MAJOR_OUTAGE)
            components = (AffectedComponent(run.probe_id, run.component, status),)
    return PublicIncident(
        key=f"op-{op.id}",
        title=op.title,
        impact=op.impact,
        status=op.status,
        started_at=started,
        updated_at=max(op.updated_at, updates[-1].at if updates else op.updated_at),
        resolved_at=op.resolved_at,
        components=components,
        updates=updates,
        automatic=False,
        state=state,
        postmortem=op.postmortem,
        operator_id=op.id,
    )


def _adopted(op: OperatorIncident, runs: Sequence[AutoRun]) -> AutoRun | None:
    if op.auto_probe_id is None or op.auto_started_at is None:
        return None
    for run in runs:
        if run.probe_id == op.auto_probe_id and abs(run.incident.started_at - op.auto_started_at) <= ADOPT_TOLERANCE_S:
            return run
    return None


@dataclass(frozen=True)
class IncidentParts:
    """A page's incidents before any automatic one is made: the operator's (each with the run it adopts,
    made: they are few) and the runs that stay automatic incidents. Split once, read by every list."""

    operator: tuple[PublicIncident, ...]
    automatic: tuple[AutoRun, ...]


def split_incidents(runs: Iterable[AutoRun], operator: Iterable[OperatorIncident]) -> IncidentParts:
    runs = list(runs)
    adopted: set[str] = set()
    found: list[PublicIncident] = []
    for op in operator:
        run = _adopted(op, runs)
        if run is not None:
            adopted.add(auto_key(run.probe_id, run.incident.started_at))
        found.append(_operator(op, run))
    if adopted:
        runs = [run for run in runs if auto_key(run.probe_id, run.incident.started_at) not in adopted]
    return IncidentParts(tuple(found), tuple(runs))


def public_incidents(
    runs: Iterable[AutoRun], operator: Iterable[OperatorIncident], blend: Impact = Impact.NONE
) -> list[PublicIncident]:
    """Every incident of a page, ongoing first, then newest first. ``blend`` is the page's component blend
    (an unhealthy component's incident is critical when the whole page is down)."""
    return incidents_of(split_incidents(runs, operator), blend)


def incidents_of(
    parts: IncidentParts,
    blend: Impact = Impact.NONE,
    *,
    first: int | None = None,
    started: tuple[float, float] | None = None,
) -> list[PublicIncident]:
    """``public_incidents`` of the split ``parts``. ``first``: every operator incident but only the
    ``first`` automatic ones that come first, so the list's first ``first`` are the whole list's: a feed
    or an API lists 50 of a year's tens of thousands (made at ~12 us each). ``started``: only those that
    started in ``[lo, hi)`` (a page of the history), the others never made."""
    found, free = list(parts.operator), list(parts.automatic)
    if started is not None:
        lo, hi = started
        found = [i for i in found if lo <= i.started_at < hi]
        free = [r for r in free if lo <= r.incident.started_at < hi]
    if first is not None:
        free = heapq.nsmallest(first, free, key=_run_order)
    found += [_automatic(run, blend) for run in free]
    found.sort(key=_order)
    return found


def latest_update(parts: IncidentParts) -> float | None:
    """The latest ``updated_at`` of the incidents of ``parts``, without making the automatic ones (theirs
    is their end, or their start while ongoing); None when there are none."""
    times = [i.updated_at for i in parts.operator]
    times += [r.incident.started_at if r.incident.ended_at is None else r.incident.ended_at for r in parts.automatic]
    return max(times, default=None)


def earliest_start(parts: IncidentParts) -> float | None:
    """The earliest ``started_at`` of the incidents of ``parts``, without making the automatic ones; None
    when there are none."""
    starts = [i.started_at for i in parts.operator] + [r.incident.started_at for r in parts.automatic]
    return min(starts, default=None)


def _order(i: PublicIncident) -> tuple[bool, float, str]:
    return (not i.ongoing, -i.started_at, i.key)


def _run_order(run: AutoRun) -> tuple[bool, float, str]:
    """``_order`` of the automatic incident ``run`` becomes, without making it."""
    inc = run.incident
    return (not inc.ongoing, -inc.started_at, auto_key(run.probe_id, inc.started_at))
