"""What one public page shows, read from the store in one short session (runs in a worker thread).

Only customer-facing fields are copied out: never probe targets, user names or secrets.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..domain.bars import day_boundaries
from ..store.models import Execution, Probe, StatusPage
from ..store.queries import load_spans
from .logo import load_logo, sniff_logo

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ComponentData:
    position: int            # 1-based display order
    name: str
    probe_id: int
    state: str               # HealthState value
    last_checked: float | None
    created_at: float
    updated_at: float
    spans: tuple[Any, ...]   # domain.spans.HealthSpan within the bar window


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
    boundaries: tuple[float, ...]   # day edges in the page's time zone, oldest first
    now: float


def list_slugs(session: Session) -> list[str]:
    return list(session.scalars(select(StatusPage.slug)))


def load_page(session: Session, slug: str, now: float) -> PageData | None:
    """The page called ``slug`` with its components, states and spans; None when there is no such page."""
    page = session.scalars(
        select(StatusPage).where(StatusPage.slug == slug).options(selectinload(StatusPage.components))
    ).first()
    if page is None:
        return None
    tz = safe_timezone(page.timezone)
    bar_days = max(1, min(int(page.bar_days or 90), 3650))
    boundaries = tuple(day_boundaries(now, bar_days, tz))
    comps = sorted(page.components, key=lambda c: c.position)
    probe_ids = [c.probe_id for c in comps]
    probes = {p.id: p for p in session.scalars(select(Probe).where(Probe.id.in_(probe_ids)))} if probe_ids else {}
    spans = load_spans(session, probe_ids, boundaries[0], now) if probe_ids else {}
    components = []
    for i, comp in enumerate(comps, start=1):
        probe = probes.get(comp.probe_id)
        if probe is None:
            continue
        components.append(
            ComponentData(
                position=i,
                name=comp.name,
                probe_id=probe.id,
                state=probe.state or "UNKNOWN",
                last_checked=probe.last_execution_at,
                created_at=probe.created_at,
                updated_at=max(probe.updated_at or 0.0, probe.state_since or 0.0),
                spans=tuple(spans.get(probe.id, ())),
            )
        )
    return PageData(
        id=page.id,
        slug=page.slug,
        name=page.name,
        description=page.description or "",
        accent_color=page.accent_color,
        timezone=tz,
        bar_days=bar_days,
        refresh_s=max(1, int(page.refresh_s or 60)),
        updated_at=page.updated_at,
        logo=_logo(page),
        components=tuple(components),
        boundaries=boundaries,
        now=now,
    )


def _logo(page: StatusPage) -> tuple[bytes, str] | None:
    """Stored logo bytes win over the path; a bad logo is dropped (the page still renders)."""
    try:
        if page.logo_bytes:
            return sniff_logo(page.logo_bytes)
        if page.logo_path:
            return load_logo(page.logo_path)
    except ValueError as exc:
        log.warning("status page %s: %s", page.slug, exc)
    return None


def safe_timezone(name: str | None) -> str:
    """The page's IANA zone if it exists here, else UTC (config validation already reported it)."""
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(name or "UTC")
        return name or "UTC"
    except (ValueError, KeyError, OSError):
        return "UTC"


@dataclass(frozen=True)
class ProbeMetrics:
    name: str
    state: str
    last_execution_at: float | None
    metrics: dict[str, float]
    spans: tuple[Any, ...]


def load_probe_metrics(session: Session, since: float, now: float) -> list[ProbeMetrics]:
    """Every probe's state, latest execution metrics and spans since ``since`` (for /metrics)."""
    probes = list(session.scalars(select(Probe).order_by(Probe.position, Probe.id)))
    exec_ids = [p.last_execution_id for p in probes if p.last_execution_id]
    latest = (
        {e.id: e.metrics or {} for e in session.scalars(select(Execution).where(Execution.id.in_(exec_ids)))}
        if exec_ids else {}
    )
    spans = load_spans(session, [p.id for p in probes], since, now) if probes else {}
    return [
        ProbeMetrics(
            name=p.name,
            state=p.state or "UNKNOWN",
            last_execution_at=p.last_execution_at,
            metrics=dict(latest.get(p.last_execution_id or -1, {})),
            spans=tuple(spans.get(p.id, ())),
        )
        for p in probes
    ]


__all__ = ["ComponentData", "PageData", "ProbeMetrics", "list_slugs", "load_page", "load_probe_metrics"]
