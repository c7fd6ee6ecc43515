"""Recurring maintenance windows (RFC 5545 RRULE via python-dateutil) expanded to UTC intervals.

Why here and not in ``domain.maintenance``: the domain is stdlib + numpy (an import contract); a recurrence
rule is operator input parsed with python-dateutil, so its parsing and expansion live with the other input
readers. The wall-clock rule is the domain's: a recurring window repeats its *wall-clock* start and length,
so a 02:00-04:00 window lasts 1 h on the spring-forward day and 3 h on the fall-back day.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import lru_cache

from dateutil.rrule import rrule, rrulestr  # type: ignore[import-untyped]

from ..domain.maintenance import (
    CANCELLED,
    COMPLETED,
    IN_PROGRESS,
    MAX_OCCURRENCES,
    SCHEDULED,
    Interval,
    MaintenanceError,
    WindowRule,
    merge,
    parse_local,
    wall_time,
    zone,
)


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
        if _recurrence(text, s, tz).after(wall_time(s, tz), inc=True) is None:
            raise MaintenanceError("rrule", f"{text!r} has no occurrences from {s}")
    return out


@lru_cache(maxsize=1024)
def _recurrence(text: str, start: str, tz: str) -> rrule:
    body = text[len("RRULE:") :] if text.upper().startswith("RRULE:") else text
    try:
        parsed = rrulestr(body, dtstart=wall_time(start, tz), forceset=False, cache=True)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise MaintenanceError("rrule", f"not an RFC 5545 RRULE ({exc}): {text!r}") from None
    if not isinstance(parsed, rrule):
        raise MaintenanceError("rrule", f"expected one RRULE, got {text!r}")
    return parsed


def _first_interval(rule: WindowRule) -> Interval:
    return Interval(wall_time(rule.start, rule.timezone).timestamp(), wall_time(rule.end, rule.timezone).timestamp())


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
    first = _recurrence(rule.rrule, rule.start, rule.timezone).after(wall_time(rule.start, rule.timezone), inc=True)
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
    for last in rec.xafter(wall_time(rule.start, rule.timezone), count=MAX_OCCURRENCES, inc=True):  # noqa: B007
        pass
    if last is None:
        return rule.cancelled_at
    end = _occurrence(last, _length(rule)).end
    return end if rule.cancelled_at is None else min(end, rule.cancelled_at)


def intervals_for(rules: Iterable[WindowRule], since: float, until: float) -> list[Interval]:
    """Merged maintenance time of several windows overlapping ``[since, until)`` (not clipped)."""
    return merge(i for r in rules for i in expand(r, since, until))


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
