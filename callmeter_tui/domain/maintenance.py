"""Scheduled maintenance windows: one-off or recurring (RFC 5545 RRULE), expanded to UTC intervals.

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
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from dateutil.rrule import rrule, rrulestr  # type: ignore[import-untyped]

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


def _wall(text: str, tz: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone(tz))


def make_rule(start: str, end: str, tz: str, rule: str | None = None) -> WindowRule:
    """A validated WindowRule from operator input (CLI, config, dashboard form); raises MaintenanceError
    naming the key: an end not after the start, a rule that cannot be read or never occurs."""
    zone(tz)
    s, e = parse_local(start, tz, "start"), parse_local(end, tz, "end")
    text = (rule or "").strip() or None
    out = WindowRule(s, e, tz, text)
    first = _first_interval(out)
    if first.end <= first.start:
        raise MaintenanceError("end", f"the window ends ({e}) before it starts ({s})")
    if text is not None:
        if "DTSTART" in text.upper():
            raise MaintenanceError("rrule", "must not contain DTSTART (the window's start is the first occurrence)")
        if _recurrence(text, s, tz).after(_wall(s, tz), inc=True) is None:
            raise MaintenanceError("rrule", f"{text!r} has no occurrences from {s}")
    return out


@lru_cache(maxsize=1024)
def _recurrence(text: str, start: str, tz: str) -> rrule:
    body = text[len("RRULE:") :] if text.upper().startswith("RRULE:") else text
    try:
        parsed = rrulestr(body, dtstart=_wall(start, tz), forceset=False, cache=True)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise MaintenanceError("rrule", f"not an RFC 5545 RRULE ({exc}): {text!r}") from None
    if not isinstance(parsed, rrule):
        raise MaintenanceError("rrule", f"expected one RRULE, got {text!r}")
    return parsed


def _first_interval(rule: WindowRule) -> Interval:
    return Interval(_wall(rule.start, rule.timezone).timestamp(), _wall(rule.end, rule.timezone).timestamp())


def _length(rule: WindowRule) -> timedelta:
    return datetime.fromisoformat(rule.end) - datetime.fromisoformat(rule.start)


def _occurrence(start: datetime, length: timedelta) -> Interval:
    """An occurrence starting at wall-clock ``start``: its end is the same wall-clock length later."""
    end = (start.replace(tzinfo=None) + length).replace(tzinfo=start.tzinfo)
    return Interval(start.timestamp(), end.timestamp())


def _cut(found: Interval, cancelled_at: float | None) -> Interval | None:
    if cancelled_at is None or found.end <= cancelled_at:
        return found
    if found.start >= cancelled_at:
        return None
    return Interval(found.start, cancelled_at)


def expand(rule: WindowRule, since: float, until: float) -> list[Interval]:
    """The rule's occurrences that overlap ``[since, until)``, oldest first (not clipped)."""
    if until <= since:
        return []
    if rule.rrule is None:
        found = [_first_interval(rule)]
    else:
        length = _length(rule)
        z = zone(rule.timezone)
        # Wall-clock length plus a DST shift at most: an occurrence starting this early may still reach `since`.
        lo = datetime.fromtimestamp(since, z) - length - timedelta(hours=3)
        hi = datetime.fromtimestamp(until, z)
        found = []
        for start in _recurrence(rule.rrule, rule.start, rule.timezone).xafter(lo, count=MAX_OCCURRENCES, inc=True):
            if start > hi:
                break
            found.append(_occurrence(start, length))
    out = []
    for i in found:
        cut = _cut(i, rule.cancelled_at)
        if cut is not None and cut.end > since and cut.start < until and cut.end > cut.start:
            out.append(cut)
    return out


def next_occurrences(rule: WindowRule, now: float, n: int = 1) -> list[Interval]:
    """The next ``n`` occurrences not yet over at ``now`` (the current one first, if any)."""
    if rule.rrule is None:
        return expand(rule, now, float("inf"))[:n] if n > 0 else []
    length = _length(rule)
    z = zone(rule.timezone)
    lo = datetime.fromtimestamp(now, z) - length - timedelta(hours=3)
    out: list[Interval] = []
    for start in _recurrence(rule.rrule, rule.start, rule.timezone).xafter(lo, count=MAX_OCCURRENCES, inc=True):
        cut = _cut(_occurrence(start, length), rule.cancelled_at)
        if cut is None:
            break
        if cut.end > now and cut.end > cut.start:
            out.append(cut)
            if len(out) >= n:
                break
    return out


def first_start(rule: WindowRule) -> float:
    """When the rule's first occurrence starts (the wall-clock start, resolved in its zone)."""
    if rule.rrule is None:
        return _first_interval(rule).start
    first = _recurrence(rule.rrule, rule.start, rule.timezone).after(_wall(rule.start, rule.timezone), inc=True)
    return _first_interval(rule).start if first is None else first.timestamp()


def last_end(rule: WindowRule) -> float | None:
    """When the rule's last occurrence ends; None for a rule without end (no COUNT/UNTIL, not cancelled)."""
    if rule.rrule is None:
        cut = _cut(_first_interval(rule), rule.cancelled_at)
        return None if cut is None else cut.end
    rec = _recurrence(rule.rrule, rule.start, rule.timezone)
    if rec._count is None and rec._until is None:  # dateutil exposes no public accessor for these
        return rule.cancelled_at
    last = None
    for last in rec.xafter(_wall(rule.start, rule.timezone), count=MAX_OCCURRENCES, inc=True):  # noqa: B007
        pass
    if last is None:
        return rule.cancelled_at
    end = _occurrence(last, _length(rule)).end
    return end if rule.cancelled_at is None else min(end, rule.cancelled_at)


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


def intervals_for(rules: Iterable[WindowRule], since: float, until: float) -> list[Interval]:
    """Merged maintenance time of several windows overlapping ``[since, until)`` (not clipped)."""
    return merge(i for r in rules for i in expand(r, since, until))


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


def window_status(rule: WindowRule, now: float) -> str:
    """Statuspage's maintenance status at ``now`` (scheduled | in_progress | completed), or cancelled for
    a window cancelled before it ever started."""
    upcoming = next_occurrences(rule, now)
    if upcoming and upcoming[0].start <= now:
        return IN_PROGRESS
    if upcoming:
        return SCHEDULED
    if rule.cancelled_at is not None and first_start(rule) >= rule.cancelled_at:
        return CANCELLED
    return COMPLETED
