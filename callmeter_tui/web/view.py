"""The page as the public sees it, derived from a PageData with the domain's rules (banner, bars,
uptime, incidents). Every output format (HTML, JSON, badges, feed) is written from this one view.

Bars are kept as numpy arrays plus the few distinct (state, seconds) cells they use, not as one
object per day: a 1,000-component page has 90,000 segments, and that many live Python objects
would trigger full garbage collections that freeze the app's event loop (the GIL is shared).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from functools import cached_property
from typing import cast

import numpy as np

from ..domain.banner import banner, banner_states
from ..domain.bars import segment_states, state_seconds_matrix
from ..domain.health import STATE_ORDER, HealthState
from ..domain.incident_status import STATE_COMPONENT_STATUS, Impact, component_blend
from ..domain.incidents import Incident, incidents
from ..domain.isotime import iso_seconds
from ..domain.maintenance import active, maintenance_matrix
from ..domain.public_incidents import AutoRun, PublicIncident, public_incidents
from ..domain.spans import HealthSpan, carve, format_uptime, uptime_ratio
from .maintenance_view import MaintenanceView, maintenance_views
from .snapshot import ComponentData, PageData

MAX_INCIDENTS = 50
NARROW_DAYS = 30  # days the bar still shows on phone-sized screens (and its uptime figure covers)
BAR_CHUNK = 50  # components per numpy call: bounds how long one call holds the GIL
_BAD = (HealthState.DEGRADED, HealthState.UNHEALTHY)


@dataclass(frozen=True)
class BarCell:
    """One distinct segment content: its colour (worst state present) and seconds per state."""

    state: HealthState
    healthy_s: float
    degraded_s: float
    unhealthy_s: float
    unknown_s: float
    maintenance_s: float = 0.0  # scheduled maintenance: not counted in the four states above

    @property
    def shows_maintenance(self) -> bool:
        """Drawn in the maintenance colour: maintenance and no monitored time outside it."""
        return self.state is HealthState.UNKNOWN and self.maintenance_s > 0


@dataclass(frozen=True)
class PageBars:
    """Every component's daily segments: ``keys[c, i]`` indexes ``cells`` for component c, day i."""

    starts: tuple[float, ...]  # day starts in the page's zone, oldest first
    ends: tuple[float, ...]
    cells: tuple[BarCell, ...]
    keys: np.ndarray  # (components, days) int

    def row(self, component_index: int) -> list[int]:
        return self.keys[component_index].tolist() if len(self.keys) else []

    def segments(self, component_index: int) -> list[tuple[float, float, BarCell]]:
        """(start, end, cell) per day: convenient for small pages and tests."""
        return [(self.starts[i], self.ends[i], self.cells[k]) for i, k in enumerate(self.row(component_index))]


@dataclass(frozen=True)
class ComponentView:
    index: int  # row in PageBars
    position: int
    name: str
    state: HealthState
    uptime_pct: str | None  # "99.86" or None with no monitored time
    uptime_pct_narrow: str | None  # the same over the last NARROW_DAYS days, the narrow screens' bar
    last_checked: float | None
    created_at: float
    updated_at: float
    under_maintenance: bool = False  # inside a scheduled maintenance window now


@dataclass(frozen=True)
class IncidentView:
    component: str
    position: int
    state: HealthState
    started_at: float
    ended_at: float | None  # None while ongoing


@dataclass(frozen=True)
class PageView:
    data: PageData
    state: HealthState
    banner: str
    components: tuple[ComponentView, ...]
    bars: PageBars
    incidents: tuple[IncidentView, ...]  # newest first
    last_checked: float | None
    maintenances: tuple[MaintenanceView, ...] = ()  # active first, then upcoming, then recently completed

    @property
    def window_days(self) -> int:
        return self.data.bar_days

    @cached_property
    def public(self) -> tuple[PublicIncident, ...]:
        """Automatic + operator incidents, ongoing first (see domain): every one of them, which only the
        history, feed and API need (built on their first request, not with the page)."""
        return tuple(page_incidents(self.data, self._states))

    @cached_property
    def ongoing(self) -> tuple[PublicIncident, ...]:
        """The ongoing ones of ``public`` (what the page shows above its components), without building
        the others (see ``ongoing_incidents``)."""
        if "public" in self.__dict__:
            return tuple(i for i in self.public if i.ongoing)
        return tuple(ongoing_incidents(self.data, self._states))

    @property
    def _states(self) -> list[HealthState]:
        return [c.state for c in self.components]


