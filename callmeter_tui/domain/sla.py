"""Monthly SLA reports: per component, what the month held, judged against the component's SLA target.

Why a module of its own: the report is evidence in SLA discussions, so every figure must be the page's
own figure for the same window. Nothing here re-implements a rule: seconds per state, the uptime ratio
and its truncation come from ``domain.spans``, incidents from ``domain.incidents``, threshold breaches
from ``domain.metric_catalog``. This module only chooses the window (a calendar month in the page's
zone, cut at ``now``) and adds what the page does not show: no data apart from unknown, maintenance,
incident counts, time over critical per metric, and the pass/fail verdict.

Seams for the merge: ``ComponentInput.maintenance`` (maintenance windows, counted as ``maintenance_s``;
the uptime rule itself decides whether they are excluded, see ``_uptime``) and
``ComponentInput.operator_incidents`` (incidents an operator opened, counted beside the automatic ones).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .health import HealthState
from .incidents import incidents
from .maintenance import Interval
from .metric_catalog import METRICS
from .spans import HealthSpan, UptimeRatio, clipped_spans, exact_state_seconds, format_uptime, uptime_ratio
from .thresholds import Threshold

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class Verdict(enum.StrEnum):
    """The month against the component's target."""

    PASS = "pass"
    FAIL = "fail"
    NO_TARGET = "no target"  # the component has no sla_target
    NO_DATA = "no data"  # no monitored second in the month: nothing to judge


@dataclass(frozen=True)
class Window:
    """``[start, end)`` of one calendar month in ``timezone``; ``end`` is cut at ``now`` (``partial``)."""

    month: str  # "2026-10"
    timezone: str
    start: float
    end: float
    month_end: float  # the month's real end, even when the window is cut at now

    @property
    def partial(self) -> bool:
        return self.end < self.month_end


def parse_month(text: str) -> date:
    """The first day of ``YYYY-MM``. Raises ValueError with a one-line reason."""
    m = _MONTH.match(str(text).strip())
    if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 1970:
        raise ValueError(f"expected a month like '2026-10' (YYYY-MM), got {text!r}")
    return date(int(m.group(1)), int(m.group(2)), 1)


def next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def month_start(first: date, zone: ZoneInfo) -> float:
    """Local midnight of ``first`` in ``zone`` (as ``domain.bars.day_boundaries`` builds day edges)."""
    return datetime(first.year, first.month, first.day, tzinfo=zone).timestamp()


def month_window(month: str, timezone: str, now: float) -> Window:
    """The month's window in the page's zone, cut at ``now``. ValueError for a bad month, an unknown
    zone, or a month that has not started yet."""
    first = parse_month(month)
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {timezone!r}") from None
    start, end = month_start(first, zone), month_start(next_month(first), zone)
    if start >= now:
        raise ValueError(f"month {first:%Y-%m} has not started yet")
    return Window(f"{first:%Y-%m}", timezone, start, min(end, now), end)


def recent_months(now: float, timezone: str, count: int) -> list[str]:
    """The last ``count`` months in ``timezone``, oldest first, the current month last."""
    today = datetime.fromtimestamp(now, ZoneInfo(timezone)).date().replace(day=1)
    months = [today]
    for _ in range(count - 1):
        prev = months[-1]
        months.append(date(prev.year - (prev.month == 1), (prev.month - 2) % 12 + 1, 1))
    return [f"{m:%Y-%m}" for m in reversed(months)]


def parse_target(value: object) -> Fraction:
    """An SLA target percentage in (0, 100] as an exact fraction of 1 (99.9 -> 999/1000).
    Raises ValueError with a one-line reason."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise ValueError(f"expected a percentage like 99.9, got {value!r}")
    try:
        exact = Fraction(Decimal(repr(value) if isinstance(value, float) else str(value)))
    except (InvalidOperation, ValueError):
        raise ValueError(f"expected a percentage like 99.9, got {value!r}") from None
    if not 0 < exact <= 100:
        raise ValueError(f"expected a percentage above 0 and at most 100, got {value!r}")
    return exact / 100


@dataclass(frozen=True)
class MetricSample:
    """One stored execution's measured metrics; it stands for the time until ``cover_end``."""

    at: float
    metrics: Mapping[str, float]


