"""Scheduled maintenance as the page shows it: one entry per window with its current or next occurrence
(or, once over, its last one) and Statuspage's status word. Every output format reads these."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..config.recurrence import expand, next_occurrences, window_status
from ..domain.maintenance import CANCELLED, COMPLETED, IN_PROGRESS
from ..store.maintenance import WindowView

_ORDER = {IN_PROGRESS: 0, "scheduled": 1, COMPLETED: 2}


@dataclass(frozen=True)
class MaintenanceView:
    id: int
    title: str
    component: str
    probe_id: int
    status: str  # scheduled | in_progress | completed (Statuspage's words)
    start: float  # the occurrence shown: current, next, or last
    end: float
    rrule: str | None
    created_at: float
    updated_at: float

    @property
    def active(self) -> bool:
        return self.status == IN_PROGRESS

    @property
    def upcoming(self) -> bool:
        return self.status == "scheduled"


def _one(w: WindowView, now: float) -> MaintenanceView | None:
    status = window_status(w.rule, now)
    if status == CANCELLED:
        return None
    nxt = next_occurrences(w.rule, now)
    if nxt:
        shown = nxt[0]
    else:
        past = expand(w.rule, w.starts_at - 1.0, now)
        if not past:
            return None
        shown = past[-1]
    return MaintenanceView(
        id=w.id,
        title=w.title,
        component=w.component,
        probe_id=w.probe_id,
        status=status,
        start=shown.start,
        end=shown.end,
        rrule=w.rule.rrule,
        created_at=w.created_at,
        updated_at=w.updated_at,
    )


def maintenance_views(windows: Iterable[WindowView], now: float) -> tuple[MaintenanceView, ...]:
    """Active first, then upcoming (soonest first), then completed (latest first)."""
    found = [v for v in (_one(w, now) for w in windows) if v is not None]
    found.sort(key=lambda v: (_ORDER[v.status], -v.end if v.status == COMPLETED else v.start, v.id))
    return tuple(found)