def page_bars(data: PageData) -> PageBars:
    """Seconds per state per day (domain.bars) and the worst-state colour rule (domain.bars)."""
    b = np.asarray(data.boundaries, dtype=np.float64)
    n_days = len(b) - 1
    comps = data.components
    blocks = []
    for i in range(0, len(comps), BAR_CHUNK):
        chunk = comps[i : i + BAR_CHUNK]
        matrix = state_seconds_matrix([carve(c.spans, c.maintenance) for c in chunk], b, data.now)
        maint = maintenance_matrix([c.maintenance for c in chunk], b, data.now)
        matrix[..., 3] = np.clip(matrix[..., 3] - maint, 0.0, None)
        codes = segment_states(matrix).astype(np.float64)
        blocks.append(np.concatenate((codes[..., None], matrix, maint[..., None]), axis=2).reshape(-1, 6))
    starts, ends = tuple(b[:-1].tolist()), tuple(b[1:].tolist())
    if not blocks:
        return PageBars(starts, ends, (), np.zeros((0, n_days), dtype=np.int64))
    # Distinct (colour, seconds per state) cells, each rendered once, found with a dict keyed by each row's
    # 40 raw bytes: not np.unique(axis=0), which sorts a void dtype holding the GIL (~100 ms for 1,000 x 90
    # cells, a dashboard stall), and not a tuple of six floats per row (90,000 tuples, slow to build).
    index: dict[bytes, int] = {}
    keys: list[list[bytes]] = [
        cast(list[bytes], np.ascontiguousarray(block).view(np.dtype((np.void, 48))).ravel().tolist())
        for block in blocks
    ]
    total = sum(len(block) for block in blocks)
    inverse = np.fromiter((index.setdefault(k, len(index)) for ks in keys for k in ks), dtype=np.int64, count=total)
    rows = np.frombuffer(b"".join(index), dtype=np.float64).reshape(-1, 6).tolist()
    cells = tuple(BarCell(STATE_ORDER[int(row[0])], *row[1:]) for row in rows)
    return PageBars(starts, ends, cells, inverse.reshape(len(comps), n_days))


def build_view(data: PageData) -> PageView:
    """Apply the domain rules once for every format. A component under maintenance does not spoil the
    banner (planned work is not an incident): for the banner it counts as not known."""
    states = [HealthState.parse(c.state) for c in data.components]
    in_maintenance = [active(c.maintenance, data.now) for c in data.components]
    overall, text = banner(banner_states(states, in_maintenance))
    since = data.boundaries[0]
    since_narrow = data.boundaries[max(0, len(data.boundaries) - 1 - NARROW_DAYS)]
    comps = []
    found: list[IncidentView] = []
    downtime = data.count_maintenance_as_downtime
    for index, (comp, state) in enumerate(zip(data.components, states)):
        comps.append(
            ComponentView(
                index=index,
                position=comp.position,
                name=comp.name,
                state=state,
                uptime_pct=format_uptime(
                    uptime_ratio(comp.spans, since, data.now, comp.maintenance, maintenance_is_downtime=downtime)
                ),
                uptime_pct_narrow=format_uptime(
                    uptime_ratio(comp.spans, since_narrow, data.now, comp.maintenance, maintenance_is_downtime=downtime)
                ),
                last_checked=comp.last_checked,
                created_at=comp.created_at,
                updated_at=comp.updated_at,
                under_maintenance=in_maintenance[index],
            )
        )
        for inc in incidents(comp.spans):
            found.append(
                IncidentView(comp.name, comp.position, HealthState.parse(inc.worst), inc.started_at, inc.ended_at)
            )
    # The newest MAX_INCIDENTS: heapq's loop lets the event loop in, one sort of a big page's thousands
    # of incidents would hold the GIL for milliseconds.
    newest = heapq.nlargest(MAX_INCIDENTS, found, key=lambda i: (i.ended_at is None, i.started_at, -i.position))
    checked = [c.last_checked for c in data.components if c.last_checked is not None]
    return PageView(
        data=data,
        state=overall,
        banner=text,
        components=tuple(comps),
        bars=page_bars(data),
        incidents=tuple(newest),
        last_checked=max(checked) if checked else None,
        maintenances=maintenance_views(data.windows, data.now),
    )


def page_incidents(data: PageData, states: list[HealthState]) -> list[PublicIncident]:
    """Automatic runs over the bars and the older history, merged with the operator's incidents."""
    runs = [
        AutoRun(comp.probe_id, comp.name, inc)
        for comp in data.components
        for inc in incidents((*comp.older_bad_spans, *comp.spans))
    ]
    return public_incidents(runs, data.operator_incidents, _blend(states))


def ongoing_incidents(data: PageData, states: list[HealthState]) -> list[PublicIncident]:
    """``page_incidents``' ongoing ones, from the few runs that can make or change them: each component's
    ongoing run, and every run of a probe an operator incident adopts from. The same domain merge runs
    over that subset, so the result is the same (an automatic incident shows unless adopted; an operator
    incident adopts the first matching run of its probe, and all of that probe's runs are here, in order).
    """
    adopting = {op.auto_probe_id for op in data.operator_incidents if op.auto_probe_id is not None}
    runs = []
    for comp in data.components:
        if comp.probe_id in adopting:
            found = incidents((*comp.older_bad_spans, *comp.spans))
        else:
            found = ongoing_run(comp)
        runs += [AutoRun(comp.probe_id, comp.name, inc) for inc in found]
    found_all = public_incidents(runs, data.operator_incidents, _blend(states))
    return [i for i in found_all if i.ongoing]


def ongoing_run(comp: ComponentData) -> list[Incident]:
    """The component's ongoing automatic incident (at most one), or nothing."""
    spans = comp.spans or comp.older_bad_spans
    if not spans or HealthState.parse(max(spans, key=_span_order).state) not in _BAD:
        return []
    found = incidents((*comp.older_bad_spans, *comp.spans))
    return found[:1] if found and found[0].ongoing else []


def _span_order(span: HealthSpan) -> tuple[float, float]:
    return (span.started_at, span.ended_at)


def _blend(states: list[HealthState]) -> Impact:
    return component_blend(STATE_COMPONENT_STATUS[s] for s in states if s in STATE_COMPONENT_STATUS)


def iso(ts: float | None) -> str | None:
    """ISO 8601 UTC with a Z, second precision (what JSON and Atom readers expect)."""
    return None if ts is None else iso_seconds(ts)
