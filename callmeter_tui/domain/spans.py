"""Health spans and the uptime rule: seconds per state, uptime ratio, the truncated percentage.

A span is ``[started_at, ended_at)`` in one state. Time no span covers is no data, which counts as
UNKNOWN; UNKNOWN time never counts for or against uptime. Spans are expected not to overlap; if
they do, the span that started first keeps the shared time (the same rule as ``domain.bars``), so
the four state totals always add up to the window.

Uptime is an SLA figure, so it is computed exactly: every float is a binary fraction, the clipped
span ends are summed as integers, and the percentage is truncated (never rounded up) from that
exact fraction. "100.00" therefore means not one degraded or unhealthy instant in the window.

Scheduled maintenance (``domain.maintenance``) is taken out before anything is counted: time inside a
window is neither healthy nor bad, it is maintenance. Uptime = healthy / (monitored - maintenance), i.e.
healthy / monitored with the maintenance time carved out of the spans; a page with
``count_maintenance_as_downtime`` counts every maintenance second as down instead.
"""

from __future__ import annotations

import bisect
import math
import numbers
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from .health import BAD_STATES, STATE_ORDER, HealthState
from .maintenance import Interval, merge

_MONITORED = (HealthState.HEALTHY, HealthState.DEGRADED, HealthState.UNHEALTHY)


@dataclass(frozen=True)
class HealthSpan:
    """``[started_at, ended_at)`` (UTC epoch seconds) spent in ``state``."""

    state: HealthState
    started_at: float
    ended_at: float

    def __post_init__(self) -> None:
        # The store hands over DB spellings; accept them so every consumer sees a HealthState.
        if not isinstance(self.state, HealthState):
            object.__setattr__(self, "state", HealthState.parse(self.state))

    @property
    def duration(self) -> float:
        return max(0.0, self.ended_at - self.started_at)


def clipped_spans(spans: Iterable[HealthSpan], start: float, end: float) -> list[tuple[HealthState, float, float]]:
    """(state, s, e) pieces inside ``[start, end)``, oldest first, overlaps removed (first-started wins),
    empty pieces dropped. Clipping uses only min/max, so every bound is one of the input floats."""
    out: list[tuple[HealthState, float, float]] = []
    reach = start
    for span in sorted(spans, key=_start_key):
        s = max(span.started_at, reach)
        e = min(span.ended_at, end)
        if e > s:
            out.append((HealthState.parse(span.state), s, e))
            reach = e
    return out


def _start_key(span: HealthSpan) -> float:
    return span.started_at


def carve(spans: Sequence[HealthSpan], maintenance: Sequence[Interval]) -> Sequence[HealthSpan]:
    """``spans`` with the (merged, sorted) maintenance intervals cut out: pieces keep their state, and every
    bound stays one of the input floats (min/max only), so sums over them stay exact. Without maintenance
    the very same sequence comes back (no copy: a big page has a million spans)."""
    if not maintenance:
        return spans
    ends = [m.end for m in maintenance]
    out: list[HealthSpan] = []
    for span in spans:
        j = bisect.bisect_right(ends, span.started_at)  # the first window still open at the span's start
        if j == len(ends) or maintenance[j].start >= span.ended_at:
            out.append(span)  # untouched (most spans): no new object
            continue
        s = span.started_at
        while j < len(ends) and maintenance[j].start < span.ended_at:
            m = maintenance[j]
            if m.start > s:
                out.append(HealthSpan(span.state, s, m.start))
            s = max(s, m.end)
            j += 1
        if span.ended_at > s:
            out.append(HealthSpan(span.state, s, span.ended_at))
    return out


def _window_maintenance(maintenance: Iterable[Interval], start: float, end: float) -> list[Interval]:
    """Merged maintenance clipped to ``[start, end)`` (min/max only: bounds stay input floats)."""
    return [
        Interval(max(i.start, start), min(i.end, end)) for i in merge(maintenance) if i.end > start and i.start < end
    ]


def _state_ints(
    spans: Iterable[HealthSpan], start: float, end: float, maintenance: Iterable[Interval] = ()
) -> tuple[dict[HealthState, int], int, int]:
    """Seconds per state in ``[start, end)`` outside maintenance, and maintenance seconds, as exact integers
    over one common ``2**k`` (every float is n / 2**j), and k: plain integer sums, a Fraction only when
    asked for (Fraction arithmetic made a 1,000-component page's uptime figures a third of its render time).
    UNKNOWN is what is left: no span, an UNKNOWN span, and never maintenance time."""
    maint = _window_maintenance(maintenance, start, end) if maintenance else []
    pieces = clipped_spans(carve(list(spans), maint) if maint else spans, start, end)
    pairs = [float(v).as_integer_ratio() for v in (start, end, *(x for _, s, e in pieces for x in (s, e)))]
    if maint:
        pairs += [float(v).as_integer_ratio() for m in maint for v in (m.start, m.end)]
    k = max(d.bit_length() for _, d in pairs) - 1
    ints = [n << (k - d.bit_length() + 1) for n, d in pairs]
    out = dict.fromkeys(STATE_ORDER, 0)
    for j, (state, _, _) in enumerate(pieces):
        if state in _MONITORED:
            out[state] += ints[3 + 2 * j] - ints[2 + 2 * j]
    base = 2 + 2 * len(pieces)
    maint_int = sum(ints[base + 2 * j + 1] - ints[base + 2 * j] for j in range(len(maint)))
    out[HealthState.UNKNOWN] = max(ints[1] - ints[0], 0) - sum(out[state] for state in _MONITORED) - maint_int
    return out, maint_int, k


