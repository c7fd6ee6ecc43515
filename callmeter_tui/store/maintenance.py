"""Scheduled maintenance windows in the store: schedule, cancel, list, and the one read every consumer
uses for "which time was maintenance" (pages, webhooks, SLA reports).

A window belongs to a page component, and so to the probe behind it: maintenance of that probe counts
on every page that shows it and for its webhooks. Bad input raises ``MaintenanceError`` naming the key
(page, component, id, title, start, end, rrule); nothing is written then.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from ..config.fields import control_char_problem
from ..config.recurrence import expand, first_start, last_end, make_rule
from ..domain.maintenance import Interval, MaintenanceError, MaintenanceSpec, WindowRule, merge
from .models import Component, MaintenanceWindow, StatusPage

CLI = "cli"
CONFIG = "config"
DASHBOARD = "dashboard"
MAX_TITLE = 200


@dataclass(frozen=True)
class WindowView:
    """One window as listings, pages and JSON show it."""

    id: int
    page_slug: str
    probe_id: int
    component: str
    title: str
    rule: WindowRule
    starts_at: float
    ends_at: float | None  # None: recurs without end
    source: str
    cancelled_at: float | None
    created_at: float
    updated_at: float


def _rule(row: MaintenanceWindow) -> WindowRule:
    return WindowRule(row.starts_local, row.ends_local, row.timezone, row.rrule, row.cancelled_at)


def _view(row: MaintenanceWindow, slug: str) -> WindowView:
    return WindowView(
        id=row.id,
        page_slug=slug,
        probe_id=row.probe_id,
        component=row.component,
        title=row.title,
        rule=_rule(row),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        source=row.source,
        cancelled_at=row.cancelled_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _title(title: str) -> str:
    text = (title or "").strip()
    if not text:
        raise MaintenanceError("title", "must not be empty")
    if len(text) > MAX_TITLE:
        raise MaintenanceError("title", f"at most {MAX_TITLE} characters, got {len(text)}")
    if why := control_char_problem(text):
        raise MaintenanceError("title", why)
    return text


def _page(session: Session, slug: str) -> StatusPage:
    page = session.scalar(select(StatusPage).where(StatusPage.slug == slug))
    if page is None:
        known = ", ".join(repr(s) for s in session.scalars(select(StatusPage.slug).order_by(StatusPage.slug)))
        raise MaintenanceError("page", f"no status page {slug!r} (pages: {known or 'none'})")
    return page


def _component(session: Session, page: StatusPage, name: str) -> Component:
    comps = list(session.scalars(select(Component).where(Component.page_id == page.id).order_by(Component.position)))
    for c in comps:
        if c.name == name:
            return c
    known = ", ".join(repr(c.name) for c in comps) or "none"
    raise MaintenanceError("component", f"no component {name!r} on page {page.slug!r} (components: {known})")


def schedule(
    session: Session,
    *,
    page: str | None,
    component: str | None,
    title: str | None,
    start: str | None,
    end: str | None,
    rrule: str | None = None,
    source: str = CLI,
    now: float | None = None,
) -> WindowView:
    """Validate and store a window (times in the page's zone unless they carry an offset). No commit."""
    t = time.time() if now is None else now
    given = {"page": page, "component": component, "title": title, "start": start, "end": end}
    for key, value in given.items():
        if value is None or not value.strip():
            raise MaintenanceError(key, "is required")
    fields = {k: str(v) for k, v in given.items()}
    page_row = _page(session, fields["page"])
    comp = _component(session, page_row, fields["component"])
    text = _title(fields["title"])
    rule = make_rule(fields["start"], fields["end"], page_row.timezone or "UTC", rrule)
    row = MaintenanceWindow(
        page_id=page_row.id,
        probe_id=comp.probe_id,
        component=comp.name,
        title=text,
        starts_local=rule.start,
        ends_local=rule.end,
        timezone=rule.timezone,
        rrule=rule.rrule,
        starts_at=first_start(rule),
        ends_at=last_end(rule),
        source=source,
        created_at=t,
        updated_at=t,
    )
    session.add(row)
    session.flush()
    return _view(row, page_row.slug)


def cancel(session: Session, window_id: int, now: float | None = None) -> WindowView:
    """Stop a window from now on (occurrences already past stay, they are history). No commit."""
    row = session.get(MaintenanceWindow, window_id)
    if row is None:
        raise MaintenanceError("id", f"no maintenance window with id {window_id}")
    t = time.time() if now is None else now
    if row.cancelled_at is None:
        row.cancelled_at = t
        row.ends_at = last_end(_rule(row))
        row.updated_at = t
        session.flush()
    slug = session.scalar(select(StatusPage.slug).where(StatusPage.id == row.page_id)) or ""
    return _view(row, slug)


def list_windows(
    session: Session, *, page: str | None = None, since: float | None = None, include_cancelled: bool = True
) -> list[WindowView]:
    """Windows (of one page, or all), those ending after ``since`` when given, oldest start first."""
    q = select(MaintenanceWindow, StatusPage.slug).join(StatusPage, StatusPage.id == MaintenanceWindow.page_id)
    if page is not None:
        q = q.where(MaintenanceWindow.page_id == _page(session, page).id)
    if since is not None:
        q = q.where(or_(MaintenanceWindow.ends_at.is_(None), MaintenanceWindow.ends_at > since))
    if not include_cancelled:
        q = q.where(MaintenanceWindow.cancelled_at.is_(None))
    rows = session.execute(q.order_by(MaintenanceWindow.starts_at, MaintenanceWindow.id)).all()
    return [_view(row, slug) for row, slug in rows]


def page_windows(session: Session, page_id: int, since: float) -> list[WindowView]:
    """Every window of a page's probes that is not over before ``since`` (any page scheduled it)."""
    probes = select(Component.probe_id).where(Component.page_id == page_id)
    q = (
        select(MaintenanceWindow, StatusPage.slug)
        .join(StatusPage, StatusPage.id == MaintenanceWindow.page_id)
        .where(MaintenanceWindow.probe_id.in_(probes))
        .where(or_(MaintenanceWindow.ends_at.is_(None), MaintenanceWindow.ends_at > since))
        .order_by(MaintenanceWindow.starts_at, MaintenanceWindow.id)
    )
    return [_view(row, slug) for row, slug in session.execute(q).all()]


def maintenance_intervals(
    session: Session, probe_ids: Iterable[int], since: float, until: float, *, among: Select[Any] | None = None
) -> dict[int, list[Interval]]:
    """probe id -> merged maintenance intervals overlapping ``[since, until)`` (not clipped): the one read
    the page, the webhooks and the SLA report use. ``among``: a query of (at least) those probe ids to
    select by, instead of a list of bound ids."""
    ids = list(probe_ids)
    if not ids:
        return {}
    asked = set(ids)
    q = select(MaintenanceWindow).where(
        MaintenanceWindow.probe_id.in_(ids if among is None else among),
        MaintenanceWindow.starts_at < until + 86400.0,  # a DST shift at most moves the first start
        or_(MaintenanceWindow.ends_at.is_(None), MaintenanceWindow.ends_at > since),
    )
    found: dict[int, list[Interval]] = {}
    for row in session.scalars(q):
        if row.probe_id in asked:
            found.setdefault(row.probe_id, []).extend(expand(_rule(row), since, until))
    return {pid: merge(v) for pid, v in found.items()}


def active_probe_ids(session: Session, at: float) -> frozenset[int]:
    """Probes inside a maintenance window at ``at``."""
    ids = session.scalars(
        select(MaintenanceWindow.probe_id)
        .where(MaintenanceWindow.starts_at <= at + 86400.0)
        .where(or_(MaintenanceWindow.ends_at.is_(None), MaintenanceWindow.ends_at > at))
        .distinct()
    ).all()
    found = maintenance_intervals(session, ids, at, at + 1e-3)
    return frozenset(pid for pid, intervals in found.items() if intervals)


def under_maintenance(session: Session, probe_id: int, at: float) -> bool:
    """Whether ``probe_id`` is inside a maintenance window at ``at``."""
    return bool(maintenance_intervals(session, [probe_id], at, at + 1e-3).get(probe_id))


def sync_config_windows(session: Session, specs: Iterable[MaintenanceSpec], now: float) -> list[str]:
    """``[[maintenance]]`` -> rows (source "config"), matched by everything they say. A window no longer in
    the file is cancelled from now (its past stays history). Returns one-line conflicts. No commit."""
    conflicts: list[str] = []
    existing = {}
    for w in list_windows(session, include_cancelled=False):
        if w.source == CONFIG:
            existing[(w.page_slug, w.component, w.title, w.rule.start, w.rule.end, w.rule.rrule)] = w.id
    wanted = set()
    for i, spec in enumerate(specs):
        page = session.scalar(select(StatusPage).where(StatusPage.slug == spec.page))
        if page is None:
            conflicts.append(f"maintenance[{i}].page: no status page {spec.page!r} in the database")
            continue
        try:
            rule = make_rule(spec.start, spec.end, page.timezone or "UTC", spec.rrule)
        except MaintenanceError as exc:
            conflicts.append(f"maintenance[{i}].{exc.key}: {exc.message}")
            continue
        key = (spec.page, spec.component, spec.title.strip(), rule.start, rule.end, rule.rrule)
        wanted.add(key)
        if key in existing:
            continue
        try:
            w = schedule(
                session,
                page=spec.page,
                component=spec.component,
                title=spec.title,
                start=spec.start,
                end=spec.end,
                rrule=spec.rrule,
                source=CONFIG,
                now=now,
            )
        except MaintenanceError as exc:
            conflicts.append(f"maintenance[{i}].{exc.key}: {exc.message}")
            continue
        existing[key] = w.id
    for key, window_id in existing.items():
        if key not in wanted:
            cancel(session, window_id, now)
    return conflicts


def signature(session: Session) -> tuple[int, float]:
    """(rows, latest change): changes when any process schedules or cancels a window."""
    n, latest = session.execute(select(func.count(MaintenanceWindow.id), func.max(MaintenanceWindow.updated_at))).one()
    return int(n or 0), float(latest or 0.0)


__all__ = [
    "CLI",
    "CONFIG",
    "DASHBOARD",
    "MaintenanceError",
    "WindowView",
    "active_probe_ids",
    "cancel",
    "list_windows",
    "maintenance_intervals",
    "page_windows",
    "schedule",
    "signature",
    "sync_config_windows",
    "under_maintenance",
]
