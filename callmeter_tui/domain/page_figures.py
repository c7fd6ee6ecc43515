"""A whole page's per-component figures at once, from packed spans (``bars.SpanArrays``): exact uptime sums
and automatic incident runs. The same rules as ``spans.uptime_ratio`` and ``incidents.incidents``, in numpy.

Why: a 1,000-component page applied those rules one component at a time in Python, and that was most of
its render. Both functions here answer None (the caller then uses the per-component rules) whenever the
fast reading might differ from the exact one: bounds that are not multiples of one common binary unit
(uptime), or spans that overlap or are out of order (incidents).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .bars import SpanArrays, resolved_spans, same_component
from .health import STATE_ORDER, HealthState

UNIT_BITS = 22  # epoch seconds since 2004 (>= 2**30) are all multiples of 2**-22: exact as integers of that unit
_MAX_UNITS = 2.0**62
_HEALTHY, _DEGRADED, _UNHEALTHY = (STATE_ORDER.index(s) for s in STATE_ORDER[:3])
assert STATE_ORDER[:3] == (HealthState.HEALTHY, HealthState.DEGRADED, HealthState.UNHEALTHY)


def uptime_sums(packed: SpanArrays, start: float, end: float) -> tuple[list[int], list[int]] | None:
    """Per component, (healthy, monitored) time in ``[start, end)`` as exact integers of one unit, overlaps
    resolved first-started-wins (as ``spans.uptime_ratio`` counts them: its ratio is healthy / monitored).
    None when a bound is not a whole number of units (then count with ``spans.uptime_ratio``)."""
    n = packed.components
    s, e, k = resolved_spans(packed)
    s, e = np.maximum(s, start), np.minimum(e, end)
    comp = np.repeat(np.arange(n, dtype=np.int64), np.diff(packed.offsets))
    keep = (e > s) & (k <= _UNHEALTHY)
    s, e, k, comp = s[keep], e[keep], k[keep], comp[keep]
    unit = 2.0**UNIT_BITS
    a, b = s * unit, e * unit  # exact: a power of two
    if len(a) and not (np.array_equal(a, np.rint(a)) and np.array_equal(b, np.rint(b)) and b.max() < _MAX_UNITS):
        return None
    length = b.astype(np.int64) - a.astype(np.int64)
    healthy = np.zeros(n, dtype=np.int64)
    monitored = np.zeros(n, dtype=np.int64)
    np.add.at(monitored, comp, length)
    np.add.at(healthy, comp[k == _HEALTHY], length[k == _HEALTHY])
    return healthy.tolist(), monitored.tolist()


@dataclass(frozen=True)
class Runs:
    """Automatic incident runs of every component: ``comp`` (row in the packed spans), start, end (NaN while
    ongoing) and worst state code (``health.STATE_ORDER`` index)."""

    comp: np.ndarray
    start: np.ndarray
    end: np.ndarray
    worst: np.ndarray


def incident_runs(packed: SpanArrays) -> Runs | None:
    """``incidents.incidents`` for every component at once: runs of touching degraded/unhealthy spans; a
    no-data gap or a healthy/unknown span with length ends one; a run is ongoing when its component's
    latest span is bad. None when some component's spans overlap or are out of order."""
    s, e, k, offsets = packed.starts, packed.ends, packed.codes, packed.offsets
    n = len(s)
    same = same_component(offsets, n)
    if np.any(e < s) or np.any(same & (s[1:] < e[:-1])):
        return None
    comp = np.repeat(np.arange(packed.components, dtype=np.int64), np.diff(offsets))
    bad = (k == _DEGRADED) | (k == _UNHEALTHY)
    relevant = np.flatnonzero(bad | (e > s))  # a zero-length healthy/unknown span ends nothing
    rs, re, rk, rc, rb = s[relevant], e[relevant], k[relevant], comp[relevant], bad[relevant]
    follows = np.zeros(len(relevant), dtype=bool)  # continues the run of the relevant span before it
    follows[1:] = rb[1:] & rb[:-1] & (rc[1:] == rc[:-1]) & (rs[1:] <= re[:-1])
    in_run = np.flatnonzero(rb)
    first = in_run[~follows[in_run]]
    run_of = np.cumsum(~follows[in_run]) - 1
    worst = np.full(len(first), _DEGRADED, dtype=np.int8)
    worst[np.unique(run_of[rk[in_run] == _UNHEALTHY])] = _UNHEALTHY
    ends = re[in_run][np.append(np.flatnonzero(np.diff(run_of)), len(in_run) - 1)] if len(in_run) else re[:0]
    ends = ends.astype(np.float64, copy=True)
    latest_bad = np.zeros(packed.components, dtype=bool)
    has = np.diff(offsets) > 0
    latest_bad[has] = bad[offsets[1:][has] - 1]
    run_comp = rc[first]
    if len(first):
        newest = np.append(run_comp[1:] != run_comp[:-1], True)  # the last run of its component
        ends[newest & latest_bad[run_comp]] = np.nan
    return Runs(run_comp, rs[first], ends, worst)
