"""What one public page shows, read from the store in one short session (runs in a worker thread).

Only customer-facing fields are copied out: never probe targets, user names or secrets.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from ..config.logo import load_logo, sniff_logo
from ..domain.bars import SpanArrays, day_boundaries
from ..domain.defaults import BAR_DAYS, PAGE_REFRESH_S
from ..domain.health import BAD_STATES, STATE_ORDER
from ..domain.maintenance import Interval
from ..domain.packed_spans import ComponentSpans, latest_codes
from ..domain.spans import HealthSpan
from ..store.incidents import load_incidents
from ..store.maintenance import WindowView, maintenance_intervals, page_windows
from ..store.models import Component, Delivery, Execution, Probe, StatusPage, Webhook
from ..store.queries import load_spans
from ..store.reports import known_zone as safe_timezone  # the page's zone, else UTC: one rule
from ..store.span_arrays import load_bad_span_arrays, load_span_arrays

log = logging.getLogger(__name__)

Sessions = Callable[[], AbstractContextManager[Session]]  # a session factory, e.g. Database.session
MAINTENANCE_AHEAD_S = 7 * 86400.0  # maintenance intervals loaded past now (what "upcoming" can show)


@dataclass(frozen=True)
class ComponentData:
    position: int  # 1-based display order
    name: str
    probe_id: int
    state: str  # HealthState value
    last_checked: float | None
    created_at: float
    updated_at: float
    spans: Sequence[Any]  # domain.spans.HealthSpan within the bar window (row of PageData.packed)
    older_bad_spans: Sequence[Any] = ()  # degraded/unhealthy spans before it (the page's history; made on first read)

    maintenance: tuple[Interval, ...] = ()  # merged maintenance intervals, bar window start .. a week ahead


@dataclass(frozen=True)
class PageData:
    id: int
    slug: str
    name: str
    description: str
    accent_color: str
    timezone: str
    bar_days: int
    refresh_s: int
    updated_at: float
    logo: tuple[bytes, str] | None
    components: tuple[ComponentData, ...]
    boundaries: tuple[float, ...]  # day edges in the page's time zone, oldest first
    now: float
    operator_incidents: tuple[Any, ...] = ()  # domain.incident_status.OperatorIncident, newest first

    windows: tuple[WindowView, ...] = ()  # maintenance windows of the page's probes not over before the bars
    count_maintenance_as_downtime: bool = False
    packed: SpanArrays | None = None  # every component's spans (component i is row i): what the bars read
    latest: tuple[int, ...] = ()  # per component, its latest span's STATE_ORDER index in ``packed`` (-1: none)


def list_slugs(session: Session) -> list[str]:
    return list(session.scalars(select(StatusPage.slug)))


def load_page(session: Session, slug: str, now: float, later: Sessions | None = None) -> PageData | None:
    """The page called ``slug`` with its components, states and spans; None when there is no such page.

    Plain column queries, not ORM entities: a big page would otherwise keep thousands of tracked
    objects alive during the render (more full GC passes, which pause every thread). ``later``: where the
    page's older history can be read after this session (see ``_older_bad_spans``); without it, now.
    """
    page = session.execute(
        select(
            StatusPage.id,
            StatusPage.slug,
            StatusPage.name,
            StatusPage.description,
            StatusPage.accent_color,
            StatusPage.logo_path,
            StatusPage.logo_bytes,
            StatusPage.timezone,
            StatusPage.bar_days,
            StatusPage.refresh_s,
            StatusPage.updated_at,
            StatusPage.count_maintenance_as_downtime,
        ).where(StatusPage.slug == slug)
    ).first()
    if page is None:
        return None
    tz = safe_timezone(page.timezone)
    bar_days = max(1, min(int(page.bar_days or BAR_DAYS), 3650))
    boundaries = tuple(day_boundaries(now, bar_days, tz).tolist())
    rows = session.execute(
        select(
            Component.name,
            Probe.id,
            Probe.state,
            Probe.last_execution_at,
            Probe.created_at,
            Probe.updated_at,
            Probe.state_since,
            Probe.interval_s,
        )
        .join(Probe, Probe.id == Component.probe_id)
        .where(Component.page_id == page.id)
        .order_by(Component.position, Component.id)
    ).all()
    # Rows read by position: a Row's field by name costs ~1 us (8 ms for ten fields of 1,000 components).
    ids = [pid for _, pid, *_ in rows]
    intervals = {pid: interval for _, pid, *_, interval in rows}
    on_page = select(Component.probe_id).where(Component.page_id == page.id)
    packed = load_span_arrays(session, ids, boundaries[0], now, intervals=intervals, among=on_page)
    operator_incidents = tuple(load_incidents(session, page_id=page.id))
    adopting = {op.auto_probe_id for op in operator_incidents if op.auto_probe_id is not None}
    latest = tuple(latest_codes(packed).tolist())
    older = _older_bad_spans(session, ids, boundaries[0], on_page, latest, adopting, later)

    ahead = now + MAINTENANCE_AHEAD_S
    maint = maintenance_intervals(session, ids, boundaries[0], ahead, among=on_page) if rows else {}
    components = tuple(
        ComponentData(
            position=i,
            name=name,
            probe_id=pid,
            state=state or "UNKNOWN",
            last_checked=last_checked,
            created_at=created_at,
            updated_at=max(updated_at or 0.0, state_since or 0.0),
            spans=ComponentSpans(packed, i - 1),
            older_bad_spans=older[i - 1],
            maintenance=tuple(maint.get(pid, ())),
        )
        for i, (name, pid, state, last_checked, created_at, updated_at, state_since, _) in enumerate(rows, start=1)
    )
    return PageData(
        id=page.id,
        slug=page.slug,
        name=page.name,
        description=page.description or "",
        accent_color=page.accent_color,
        timezone=tz,
        bar_days=bar_days,
        refresh_s=max(1, int(page.refresh_s or PAGE_REFRESH_S)),
        updated_at=page.updated_at,
        logo=_logo(page.slug, page.logo_bytes, page.logo_path),
        components=components,
        boundaries=boundaries,
        now=now,
        operator_incidents=operator_incidents,
        windows=tuple(page_windows(session, page.id, boundaries[0])) if rows else (),
        count_maintenance_as_downtime=bool(page.count_maintenance_as_downtime),
        packed=packed,
        latest=latest,
    )


def _older_bad_spans(
    session: Session,
    ids: list[int],
    until: float,
    on_page: Select[Any],
    latest: tuple[int, ...],
    adopting: set[int],
    later: Sessions | None,
) -> list[Sequence[HealthSpan]]:
    """Each component's bad spans older than the bars (the page's history: its automatic incidents).

    With ``later``, only the components the page itself needs are read now: one whose latest span in the
    bars is bad or which has none there (its ongoing incident may have begun before the bars), and a probe
    an operator incident adopts from. The others are read, all at once, the first time any of them is
    (the history, feed, API and status.json, built on their first request). Why: the store keeps 400 days
    by default, and a 1,000-component page's older bad spans are then ~26,000 rows: 57 ms of a 140 ms
    render as objects, 26 ms packed, for a page that shows none of them. Spans that started before
    ``until`` are settled history (clipped there), so reading them later gives what reading them now
    would, unless retention prunes them meanwhile."""
    if later is None:
        every = load_bad_span_arrays(session, ids, until, among=on_page)
        return [ComponentSpans(every, i) for i in range(len(ids))]
    eager = [i for i, code in enumerate(latest) if code < 0 or STATE_ORDER[code] in BAD_STATES or ids[i] in adopting]
    needed = load_bad_span_arrays(session, [ids[i] for i in eager], until)

    def read() -> SpanArrays:
        with later() as s:
            return load_bad_span_arrays(s, ids, until)

    rest = _Once(read)
    out: list[Sequence[HealthSpan]] = [ComponentSpans(rest, i) for i in range(len(ids))]
    for row, i in enumerate(eager):
        out[i] = ComponentSpans(needed, row)
    return out


class _Once:
    """``read()`` on the first call from any thread, its result kept for every later call."""

    def __init__(self, read: Callable[[], SpanArrays]) -> None:
        self._read, self._lock = read, threading.Lock()
        self._value: SpanArrays | None = None

    def __call__(self) -> SpanArrays:
        with self._lock:
            if self._value is None:
                self._value = self._read()
            return self._value


def _logo(slug: str, data: bytes | None, path: str | None) -> tuple[bytes, str] | None:
    """Stored logo bytes win over the path; a bad logo is dropped (the page still renders)."""
    try:
        if data:
            return sniff_logo(data)
        if path:
            return load_logo(path)
    except ValueError as exc:
        log.warning("status page %r: %s", slug, exc)
    return None


DELIVERY_OUTCOMES = ("succeeded", "failed")


@dataclass(frozen=True)
class ProbeMetrics:
    name: str
    state: str
    last_execution_at: float | None
    metrics: dict[str, float]
    spans: tuple[Any, ...]
    runs: int = 0  # executions recorded (kept by retention)
    failures: int = 0  # of which not ok
    deliveries: tuple[tuple[str, int], ...] = ()  # (outcome, count) of finished webhook deliveries
    maintenance: tuple[Interval, ...] = ()  # left out of the uptime ratio like on the pages


def load_probe_metrics(session: Session, since: float, now: float) -> list[ProbeMetrics]:
    """Every probe's state, latest execution metrics and spans since ``since`` (for /metrics)."""
    probes = list(session.scalars(select(Probe).order_by(Probe.position, Probe.id)))
    exec_ids = [p.last_execution_id for p in probes if p.last_execution_id]
    latest = (
        {e.id: e.metrics or {} for e in session.scalars(select(Execution).where(Execution.id.in_(exec_ids)))}
        if exec_ids
        else {}
    )
    spans = load_spans(session, [p.id for p in probes], since, now) if probes else {}
    maint = maintenance_intervals(session, [p.id for p in probes], since, now) if probes else {}
    runs = _run_counts(session)
    deliveries = _delivery_counts(session)
    return [
        ProbeMetrics(
            name=p.name,
            state=p.state or "UNKNOWN",
            last_execution_at=p.last_execution_at,
            metrics=dict(latest.get(p.last_execution_id or -1, {})),
            spans=tuple(spans.get(p.id, ())),
            runs=runs.get(p.id, (0, 0))[0],
            failures=runs.get(p.id, (0, 0))[1],
            deliveries=tuple(sorted(deliveries.get(p.id, {}).items())),
            maintenance=tuple(maint.get(p.id, ())),
        )
        for p in probes
    ]


def _run_counts(session: Session) -> dict[int, tuple[int, int]]:
    """probe id -> (executions, failed executions)."""
    failed = func.sum(case((Execution.ok.is_(False), 1), else_=0))
    rows = session.execute(select(Execution.probe_id, func.count(), failed).group_by(Execution.probe_id))
    return {pid: (int(n), int(bad or 0)) for pid, n, bad in rows}


def _delivery_counts(session: Session) -> dict[int, dict[str, int]]:
    """probe id -> {outcome: count} for deliveries that finished (succeeded or failed); test sends excluded."""
    rows = session.execute(
        select(Webhook.probe_id, Delivery.status, func.count())
        .join(Webhook, Webhook.id == Delivery.webhook_id)
        .where(Delivery.status.in_(DELIVERY_OUTCOMES), Delivery.is_test.is_(False))
        .group_by(Webhook.probe_id, Delivery.status)
    )
    out: dict[int, dict[str, int]] = {}
    for pid, status, n in rows:
        out.setdefault(pid, {})[status] = int(n)
    return out


__all__ = ["ComponentData", "PageData", "ProbeMetrics", "list_slugs", "load_page", "load_probe_metrics"]
