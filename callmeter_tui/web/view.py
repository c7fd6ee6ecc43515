"""The page as the public sees it, derived from a PageData with the domain's rules (banner, bars,
uptime, incidents). Every output format (HTML, JSON, badges, feed) is written from this one view.

Bars are kept as numpy arrays plus the few distinct (state, seconds) cells they use, not as one
object per day: a 1,000-component page has 90,000 segments, and that many live Python objects
would trigger full garbage collections that freeze the app's event loop (the GIL is shared).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, fields
from functools import cached_property
from typing import cast

import numpy as np

from ..domain.banner import banner, banner_states
from ..domain.bars import SpanArrays, pack_spans, segment_states, state_seconds_matrix_arrays
from ..domain.health import BAD_STATES, STATE_ORDER, HealthState
from ..domain.incident_status import STATE_COMPONENT_STATUS, Impact, component_blend
from ..domain.incidents import Incident, incidents
from ..domain.isotime import iso_seconds
from ..domain.maintenance import active, maintenance_matrix
from ..domain.packed_spans import latest_codes, rows
from ..domain.page_figures import incident_runs, uptime_sums
from ..domain.public_incidents import (
    AutoRun,
    IncidentParts,
    PublicIncident,
    earliest_start,
    incidents_of,
    latest_update,
    public_incidents,
    split_incidents,
)
from ..domain.spans import HealthSpan, carve, format_uptime, uptime_ratio, uptime_text
from .maintenance_view import MaintenanceView, maintenance_views
from .snapshot import ComponentData, PageData

MAX_INCIDENTS = 50
RECENT_INCIDENTS = 50  # the most incidents a feed or API list reads (Statuspage's incidents.json: 50)
NARROW_DAYS = 30  # days the bar still shows on phone-sized screens (and its uptime figure covers)
# Components per numpy call: bounds how long one call holds the GIL when a page renders in a thread.
# Measured on a 1,000-component page: 200 a call spent 53 ms of CPU, 50 a call 65 ms, 1,000 at once 61 ms.
BAR_CHUNK = 200


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
    """Every component's daily segments: ``keys[c, i]`` indexes the distinct cells for component c, day i.
    ``table`` holds the cells as rows of numbers (see ``CELL_COLUMNS``); ``cells`` are their BarCell
    objects, made on first use (the page itself is painted from the table)."""

    starts: tuple[float, ...]  # day starts in the page's zone, oldest first
    ends: tuple[float, ...]
    table: np.ndarray  # (cells, 6) float64: STATE_ORDER index, then seconds per CELL_COLUMNS[1:]
    keys: np.ndarray  # (components, days) int

    @cached_property
    def cells(self) -> tuple[BarCell, ...]:
        return tuple(_cell(row) for row in self.table.tolist())

    def cell(self, key: int) -> BarCell:
        """One distinct cell (without making all of them)."""
        return self.cells[key] if "cells" in self.__dict__ else _cell(self.table[key].tolist())

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
        """Automatic + operator incidents, ongoing first (see domain): every one of them. The page, feed, API
        and history read the cheaper views below (``ongoing``, ``recent``, ``incidents_started``), which
        give the same incidents without making all of them."""
        return tuple(incidents_of(self._parts, _blend(self._states)))

    @cached_property
    def recent(self) -> tuple[PublicIncident, ...]:
        """``public`` as the feed and the API read it: every operator incident, and only the first
        RECENT_INCIDENTS automatic ones (so its first RECENT_INCIDENTS are ``public``'s). A 1,000-component
        page with a year of history has ~34,000 automatic incidents: making them all took 0.4 s."""
        if "public" in self.__dict__:
            return self.public
        return tuple(incidents_of(self._parts, _blend(self._states), first=RECENT_INCIDENTS))

    @cached_property
    def incidents_updated_at(self) -> float | None:
        """The latest ``updated_at`` of ``public`` (None without incidents), without making them."""
        return latest_update(self._parts)

    @cached_property
    def incidents_started_at(self) -> float | None:
        """The earliest ``started_at`` of ``public`` (None without incidents), without making them."""
        return earliest_start(self._parts)

    def incidents_started(self, lo: float, hi: float) -> tuple[PublicIncident, ...]:
        """The incidents of ``public`` that started in ``[lo, hi)``, in its order, making only those."""
        if "public" in self.__dict__:
            return tuple(i for i in self.public if lo <= i.started_at < hi)
        return tuple(incidents_of(self._parts, _blend(self._states), started=(lo, hi)))

    @cached_property
    def _parts(self) -> IncidentParts:
        """Every automatic run and the operator's incidents, split once for every list above."""
        return split_incidents(page_runs(self.data), self.data.operator_incidents)

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


@dataclass(frozen=True)
class _Measured:
    """What one pass over a page's packed spans gives: bars, uptime figures, the newest incidents."""

    bars: PageBars
    uptime: list[tuple[str | None, str | None]]  # per component: (bar window, narrow window)
    incidents: list[IncidentView]  # the newest MAX_INCIDENTS, newest first


def _newest(found: list[IncidentView]) -> list[IncidentView]:
    # heapq's loop lets the event loop in; one sort of a big page's thousands of incidents would hold the GIL.
    return heapq.nlargest(MAX_INCIDENTS, found, key=lambda i: (i.ended_at is None, i.started_at, -i.position))


def measure(data: PageData, chunk: int = BAR_CHUNK) -> _Measured:
    """Seconds per state per day and the worst-state colour rule (domain.bars), uptime (domain.spans) and
    incidents (domain.incidents) of every component, a chunk of components per numpy call
    (domain.page_figures); a component the fast reading does not fit is counted with the per-component rules."""
    b = np.asarray(data.boundaries, dtype=np.float64)
    since, since_narrow = data.boundaries[0], data.boundaries[max(0, len(data.boundaries) - 1 - NARROW_DAYS)]
    comps = data.components
    blocks, uptime, found = [], [], []
    for i in range(0, len(comps), chunk):
        some = comps[i : i + chunk]
        if data.packed is not None and not any(c.maintenance for c in some):
            packed = rows(data.packed, i, i + len(some))  # the loaded arrays themselves: nothing to carve
        else:
            packed = pack_spans([carve(c.spans, c.maintenance) for c in some])
        matrix = state_seconds_matrix_arrays(packed, b, data.now)
        maint = maintenance_matrix([c.maintenance for c in some], b, data.now)
        matrix[..., 3] = np.clip(matrix[..., 3] - maint, 0.0, None)
        codes = segment_states(matrix).astype(np.float64)
        blocks.append(np.concatenate((codes[..., None], matrix, maint[..., None]), axis=2).reshape(-1, 6))
        uptime += _uptime(data, some, packed, since, since_narrow)
        found += _incidents(some, packed)
    return _Measured(_bars(b, blocks, len(comps)), uptime, _newest(found))


def _uptime(
    data: PageData, chunk: tuple[ComponentData, ...], packed: SpanArrays, since: float, since_narrow: float
) -> list[tuple[str | None, str | None]]:
    """Uptime over the bar window and the narrow one: exact integer sums for the chunk at once, the
    per-component rule for a component with maintenance (or when the sums do not fit)."""
    wide, narrow = uptime_sums(packed, since, data.now), uptime_sums(packed, since_narrow, data.now)
    out = []
    for j, comp in enumerate(chunk):
        if wide is not None and narrow is not None and not comp.maintenance:
            out.append((_pct(wide[0][j], wide[1][j]), _pct(narrow[0][j], narrow[1][j])))
            continue
        figures = []
        for start in (since, since_narrow):
            ratio = uptime_ratio(
                comp.spans,
                start,
                data.now,
                comp.maintenance,
                maintenance_is_downtime=data.count_maintenance_as_downtime,
            )
            figures.append(format_uptime(ratio))
        out.append((figures[0], figures[1]))
    return out


def _pct(healthy: int, monitored: int) -> str | None:
    return uptime_text(healthy, monitored) if monitored > 0 else None


def _incidents(chunk: tuple[ComponentData, ...], packed: SpanArrays) -> list[IncidentView]:
    """The chunk's newest incidents: runs of all its components at once where the spans allow it."""
    runs = incident_runs(packed)
    found = []
    for comp in chunk:
        if runs is None or comp.maintenance:  # packed spans are carved: the incidents are the raw spans'
            found += [
                IncidentView(comp.name, comp.position, HealthState.parse(i.worst), i.started_at, i.ended_at)
                for i in incidents(comp.spans)
            ]
    if runs is None:
        return _newest(found)
    plain = np.array([not c.maintenance for c in chunk], dtype=bool)
    pick = np.flatnonzero(plain[runs.comp]) if len(runs.comp) else np.zeros(0, dtype=np.int64)
    rows, start, end, worst = runs.comp[pick], runs.start[pick], runs.end[pick], runs.worst[pick]
    position = np.array([c.position for c in chunk], dtype=np.int64)[rows]
    order = np.lexsort((position, -start, ~np.isnan(end)))[:MAX_INCIDENTS]
    for j in order.tolist():
        c = chunk[int(rows[j])]
        ended = None if np.isnan(end[j]) else float(end[j])
        found.append(IncidentView(c.name, c.position, STATE_ORDER[int(worst[j])], float(start[j]), ended))
    return _newest(found)


def _bars(b: np.ndarray, blocks: list[np.ndarray], components: int) -> PageBars:
    """Distinct (colour, seconds per state) cells, each rendered once, numbered in order of first appearance.

    Found by a 64-bit hash of each cell's six floats' bits (numpy arithmetic), np.unique over the hashes and
    a check that equal hashes mean equal bits (a dict of 90,000 byte strings, or np.unique(axis=0) sorting a
    void dtype, took tens of milliseconds)."""
    starts, ends = tuple(b[:-1].tolist()), tuple(b[1:].tolist())
    n_days = len(b) - 1
    if not blocks:
        return PageBars(starts, ends, np.zeros((0, len(CELL_COLUMNS))), np.zeros((0, n_days), dtype=np.int64))
    bits = np.ascontiguousarray(np.concatenate(blocks)).view(np.uint64)
    h = np.zeros(len(bits), dtype=np.uint64)
    for col in range(bits.shape[1]):
        h = (h ^ bits[:, col]) * np.uint64(0x100000001B3) + np.uint64(col + 1)
    _, first, inverse = np.unique(h, return_index=True, return_inverse=True)
    if not np.array_equal(bits[first[inverse]], bits):
        first, inverse = _distinct_rows(bits)
    order = np.argsort(first, kind="stable")  # first appearance order
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    table = bits[first[order]].view(np.float64)
    return PageBars(starts, ends, table, rank[inverse.ravel()].reshape(components, n_days))


_CELL_FIELDS = ("healthy_s", "degraded_s", "unhealthy_s", "unknown_s", "maintenance_s")
CELL_COLUMNS = ("state", *_CELL_FIELDS)  # PageBars.table's columns (state as its STATE_ORDER index)
assert tuple(f.name for f in fields(BarCell)) == CELL_COLUMNS, "BarCell's fields moved: see _cell"


def _cell(row: list[float]) -> BarCell:
    """``BarCell(STATE_ORDER[row[0]], *row[1:])`` without the frozen dataclass's init (a big page has
    thousands of distinct cells, and that init was a tenth of its render)."""
    cell = object.__new__(BarCell)
    cell.__dict__.update(zip(_CELL_FIELDS, row[1:]), state=STATE_ORDER[int(row[0])])
    return cell


def _distinct_rows(bits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first index, inverse) of equal rows without hashing (a hash collision: never seen, still handled)."""
    index: dict[bytes, int] = {}
    keys = cast(list[bytes], bits.view(np.dtype((np.void, bits.shape[1] * 8))).ravel().tolist())
    inverse = np.fromiter((index.setdefault(k, len(index)) for k in keys), dtype=np.int64, count=len(keys))
    first = np.zeros(len(index), dtype=np.int64)
    first[inverse[::-1]] = np.arange(len(keys) - 1, -1, -1)
    return first, inverse


def build_view(data: PageData) -> PageView:
    """Apply the domain rules once for every format. A component under maintenance does not spoil the
    banner (planned work is not an incident): for the banner it counts as not known."""
    states = [HealthState.parse(c.state) for c in data.components]
    in_maintenance = [active(c.maintenance, data.now) for c in data.components]
    overall, text = banner(banner_states(states, in_maintenance))
    measured = measure(data)
    comps = [
        ComponentView(
            index=index,
            position=comp.position,
            name=comp.name,
            state=state,
            uptime_pct=wide,
            uptime_pct_narrow=narrow,
            last_checked=comp.last_checked,
            created_at=comp.created_at,
            updated_at=comp.updated_at,
            under_maintenance=in_maintenance[index],
        )
        for index, (comp, state, (wide, narrow)) in enumerate(zip(data.components, states, measured.uptime))
    ]
    checked = [c.last_checked for c in data.components if c.last_checked is not None]
    return PageView(
        data=data,
        state=overall,
        banner=text,
        components=tuple(comps),
        bars=measured.bars,
        incidents=tuple(measured.incidents),
        last_checked=max(checked) if checked else None,
        maintenances=maintenance_views(data.windows, data.now),
    )


def page_runs(data: PageData) -> list[AutoRun]:
    """Every component's automatic incidents (runs over the bars and the older history)."""
    return [
        AutoRun(comp.probe_id, comp.name, inc)
        for comp in data.components
        for inc in incidents((*comp.older_bad_spans, *comp.spans))
    ]


def ongoing_incidents(data: PageData, states: list[HealthState]) -> list[PublicIncident]:
    """``PageView.public``'s ongoing ones, from the few runs that can make or change them: each component's
    ongoing run, and every run of a probe an operator incident adopts from. The same domain merge runs
    over that subset, so the result is the same (an automatic incident shows unless adopted; an operator
    incident adopts the first matching run of its probe, and all of that probe's runs are here, in order).
    """
    adopting = {op.auto_probe_id for op in data.operator_incidents if op.auto_probe_id is not None}
    latest: list[int | None] = list(data.latest)  # worked out once, by load_page
    if not latest:
        latest = latest_codes(data.packed).tolist() if data.packed is not None else [None] * len(data.components)
    runs = []
    for comp, code in zip(data.components, latest):
        if comp.probe_id in adopting:
            found = incidents((*comp.older_bad_spans, *comp.spans))
        else:
            found = ongoing_run(comp, code)
        runs += [AutoRun(comp.probe_id, comp.name, inc) for inc in found]
    found_all = public_incidents(runs, data.operator_incidents, _blend(states))
    return [i for i in found_all if i.ongoing]


def ongoing_run(comp: ComponentData, latest_code: int | None = None) -> list[Incident]:
    """The component's ongoing automatic incident (at most one), or nothing. ``latest_code``: its latest
    span's state (``STATE_ORDER`` index, -1 for none) when already read from the packed arrays."""
    if latest_code is not None and latest_code >= 0:
        bad = STATE_ORDER[latest_code] in BAD_STATES
    else:
        spans = comp.spans or comp.older_bad_spans
        bad = bool(spans) and HealthState.parse(max(spans, key=_span_order).state) in BAD_STATES
    if not bad:
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
