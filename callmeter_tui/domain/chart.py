"""What a drill-down chart shows, as plain numbers: the window, the time-axis labels, the lines with their gaps,
the threshold lines and the health state along the time axis. Pure, so it is tested without a terminal.

Points sit at their real times (epoch seconds, UTC). Two neighbours further apart than ``NO_DATA_INTERVALS``
times their spacing (the probe's interval for single runs, an hour for hourly means) start a new line: a
silent probe shows as a gap, never as a straight line across the time nobody measured.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from .defaults import NO_DATA_INTERVALS
from .health import HealthState
from .metric_catalog import METRICS, Metric
from .spans import HealthSpan

HOUR = 3600.0
DAY = 86400.0
Point = tuple[float, float]


@dataclass(frozen=True)
class ChartWindow:
    """How far back a chart looks; ``hourly``: it reads hourly means where the store has rolled them up."""

    key: str
    label: str
    seconds: float

    @property
    def hourly(self) -> bool:
        return hourly_means(self.seconds)


def hourly_means(seconds: float) -> bool:
    """Whether a window this long reads hourly means where they exist (beyond a day: ~30 points a pixel)."""
    return seconds > DAY


WINDOWS: tuple[ChartWindow, ...] = (
    ChartWindow("1", "1 h", HOUR),
    ChartWindow("2", "24 h", DAY),
    ChartWindow("3", "7 d", 7 * DAY),
    ChartWindow("4", "30 d", 30 * DAY),
)
DEFAULT_WINDOW = WINDOWS[1]
# What the drill-down charts, in order: call quality first, then the response time OPTIONS/REGISTER measure.
CHARTED = ("mos", "jitter_ms", "packet_loss_pct", "rtt_ms", "setup_time_ms", "response_time_ms")

# Tick spacings to choose from, smallest first; below a day labels read HH:MM, from a day on "May 28".
_STEPS = (
    60.0,
    300.0,
    600.0,
    900.0,
    1800.0,
    HOUR,
    2 * HOUR,
    3 * HOUR,
    6 * HOUR,
    12 * HOUR,
    DAY,
    2 * DAY,
    7 * DAY,
)


def window_by_key(key: str) -> ChartWindow:
    return next((w for w in WINDOWS if w.key == key), DEFAULT_WINDOW)


def next_window(current: ChartWindow) -> ChartWindow:
    return WINDOWS[(WINDOWS.index(current) + 1) % len(WINDOWS)]


@dataclass(frozen=True)
class Threshold:
    level: str  # "warning" | "critical"
    value: float


@dataclass(frozen=True)
class StateRun:
    """``[start, end)`` of the window spent in ``state`` (time no span covers is left out: no data)."""

    state: HealthState
    start: float
    end: float


@dataclass(frozen=True)
class ChartData:
    """One metric's chart: everything the widget draws, nothing it has to work out."""

    metric: Metric
    since: float
    until: float
    lines: tuple[tuple[Point, ...], ...]  # runs of points without a gap, oldest first
    thresholds: tuple[Threshold, ...]
    states: tuple[StateRun, ...]
    y_range: tuple[float, float]

    @property
    def points(self) -> tuple[Point, ...]:
        return tuple(p for line in self.lines for p in line)

    @property
    def title(self) -> str:
        unit = f" ({self.metric.unit})" if self.metric.unit else ""
        return f"{self.metric.label}{unit}"


def split_at_gaps(points: Sequence[Point], spacing: float, hourly_before: float = 0.0) -> list[tuple[Point, ...]]:
    """Runs of points with no gap: a gap is more than NO_DATA_INTERVALS spacings between neighbours
    (an hour's spacing for points before ``hourly_before``, which are hourly means)."""
    lines: list[list[Point]] = []
    prev: Point | None = None
    for p in points:
        step = HOUR if prev is not None and prev[0] < hourly_before else spacing
        if prev is None or p[0] - prev[0] > NO_DATA_INTERVALS * max(step, spacing):
            lines.append([])
        lines[-1].append(p)
        prev = p
    return [tuple(line) for line in lines]


def state_runs(spans: Iterable[HealthSpan], since: float, until: float) -> tuple[StateRun, ...]:
    """The spans clipped to the window, oldest first; spans outside it are dropped."""
    out = []
    for s in sorted(spans, key=lambda s: s.started_at):
        start, end = max(s.started_at, since), min(s.ended_at, until)
        if end > start:
            out.append(StateRun(s.state, start, end))
    return tuple(out)


