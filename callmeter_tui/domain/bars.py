"""Uptime bars: day (or hour) segments per component, coloured by the worst state present.

The status page draws 90 day-segments for every component, so the seconds-per-state matrix is
computed for all components at once with numpy (searchsorted for segment indices, bincount to sum)
instead of a Python loop per span. Rules shared with ``domain.spans``: no data counts as UNKNOWN,
overlapping spans are resolved first-started-wins, time after ``now`` is not counted.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import chain
from operator import attrgetter
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from .health import STATE_ORDER, HealthState
from .spans import HealthSpan

_N_KNOWN = 3  # HEALTHY, DEGRADED, UNHEALTHY: UNKNOWN is whatever is left of a segment
_UNKNOWN_CODE = 3
_CODE: dict[HealthState | str, int] = {state: i for i, state in enumerate(STATE_ORDER)}
_CODE.update({state.value: i for i, state in enumerate(STATE_ORDER)})


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"unknown time zone {tz!r} (expected an IANA name like 'Europe/Berlin')") from None


def day_boundaries(now: float, days: int = 90, tz: str = "UTC") -> np.ndarray:
    """``days + 1`` local midnights (epoch seconds), oldest first; the last segment is today.

    Built from calendar dates, not by adding 86400, so DST days are 23 or 25 hours long. A midnight
    that falls in a DST gap resolves (fold=0) to the instant the local day really starts.
    """
    if int(days) < 1:
        raise ValueError(f"days must be at least 1, got {days!r}")
    zone = _zone(tz)
    today = datetime.fromtimestamp(now, zone).date()
    first = today - timedelta(days=int(days) - 1)
    dates = (first + timedelta(days=i) for i in range(int(days) + 1))
    return np.array([datetime(d.year, d.month, d.day, tzinfo=zone).timestamp() for d in dates], dtype=np.float64)


def hour_boundaries(now: float, hours: int = 24) -> np.ndarray:
    """``hours + 1`` hour edges (epoch seconds), oldest first; the last segment is the current hour."""
    if int(hours) < 1:
        raise ValueError(f"hours must be at least 1, got {hours!r}")
    current = math.floor(now / 3600.0) * 3600.0
    return current + 3600.0 * np.arange(-(int(hours) - 1), 2, dtype=np.float64)


@dataclass(frozen=True)
class SpanArrays:
    """All components' spans as flat arrays; component ``c`` owns ``[offsets[c], offsets[c+1])``."""

    starts: np.ndarray  # float64
    ends: np.ndarray  # float64
    codes: np.ndarray  # int8 index into health.STATE_ORDER
    offsets: np.ndarray  # int64, length C + 1

    @property
    def components(self) -> int:
        return len(self.offsets) - 1


def pack_spans(spans_per_component: Sequence[Sequence[HealthSpan]]) -> SpanArrays:
    """Flatten spans into arrays (the only per-span Python work; kept to C-level iterators)."""
    counts = np.fromiter(map(len, spans_per_component), dtype=np.int64, count=len(spans_per_component))
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    n = int(offsets[-1])
    flat = list(chain.from_iterable(spans_per_component))
    starts = np.fromiter(map(attrgetter("started_at"), flat), dtype=np.float64, count=n)
    ends = np.fromiter(map(attrgetter("ended_at"), flat), dtype=np.float64, count=n)
    codes = np.fromiter(map(_CODE.__getitem__, map(attrgetter("state"), flat)), dtype=np.int8, count=n)
    return SpanArrays(starts, ends, codes, offsets)


def _as_boundaries(boundaries: Sequence[float] | np.ndarray) -> np.ndarray:
    b = np.asarray(boundaries, dtype=np.float64)
    if b.ndim != 1 or len(b) < 2:
        raise ValueError("boundaries need at least two edges")
    if not np.all(np.diff(b) > 0):
        raise ValueError("boundaries must be strictly increasing")
    return b


def _first_started_wins(starts: np.ndarray, ends: np.ndarray, offsets: np.ndarray, same: np.ndarray) -> np.ndarray:
    """Starts moved past everything earlier spans of the same component already cover."""
    overlap = same & (starts[1:] < ends[:-1])
    if not np.any(overlap):
        return starts
    # Rare (the store writes run-length spans): fix each affected component with a running max.
    starts = starts.copy()
    for c in np.unique(np.searchsorted(offsets, np.flatnonzero(overlap) + 1, "right") - 1):
        lo, hi = offsets[c], offsets[c + 1]
        reach = np.maximum.accumulate(ends[lo:hi])
        starts[lo + 1 : hi] = np.maximum(starts[lo + 1 : hi], reach[:-1])
    return starts


def same_component(offsets: np.ndarray, n: int) -> np.ndarray:
    """``same[i]``: span i and i+1 belong to one component."""
    same = np.ones(max(n - 1, 0), dtype=bool)
    cut = offsets[1:-1]
    same[cut[(cut > 0) & (cut < n)] - 1] = False
    return same


