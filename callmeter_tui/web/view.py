"""The page as the public sees it, derived from a PageData with the domain's rules (banner, bars,
uptime, incidents). Every output format (HTML, JSON, badges, feed) is written from this one view."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from ..domain.banner import banner
from ..domain.bars import bar_segments_many
from ..domain.health import HealthState
from ..domain.incidents import incidents
from ..domain.spans import format_uptime, uptime_ratio
from .snapshot import PageData

MAX_INCIDENTS = 50


@dataclass(frozen=True)
class ComponentView:
    position: int
    name: str
    state: HealthState
    uptime_pct: str | None           # "99.86" or None with no monitored time
    segments: tuple[object, ...]     # domain.bars.BarSegment, oldest first
    last_checked: float | None
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class IncidentView:
    component: str
    position: int
    state: HealthState
    started_at: float
    ended_at: float | None           # None while ongoing


@dataclass(frozen=True)
class PageView:
    data: PageData
    state: HealthState
    banner: str
    components: tuple[ComponentView, ...]
    incidents: tuple[IncidentView, ...]  # newest first
    last_checked: float | None

    @property
    def window_days(self) -> int:
        return self.data.bar_days


def build_view(data: PageData) -> PageView:
    """Apply the domain rules once for every format."""
    states = [HealthState.parse(c.state) for c in data.components]
    overall, text = banner(states)
    segments = bar_segments_many([list(c.spans) for c in data.components], list(data.boundaries), data.now)
    since = data.boundaries[0]
    comps = []
    found: list[IncidentView] = []
    for comp, state, segs in zip(data.components, states, segments):
        comps.append(
            ComponentView(
                position=comp.position,
                name=comp.name,
                state=state,
                uptime_pct=format_uptime(uptime_ratio(list(comp.spans), since, data.now)),
                segments=tuple(segs),
                last_checked=comp.last_checked,
                created_at=comp.created_at,
                updated_at=comp.updated_at,
            )
        )
        for inc in incidents(list(comp.spans)):
            if inc.ended_at is not None and inc.ended_at < since:
                continue
            found.append(
                IncidentView(comp.name, comp.position, HealthState.parse(inc.worst), inc.started_at, inc.ended_at)
            )
    found.sort(key=lambda i: (i.ended_at is None, i.started_at, -i.position), reverse=True)
    checked = [c.last_checked for c in data.components if c.last_checked is not None]
    return PageView(
        data=data,
        state=overall,
        banner=text,
        components=tuple(comps),
        incidents=tuple(found[:MAX_INCIDENTS]),
        last_checked=max(checked) if checked else None,
    )


def iso(ts: float | None) -> str | None:
    """ISO 8601 UTC with a Z, second precision (what JSON and Atom readers expect)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