def y_range(values: Iterable[float], metric: Metric) -> tuple[float, float]:
    """Low and high of the y axis: the values and thresholds with a margin, kept to what the metric can take."""
    vs = list(values)
    lo, hi = (min(vs), max(vs)) if vs else (metric.lo, metric.hi if metric.hi is not None else 1.0)
    pad = (hi - lo) * 0.1 or max(abs(hi) * 0.1, 1.0)
    lo, hi = lo - pad, hi + pad
    if metric.hi is not None:
        hi = min(hi, metric.hi)
    return max(lo, metric.lo), hi


def chart_data(
    name: str,
    points: Sequence[Point],
    *,
    since: float,
    until: float,
    spacing: float,
    thresholds: dict[str, float | None],
    spans: Iterable[HealthSpan] = (),
    hourly_before: float = 0.0,
) -> ChartData:
    metric = METRICS[name]
    inside = [p for p in points if since <= p[0] <= until]
    lines = split_at_gaps(inside, spacing, hourly_before)
    levels = tuple(Threshold(lv, float(v)) for lv in ("warning", "critical") if (v := thresholds.get(lv)) is not None)
    yr = y_range([p[1] for p in inside] + [t.value for t in levels], metric)
    return ChartData(metric, since, until, tuple(lines), levels, state_runs(spans, since, until), yr)


def with_unit(number: str, unit: str) -> str:
    """ "250 ms", "1.5%", "4.2" (MOS has no unit)."""
    return number + unit if unit in ("", "%") else f"{number} {unit}"


def thin(points: Sequence[Point], since: float, until: float, columns: int) -> list[Point]:
    """At most the lowest and the highest point of each of ``columns`` equal slices of the window, in time
    order: what a plot ``columns`` dots wide can show of a dense series (every spike kept, each at its real time)."""
    if len(points) <= 2 * columns:
        return list(points)
    width = max(until - since, 1e-9) / columns
    keep: dict[int, tuple[Point, Point]] = {}
    for p in points:
        col = int((p[0] - since) / width)
        lo_hi = keep.get(col)
        if lo_hi is None:
            keep[col] = (p, p)
        else:
            keep[col] = (min(lo_hi[0], p, key=lambda q: q[1]), max(lo_hi[1], p, key=lambda q: q[1]))
    return sorted({q for pair in keep.values() for q in pair})


def state_columns(runs: Iterable[StateRun], since: float, until: float, columns: int) -> dict[HealthState, list[float]]:
    """The worst state in each of ``columns`` slices of the window -> the slices' middle times, per state.
    Slices no run covers are left out (no data): the band has a hole there, as the line has a gap."""
    width = max(until - since, 1e-9) / columns
    worst: dict[int, HealthState] = {}
    for run in runs:
        first = max(0, int((run.start - since) / width))
        last = min(columns - 1, math.ceil((run.end - since) / width) - 1)
        for col in range(first, last + 1):
            if col not in worst or run.state.severity > worst[col].severity:
                worst[col] = run.state
    out: dict[HealthState, list[float]] = {}
    for col in sorted(worst):
        out.setdefault(worst[col], []).append(since + (col + 0.5) * width)
    return out


def time_ticks(since: float, until: float, most: int) -> list[tuple[float, str]]:
    """At most ``most`` (>= 2) round UTC times in [since, until] with their labels ("14:00", or "May 28")."""
    span = max(until - since, 1.0)
    step = next((s for s in _STEPS if span / s <= most - 1), _STEPS[-1])
    first = math.ceil(since / step) * step
    fmt = "%H:%M" if step < DAY else "%b %d"
    ticks = []
    t = first
    while t <= until:
        ticks.append((t, datetime.fromtimestamp(t, UTC).strftime(fmt)))
        t += step
    return ticks


def value_ticks(lo: float, hi: float, unit: str, most: int = 5) -> list[tuple[float, str]]:
    """Round values in [lo, hi] labelled with the unit ("250 ms", "4.2")."""
    raw = max(hi - lo, 1e-9) / max(most, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    decimals = max(0, -math.floor(math.log10(step))) if step < 1 else 0
    if step * 10**decimals % 1:
        decimals += 1
    t = math.ceil(lo / step) * step
    out = []
    while t <= hi + 1e-9:
        out.append((t, with_unit(f"{t:.{decimals}f}", unit)))
        t += step
    return out