def resolved_spans(packed: SpanArrays) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(starts, ends, codes) sorted by start within each component (components keep their places), each
    start moved past what earlier spans of its component cover (first-started wins): what is counted."""
    s, e, k, offsets = packed.starts, packed.ends, packed.codes, packed.offsets
    same = same_component(offsets, len(s))
    if np.any(same & (s[1:] < s[:-1])):
        comp = np.repeat(np.arange(packed.components, dtype=np.int64), np.diff(offsets))
        order = np.lexsort((s, comp))  # stable, and components keep their places in the arrays
        s, e, k = s[order], e[order], k[order]
    return _first_started_wins(s, e, offsets, same), e, k


def state_seconds_matrix_arrays(packed: SpanArrays, boundaries: Sequence[float] | np.ndarray, now: float) -> np.ndarray:
    """(C, N, 4) seconds per component, segment and state (``STATE_ORDER``), from packed spans.

    Each span adds its head (start to the end of its first segment) and, when it crosses edges, its
    tail; whole segments in between are marked +1/-1 and filled by a cumulative sum. UNKNOWN is what
    is left of each segment up to ``now``.
    """
    b = _as_boundaries(boundaries)
    n_seg, n_comp = len(b) - 1, packed.components
    s, e, k = resolved_spans(packed)
    offsets = packed.offsets
    cell = n_seg * 4  # matrix cells per component
    base = np.repeat(np.arange(n_comp, dtype=np.int64) * cell, np.diff(offsets))
    lo, hi = b[0], min(b[-1], float(now))
    s = np.maximum(s, lo)
    e = np.minimum(e, hi)
    valid = e > s
    if not np.all(valid):
        keep = np.flatnonzero(valid)
        s, e, k, base = s[keep], e[keep], k[keep], base[keep]

    j0 = np.searchsorted(b, s, "right") - 1  # segment holding the start
    first_end = b[j0 + 1]
    size = n_comp * cell
    known = np.bincount(base + j0 * 4 + k, np.minimum(e, first_end) - s, minlength=size).astype(np.float64, copy=False)
    cross = np.flatnonzero(e > first_end)  # spans that run past their first segment
    seg_len = np.clip(np.minimum(b[1:], hi) - b[:-1], 0.0, None)
    if len(cross):
        c0, kc, ec, bc = j0[cross], k[cross], e[cross], base[cross]
        c1 = np.searchsorted(b, ec, "left") - 1  # segment holding the end
        known += np.bincount(bc + c1 * 4 + kc, ec - b[c1], minlength=size)
        full = np.flatnonzero(c1 - c0 > 1)
        if len(full):  # whole segments inside one span: +1 ... -1, then cumsum
            r = bc[full] // cell * (n_seg + 1)
            kf = kc[full]
            marks = np.concatenate(((r + c0[full] + 1) * 4 + kf, (r + c1[full]) * 4 + kf))
            signs = np.repeat(np.array([1.0, -1.0]), len(full))
            diff = np.bincount(marks, signs, minlength=n_comp * (n_seg + 1) * 4).reshape(n_comp, n_seg + 1, 4)
            known += (np.cumsum(diff, axis=1)[:, :n_seg, :] * seg_len[None, :, None]).ravel()
    known = known.reshape(n_comp, n_seg, 4)
    known[:, :, _UNKNOWN_CODE] = np.clip(seg_len[None, :] - known[:, :, :_N_KNOWN].sum(axis=2), 0.0, None)
    return known


def state_seconds_matrix(
    spans_per_component: Sequence[Sequence[HealthSpan]], boundaries: Sequence[float] | np.ndarray, now: float
) -> np.ndarray:
    """(C, N, 4) seconds per component, segment and state in ``health.STATE_ORDER`` order."""
    return state_seconds_matrix_arrays(pack_spans(spans_per_component), boundaries, now)


@dataclass(frozen=True)
class BarSegment:
    """One segment of an uptime bar; ``state`` is its colour (worst state present, UNKNOWN = grey)."""

    start: float
    end: float
    state: HealthState
    healthy_s: float
    degraded_s: float
    unhealthy_s: float
    unknown_s: float
    maintenance_s: float = 0.0  # scheduled maintenance (domain.maintenance), not in the four states above

    @property
    def shows_maintenance(self) -> bool:
        """Drawn as maintenance: maintenance time and no monitored time outside it."""
        return self.state is HealthState.UNKNOWN and self.maintenance_s > 0


def segment_states(matrix: np.ndarray) -> np.ndarray:
    """(C, N) index into STATE_ORDER: UNHEALTHY if any, else DEGRADED if any, else HEALTHY if any, else UNKNOWN."""
    h, d, u = matrix[..., 0] > 0, matrix[..., 1] > 0, matrix[..., 2] > 0
    return np.where(u, 2, np.where(d, 1, np.where(h, 0, _UNKNOWN_CODE)))


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while building segment objects: they hold no cycles, and with a page's
    spans alive every generation-2 pass walks them all, tripling the build time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _segments(matrix: np.ndarray, b: np.ndarray) -> list[list[BarSegment]]:
    codes_rows = segment_states(matrix).tolist()
    starts, ends = b[:-1].tolist(), b[1:].tolist()
    order = STATE_ORDER
    with _gc_paused():
        return [
            [BarSegment(start, end, order[code], *secs) for start, end, code, secs in zip(starts, ends, codes, row)]
            for row, codes in zip(matrix.tolist(), codes_rows)
        ]


def bar_segments_many(
    spans_per_component: Sequence[Sequence[HealthSpan]], boundaries: Sequence[float] | np.ndarray, now: float
) -> list[list[BarSegment]]:
    """Bar segments for every component, oldest first, one per boundary interval."""
    b = _as_boundaries(boundaries)
    return _segments(state_seconds_matrix(spans_per_component, b, now), b)


def bar_segments(spans: Sequence[HealthSpan], boundaries: Sequence[float] | np.ndarray, now: float) -> list[BarSegment]:
    """Bar segments for one component."""
    return bar_segments_many([spans], boundaries, now)[0]