@dataclass(frozen=True)
class StateSeconds:
    """Exact seconds of a window: per state outside maintenance, plus maintenance; they add up to the window."""

    by_state: dict[HealthState, Fraction]
    maintenance: Fraction

    def as_floats(self) -> dict[str, float]:
        """{"healthy_s": ..., "degraded_s": ..., "unhealthy_s": ..., "unknown_s": ..., "maintenance_s": ...}"""
        out = {f"{state.value.lower()}_s": float(v) for state, v in self.by_state.items()}
        out["maintenance_s"] = float(self.maintenance)
        return out


def window_seconds(
    spans: Iterable[HealthSpan], start: float, end: float, maintenance: Iterable[Interval] = ()
) -> StateSeconds:
    """Exact seconds per state and of maintenance in ``[start, end)`` (what an SLA report lists)."""
    ints, maint, k = _state_ints(spans, start, end, maintenance)
    return StateSeconds({state: Fraction(ints[state], 1 << k) for state in STATE_ORDER}, Fraction(maint, 1 << k))


def exact_state_seconds(
    spans: Iterable[HealthSpan], start: float, end: float, maintenance: Iterable[Interval] = ()
) -> dict[HealthState, Fraction]:
    """Exact seconds per state in ``[start, end)``; UNKNOWN includes time no span covers, not maintenance."""
    return window_seconds(spans, start, end, maintenance).by_state


def state_seconds(
    spans: Iterable[HealthSpan], start: float, end: float, maintenance: Iterable[Interval] = ()
) -> dict[HealthState, float]:
    """Seconds per state in ``[start, end)`` (all four keys; with maintenance they add up to the window
    minus the maintenance time)."""
    return {state: float(v) for state, v in exact_state_seconds(spans, start, end, maintenance).items()}


class UptimeRatio(float):
    """A float ratio that also carries the exact fraction, so ``format_uptime`` can truncate it
    without float error (0.29 must print "29.00", not "28.99")."""

    exact: Fraction

    def __new__(cls, exact: Fraction) -> UptimeRatio:
        value = float(exact)
        if exact < 1 and value == 1.0:  # a bad instant too short for a float still is not 100 %
            value = math.nextafter(1.0, 0.0)
        obj = super().__new__(cls, value)
        obj.exact = exact
        return obj

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (UptimeRatio, (self.exact,))


def uptime_ratio(
    spans: Iterable[HealthSpan],
    start: float,
    end: float,
    maintenance: Iterable[Interval] = (),
    *,
    maintenance_is_downtime: bool = False,
) -> float | None:
    """THE uptime rule: healthy / (healthy + degraded + unhealthy) in the window, maintenance time taken
    out of both (uptime = healthy / (monitored - maintenance)); with ``maintenance_is_downtime`` every
    maintenance second counts as down instead. None with nothing to divide by."""
    ints, maint, _ = _state_ints(spans, start, end, maintenance)
    monitored = sum(ints[s] for s in _MONITORED) + (maint if maintenance_is_downtime else 0)
    if monitored <= 0:
        return None
    return UptimeRatio(Fraction(ints[HealthState.HEALTHY], monitored))


def format_uptime(ratio: float | Fraction | Decimal | None) -> str | None:
    """Two decimals of a percentage, truncated: 719/720 -> "99.86", 0.999999 -> "99.99"; None -> None.

    A ratio from ``uptime_ratio`` is truncated exactly; a plain float is read as the decimal it prints
    as (``repr``), so 0.29 gives "29.00". Raises ValueError outside [0, 1].
    """
    if ratio is None:
        return None
    exact = getattr(ratio, "exact", None)
    if exact is None:
        if isinstance(ratio, (Fraction, int)) and not isinstance(ratio, bool):
            exact = Fraction(ratio)
        elif isinstance(ratio, Decimal) and ratio.is_finite():
            exact = Fraction(ratio)
        elif isinstance(ratio, numbers.Real) and not isinstance(ratio, bool) and math.isfinite(ratio):
            exact = Fraction(Decimal(repr(float(ratio))))
        else:
            raise ValueError(f"uptime ratio must be a number within [0, 1], got {ratio!r}")
    if not 0 <= exact <= 1:
        raise ValueError(f"uptime ratio must be within [0, 1], got {ratio!r}")
    return uptime_text(exact.numerator, exact.denominator)


def uptime_text(healthy: int, monitored: int) -> str:
    """``format_uptime`` of the exact ratio healthy / monitored (integers, 0 <= healthy <= monitored > 0)."""
    hundredths = healthy * 10000 // monitored  # truncated, exactly
    return f"{hundredths // 100}.{hundredths % 100:02d}"


def bad_seconds(spans: Iterable[HealthSpan], start: float, end: float, maintenance: Iterable[Interval] = ()) -> float:
    """Degraded plus unhealthy seconds in the window outside maintenance (what an SLA report subtracts)."""
    secs = exact_state_seconds(spans, start, end, maintenance)
    return float(sum((secs[s] for s in BAD_STATES), Fraction(0)))
