"""Scheduled maintenance windows: the window as written, UTC intervals, and the interval rules.

Expanding a recurring window (RFC 5545 RRULE, python-dateutil) is ``config.recurrence``: the domain stays
stdlib + numpy.

Why here, pure: the page, the uptime rule, the webhooks and the SLA report all ask "was this component
under planned maintenance between a and b?"; they must all get the same answer from the same rule.

A window is written in the page's IANA zone as wall-clock times. A recurring window repeats its
*wall-clock* start and length: a 02:00-04:00 local window lasts what the wall clock says, so 1 h on
the spring-forward day (02:00-03:00 does not exist) and 3 h on the fall-back day (02:00-03:00 happens
twice). A one-off window is the two instants it names. A start inside a DST gap resolves like
``day_boundaries`` does (fold=0: the offset in force before the change).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

MAX_OCCURRENCES = 100_000  # an expansion never walks further (a per-minute rule over years)
UNDER_MAINTENANCE = "Under maintenance"


class MaintenanceError(ValueError):
    """Bad window input; ``key`` names the field (start, end, rrule, timezone)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message


@dataclass(frozen=True)
class WindowRule:
    """A window as the operator wrote it: wall-clock start and end in ``timezone``, optional RRULE.

    ``start``/``end`` are naive ISO 8601 wall-clock strings ("2026-10-25T02:00:00") so the stored
    form never depends on an offset guessed at scheduling time."""

    start: str
    end: str
    timezone: str
    rrule: str | None = None
    cancelled_at: float | None = None  # occurrences are cut at this instant (what already happened stays)


@dataclass(frozen=True)
class MaintenanceSpec:
    """A ``[[maintenance]]`` table of the config file (validated)."""

    page: str
    component: str
    title: str
    start: str
    end: str
    rrule: str | None = None


@dataclass(frozen=True)
class Interval:
    """``[start, end)`` in UTC epoch seconds."""

    start: float
    end: float

    @property
    def duration(self) -> float:
        return max(0.0, self.end - self.start)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise MaintenanceError("timezone", f"unknown IANA time zone {name!r} (e.g. 'Europe/Berlin')") from None


def parse_local(text: str, tz: str, key: str) -> str:
    """ISO 8601 text -> naive wall-clock ISO in ``tz``. Text with an offset (or Z) is converted; text
    without one is already wall-clock time in ``tz``."""
    try:
        dt = datetime.fromisoformat(str(text).strip().replace("z", "Z"))
    except ValueError:
        raise MaintenanceError(key, f"expected an ISO 8601 date-time like 2026-10-25T02:00, got {text!r}") from None
    if dt.tzinfo is not None:
        dt = dt.astimezone(zone(tz)).replace(tzinfo=None)
    return dt.replace(microsecond=0).isoformat()


def wall_time(text: str, tz: str) -> datetime:
    """A stored naive wall-clock ISO text as an aware datetime in ``tz``."""
    return datetime.fromisoformat(text).replace(tzinfo=zone(tz))


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Union of intervals, sorted, overlapping or touching ones joined."""
    out: list[Interval] = []
    for i in sorted((i for i in intervals if i.end > i.start), key=lambda i: i.start):
        if out and i.start <= out[-1].end:
            if i.end > out[-1].end:
                out[-1] = Interval(out[-1].start, i.end)
        else:
            out.append(i)
    return out


def active(intervals: Sequence[Interval], at: float) -> bool:
    """Whether ``at`` falls inside one of the merged, sorted ``intervals``."""
    j = bisect.bisect_right([i.start for i in intervals], at) - 1
    return j >= 0 and intervals[j].start <= at < intervals[j].end


def maintenance_matrix(
    per_component: Sequence[Sequence[Interval]], boundaries: Sequence[float] | np.ndarray, now: float
) -> np.ndarray:
    """(C, N) maintenance seconds per component and segment (bar day or hour), counted up to ``now``."""
    b = np.asarray(boundaries, dtype=np.float64)
    out = np.zeros((len(per_component), len(b) - 1), dtype=np.float64)
    lo, hi = b[:-1], np.minimum(b[1:], now)
    for c, intervals in enumerate(per_component):
        for iv in intervals:
            out[c] += np.clip(np.minimum(hi, iv.end) - np.maximum(lo, iv.start), 0.0, None)
    return out


def overlap_seconds(intervals: Iterable[Interval], start: float, end: float) -> float:
    """Seconds of the merged ``intervals`` inside ``[start, end)``."""
    return sum(max(0.0, min(i.end, end) - max(i.start, start)) for i in merge(intervals))


SCHEDULED, IN_PROGRESS, COMPLETED, CANCELLED = "scheduled", "in_progress", "completed", "cancelled"