@dataclass(frozen=True)
class ComponentInput:
    name: str
    spans: Sequence[HealthSpan]
    sla_target: float | None = None  # percent, e.g. 99.9
    maintenance: Sequence[tuple[float, float]] = ()  # maintenance windows [start, end)
    operator_incidents: Sequence[tuple[float, float | None]] = ()  # (started_at, resolved_at or None)
    maintenance_is_downtime: bool = False  # the page's count_maintenance_as_downtime
    samples: Sequence[MetricSample] = ()  # executions, oldest first
    thresholds: Mapping[str, Threshold] = field(default_factory=dict)
    sample_gap_s: float = 180.0  # a sample covers until the next one, if that comes within this; else interval_s
    interval_s: float = 60.0


@dataclass(frozen=True)
class ComponentReport:
    name: str
    uptime_pct: str | None  # the page's figure: truncated, None with no monitored time
    healthy_s: float
    degraded_s: float
    unhealthy_s: float
    unknown_s: float  # time in UNKNOWN spans (a probe running with no verdict yet)
    no_data_s: float  # time no span covers (the page counts both as UNKNOWN)
    maintenance_s: float
    incidents: int  # automatic incidents (runs of degraded/unhealthy time) in the window
    operator_incidents: int
    longest_incident_s: float  # inside the window (an incident crossing its edge counts the part inside)
    longest_incident_start: float | None
    over_critical_s: Mapping[str, float]  # metric -> seconds its samples were past the critical threshold
    metrics_seen_s: float  # seconds covered by kept executions (0 for a month past retention: nothing to judge)
    sla_target: float | None
    verdict: Verdict


@dataclass(frozen=True)
class Report:
    slug: str
    page_name: str
    window: Window
    components: tuple[ComponentReport, ...]
    generated_at: float

    @property
    def verdict(self) -> Verdict:
        """The page's verdict: FAIL if any component failed; else NO_DATA if a component with a target had
        nothing to judge (a month without data is not a met target); else PASS if any passed."""
        found = {c.verdict for c in self.components}
        for verdict in (Verdict.FAIL, Verdict.NO_DATA, Verdict.PASS):
            if verdict in found:
                return verdict
        return Verdict.NO_TARGET


def merged_seconds(intervals: Sequence[tuple[float, float]], start: float, end: float) -> float:
    """Seconds of ``[start, end)`` covered by the union of ``intervals`` (overlaps counted once)."""
    total, reach = Fraction(0), start
    for a, b in sorted(intervals):
        a, b = max(a, reach), min(b, end)
        if b > a:
            total += Fraction(b) - Fraction(a)
            reach = b
    return float(total)


def _uptime(
    spans: Sequence[HealthSpan], maintenance: Sequence[tuple[float, float]], w: Window, as_downtime: bool = False
) -> float | None:
    """The page's uptime rule for the window, maintenance taken out (or counted as down) the page's way."""
    windows = [Interval(a, b) for a, b in maintenance]
    return uptime_ratio(spans, w.start, w.end, windows, maintenance_is_downtime=as_downtime)


def _verdict(ratio: float | None, target: float | None) -> Verdict:
    if target is None:
        return Verdict.NO_TARGET
    if ratio is None:
        return Verdict.NO_DATA
    exact = ratio.exact if isinstance(ratio, UptimeRatio) else Fraction(ratio)
    return Verdict.PASS if exact >= parse_target(target) else Verdict.FAIL


