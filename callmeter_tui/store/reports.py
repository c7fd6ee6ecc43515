"""Read side of SLA reports: one page's components as ``domain.sla.ComponentInput`` for a window.

Spans come from ``queries.load_spans`` (the page's own loader, so an open span ends where the page
ends it), samples from the executions still kept (retention), thresholds from the probe rows.
Operator incidents come from ``incidents.load_incidents`` (one that adopted an automatic incident is that
incident, already counted from the spans).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.defaults import NO_DATA_INTERVALS
from ..domain.sla import ComponentInput, MetricSample, Window, month_window
from .incidents import load_incidents
from .maintenance import maintenance_intervals
from .models import Component, Execution, Probe, StatusPage
from .queries import load_spans
from .sync import thresholds_from_json


class ReportInputError(ValueError):
    """Unknown page or component: one line naming it."""


@dataclass(frozen=True)
class PageHeader:
    id: int
    slug: str
    name: str
    timezone: str
    maintenance_is_downtime: bool = False


def page_header(session: Session, slug: str) -> PageHeader:
    row = session.execute(
        select(
            StatusPage.id,
            StatusPage.slug,
            StatusPage.name,
            StatusPage.timezone,
            StatusPage.count_maintenance_as_downtime,
        ).where(StatusPage.slug == slug)
    ).first()
    if row is None:
        known = ", ".join(repr(s) for s in session.scalars(select(StatusPage.slug).order_by(StatusPage.slug)))
        raise ReportInputError(f"--page: no status page {slug!r} (pages: {known or 'none'})")
    return PageHeader(row.id, row.slug, row.name, known_zone(row.timezone), bool(row.count_maintenance_as_downtime))


def known_zone(name: str | None) -> str:
    """The page's IANA zone if this machine knows it, else UTC (as the page itself falls back)."""
    try:
        ZoneInfo(name or "UTC")
    except (ValueError, KeyError, OSError):  # ZoneInfoNotFoundError is a KeyError
        return "UTC"
    return name or "UTC"


def page_components(session: Session, page_id: int) -> list[Any]:
    """(name, sla_target, id, interval_s, thresholds) of the page's components' probes, in page order."""
    return list(
        session.execute(
            select(Component.name, Component.sla_target, Probe.id, Probe.interval_s, Probe.thresholds)
            .join(Probe, Probe.id == Component.probe_id)
            .where(Component.page_id == page_id)
            .order_by(Component.position, Component.id)
        ).all()
    )


def component_inputs(
    session: Session, page: PageHeader, window: Window, only: tuple[str, ...] = ()
) -> list[ComponentInput]:
    """The page's components in page order (``only``: just these names; an unknown one is an error)."""
    rows = page_components(session, page.id)
    names = [r.name for r in rows]
    for name in only:
        if name not in names:
            known = ", ".join(repr(n) for n in names) or "none"
            raise ReportInputError(f"--component: no component {name!r} on page {page.slug!r} (components: {known})")
    if only:
        rows = [r for r in rows if r.name in only]
    spans = load_spans(session, [r.id for r in rows], window.start, window.end) if rows else {}
    operator = [i for i in load_incidents(session, page_id=page.id) if i.auto_probe_id is None]
    maint = maintenance_intervals(session, [r.id for r in rows], window.start, window.end) if rows else {}
    out = []
    for r in rows:
        interval = float(r.interval_s or 60.0)
        gap = NO_DATA_INTERVALS * interval
        samples = [
            MetricSample(float(at), dict(metrics or {}))
            for at, metrics in session.execute(
                select(Execution.started_at, Execution.metrics)
                .where(
                    Execution.probe_id == r.id,
                    Execution.started_at >= window.start - gap,
                    Execution.started_at < window.end,
                )
                .order_by(Execution.started_at)
            )
        ]
        out.append(
            ComponentInput(
                name=r.name,
                spans=tuple(spans.get(r.id, ())),
                sla_target=r.sla_target,
                samples=tuple(samples),
                thresholds=thresholds_from_json(r.thresholds),
                sample_gap_s=gap,
                interval_s=interval,
                maintenance=tuple((m.start, m.end) for m in maint.get(r.id, ())),
                maintenance_is_downtime=page.maintenance_is_downtime,
                operator_incidents=tuple(
                    (i.created_at, i.resolved_at) for i in operator if any(c.probe_id == r.id for c in i.components)
                ),
            )
        )
    return out


def report_window(page: PageHeader, month: str, now: float) -> Window:
    """The month in the page's zone, cut at now; ReportInputError (one line) for a bad month."""
    try:
        return month_window(month, page.timezone, now)
    except ValueError as exc:
        raise ReportInputError(f"--month: {exc}") from None