def sample_pieces(c: ComponentInput, start: float, end: float) -> list[tuple[float, float, MetricSample]]:
    """(from, to, sample) inside ``[start, end)``: a sample covers until the next one, or ``interval_s``
    when the next one is later than ``sample_gap_s`` (the store's no-data rule for spans)."""
    samples = sorted(c.samples, key=lambda s: s.at)
    out = []
    for i, sample in enumerate(samples):
        nxt = samples[i + 1].at if i + 1 < len(samples) else None
        cover = nxt if nxt is not None and nxt - sample.at <= c.sample_gap_s else sample.at + c.interval_s
        a, b = max(sample.at, start), min(cover, end)
        if b > a:
            out.append((a, b, sample))
    return out


def over_critical(pieces: Sequence[tuple[float, float, MetricSample]], c: ComponentInput) -> dict[str, float]:
    """Seconds per metric (those with a critical threshold) that the samples were past it."""
    limits = {m: th.critical for m, th in c.thresholds.items() if th.critical is not None and m in METRICS}
    out = {m: Fraction(0) for m in METRICS if m in limits}
    for a, b, sample in pieces:
        for metric, limit in limits.items():
            value = sample.metrics.get(metric)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                if METRICS[metric].breaches(float(value), float(limit)):
                    out[metric] += Fraction(b) - Fraction(a)
    return {m: float(v) for m, v in out.items()}


def component_report(c: ComponentInput, w: Window) -> ComponentReport:
    """Every figure for one component over the window (see ``ComponentReport``)."""
    pieces = clipped_spans(c.spans, w.start, w.end)
    inside = [HealthSpan(state, s, e) for state, s, e in pieces]
    secs = exact_state_seconds(inside, w.start, w.end)
    covered = sum((Fraction(e) - Fraction(s) for _, s, e in pieces), Fraction(0))
    no_data = Fraction(w.end) - Fraction(w.start) - covered
    # Closed at the last bad instant seen: a trouble whose data stopped is not stretched to the window's end.
    found = incidents(inside, ongoing=False)
    lengths = [(inc.duration(w.end), inc.started_at) for inc in found]
    lengths += [
        (min(e if e is not None else w.end, w.end) - max(s, w.start), max(s, w.start))
        for s, e in c.operator_incidents
        if s < w.end and (e is None or e > w.start)
    ]
    longest = max(lengths, default=(0.0, None))
    ratio = _uptime(inside, c.maintenance, w, c.maintenance_is_downtime)
    pieces_m = sample_pieces(c, w.start, w.end)
    return ComponentReport(
        name=c.name,
        uptime_pct=format_uptime(ratio),
        healthy_s=float(secs[HealthState.HEALTHY]),
        degraded_s=float(secs[HealthState.DEGRADED]),
        unhealthy_s=float(secs[HealthState.UNHEALTHY]),
        unknown_s=float(secs[HealthState.UNKNOWN] - no_data),
        no_data_s=float(no_data),
        maintenance_s=merged_seconds(c.maintenance, w.start, w.end),
        incidents=len(found),
        operator_incidents=len(lengths) - len(found),
        longest_incident_s=float(longest[0]),
        longest_incident_start=longest[1],
        over_critical_s=over_critical(pieces_m, c),
        metrics_seen_s=float(sum((Fraction(b) - Fraction(a) for a, b, _ in pieces_m), Fraction(0))),
        sla_target=c.sla_target,
        verdict=_verdict(ratio, c.sla_target),
    )


def build_report(slug: str, page_name: str, window: Window, components: Sequence[ComponentInput], now: float) -> Report:
    """The month report of one page: one ``ComponentReport`` per component, in page order."""
    return Report(slug, page_name, window, tuple(component_report(c, window) for c in components), now)


def monthly_uptime(
    spans: Sequence[HealthSpan],
    windows: Sequence[Window],
    maintenance: Sequence[tuple[float, float]] = (),
    as_downtime: bool = False,
) -> list[str | None]:
    """The page's uptime figure for each window (the uptime history view)."""
    return [format_uptime(_uptime(spans, maintenance, w, as_downtime)) for w in windows]
