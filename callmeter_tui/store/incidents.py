"""Operator incidents in the store: open, update, resolve, list, and the cheap revision other processes watch.

Every writer (CLI, dashboard form, drill-down) goes through these functions, so the rules (a message is
required, names must exist, resolved means resolved_at is set) are written once. Bad input raises
``IncidentError`` with one line naming the field; nothing is written then.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..domain.incident_status import (
    IMPACT_COMPONENT_STATUS,
    AffectedComponent,
    ComponentStatus,
    Impact,
    IncidentStatus,
    IncidentUpdate,
    OperatorIncident,
    parse_choice,
)
from .models import (
    Component,
    IncidentComponentRow,
    IncidentUpdateRow,
    OperatorIncidentRow,
    Probe,
    StatusPage,
)

MAX_TITLE = 200
MAX_BODY = 10_000


class IncidentError(ValueError):
    """Bad input for an incident: the message is one line naming the field."""


@dataclass(frozen=True)
class ComponentChoice:
    """A component named by the operator, optionally with the status they set (``NAME`` or ``NAME=STATUS``)."""

    name: str
    status: ComponentStatus | None = None

    @classmethod
    def parse(cls, text: str) -> ComponentChoice:
        name, sep, status = text.partition("=")
        if not name.strip():
            raise IncidentError(f"--component: {text!r} names no component")
        if not sep:
            return cls(name.strip())
        try:
            parsed = parse_choice(ComponentStatus, "--component status", status)
        except ValueError as e:
            raise IncidentError(str(e)) from None
        return cls(name.strip(), ComponentStatus(parsed))


def parse_impact(value: str) -> Impact:
    try:
        return Impact(parse_choice(Impact, "--impact", value))
    except ValueError as e:
        raise IncidentError(str(e)) from None


def parse_status(value: str) -> IncidentStatus:
    try:
        return IncidentStatus(parse_choice(IncidentStatus, "--status", value))
    except ValueError as e:
        raise IncidentError(str(e)) from None


def _text(field: str, value: str | None, limit: int, *, required: bool) -> str:
    text = (value or "").strip()
    if required and not text:
        raise IncidentError(f"{field}: must not be empty")
    if len(text) > limit:
        raise IncidentError(f"{field}: {len(text)} characters, at most {limit}")
    return text


def _page(session: Session, slug: str) -> StatusPage:
    page = session.scalars(select(StatusPage).where(StatusPage.slug == slug)).first()
    if page is None:
        known = ", ".join(sorted(session.scalars(select(StatusPage.slug)))) or "none"
        raise IncidentError(f"--page: no status page {slug!r} (pages: {known})")
    return page


def _incident(session: Session, incident_id: int) -> OperatorIncidentRow:
    row = session.get(OperatorIncidentRow, incident_id)
    if row is None:
        raise IncidentError(f"ID: no incident {incident_id}")
    return row


def _component_probe(session: Session, page: StatusPage, name: str) -> int:
    """The probe behind the page's component called ``name`` (its display name, else its probe's name)."""
    rows = session.execute(
        select(Component.name, Probe.name, Probe.id)
        .join(Probe, Probe.id == Component.probe_id)
        .where(Component.page_id == page.id)
    ).all()
    for comp_name, probe_name, probe_id in rows:
        if name in (comp_name, probe_name):
            return int(probe_id)
    known = ", ".join(repr(r[0]) for r in rows) or "none"
    raise IncidentError(f"--component: no component {name!r} on page {page.slug!r} (components: {known})")


def _set_components(
    session: Session, row: OperatorIncidentRow, page: StatusPage, choices: Iterable[ComponentChoice], impact: Impact
) -> None:
    for choice in choices:
        probe_id = _component_probe(session, page, choice.name)
        status = (choice.status or IMPACT_COMPONENT_STATUS[impact]).value
        found = session.get(IncidentComponentRow, (row.id, probe_id))
        if found is None:
            session.add(IncidentComponentRow(incident_id=row.id, probe_id=probe_id, status=status))
        else:
            found.status = status


def open_incident(
    session: Session,
    *,
    slug: str,
    title: str,
    message: str,
    now: float,
    impact: Impact = Impact.NONE,
    status: IncidentStatus = IncidentStatus.INVESTIGATING,
    components: Sequence[ComponentChoice] = (),
    auto: tuple[int, float] | None = None,
) -> int:
    """A new incident with its first update; returns its id. ``auto`` = (probe id, start) adopts an
    automatic incident (its times stay the automatic ones)."""
    page = _page(session, slug)
    title = _text("--title", title, MAX_TITLE, required=True)
    body = _text("--message", message, MAX_BODY, required=True)
    started = auto[1] if auto is not None else now
    row = OperatorIncidentRow(
        page_id=page.id,
        title=title,
        impact=impact.value,
        status=status.value,
        auto_probe_id=auto[0] if auto is not None else None,
        auto_started_at=auto[1] if auto is not None else None,
        created_at=started,
        updated_at=now,
        resolved_at=now if status is IncidentStatus.RESOLVED else None,
    )
    session.add(row)
    session.flush()
    _set_components(session, row, page, components, impact)
    session.add(IncidentUpdateRow(incident_id=row.id, status=status.value, body=body, created_at=now))
    session.flush()
    return int(row.id)


def update_incident(
    session: Session,
    incident_id: int,
    *,
    status: IncidentStatus,
    message: str,
    now: float,
    components: Sequence[ComponentChoice] = (),
    impact: Impact | None = None,
    postmortem: str | None = None,
) -> None:
    """One more timestamped update (text + status); components named get the status given."""
    row = _incident(session, incident_id)
    body = _text("--message", message, MAX_BODY, required=True)
    if impact is not None:
        row.impact = impact.value
    if components:
        _set_components(session, row, session.get_one(StatusPage, row.page_id), components, Impact(row.impact))
    if postmortem is not None:
        row.postmortem = _text("--postmortem", postmortem, MAX_BODY, required=False) or None
    row.status = status.value
    row.updated_at = now
    row.resolved_at = now if status is IncidentStatus.RESOLVED else None
    session.add(IncidentUpdateRow(incident_id=row.id, status=status.value, body=body, created_at=now))
    session.flush()


def resolve_incident(session: Session, incident_id: int, *, now: float, message: str | None = None) -> None:
    row = _incident(session, incident_id)
    if row.status == IncidentStatus.RESOLVED.value:
        raise IncidentError(f"ID: incident {incident_id} is already resolved")
    update_incident(
        session,
        incident_id,
        status=IncidentStatus.RESOLVED,
        message=message or "This incident has been resolved.",
        now=now,
    )


def load_incidents(session: Session, *, slug: str | None = None, page_id: int | None = None) -> list[OperatorIncident]:
    """Operator incidents, newest first, with components (page display names) and updates."""
    query = select(OperatorIncidentRow, StatusPage.slug).join(StatusPage, StatusPage.id == OperatorIncidentRow.page_id)
    if slug is not None:
        query = query.where(StatusPage.slug == _page(session, slug).slug)
    if page_id is not None:
        query = query.where(OperatorIncidentRow.page_id == page_id)
    rows = session.execute(query.order_by(OperatorIncidentRow.created_at.desc(), OperatorIncidentRow.id.desc())).all()
    ids = [r[0].id for r in rows]
    if not ids:
        return []
    updates: dict[int, list[IncidentUpdate]] = {i: [] for i in ids}
    for u in session.scalars(
        select(IncidentUpdateRow)
        .where(IncidentUpdateRow.incident_id.in_(ids))
        .order_by(IncidentUpdateRow.created_at, IncidentUpdateRow.id)
    ):
        updates[u.incident_id].append(IncidentUpdate(u.id, IncidentStatus(u.status), u.body, u.created_at))
    comps: dict[int, list[AffectedComponent]] = {i: [] for i in ids}
    names = session.execute(
        select(IncidentComponentRow, Component.name, Probe.name)
        .join(Probe, Probe.id == IncidentComponentRow.probe_id)
        .join(OperatorIncidentRow, OperatorIncidentRow.id == IncidentComponentRow.incident_id)
        .outerjoin(
            Component,
            (Component.probe_id == IncidentComponentRow.probe_id) & (Component.page_id == OperatorIncidentRow.page_id),
        )
        .where(IncidentComponentRow.incident_id.in_(ids))
        .order_by(Component.position)
    ).all()
    for link, comp_name, probe_name in names:
        comps[link.incident_id].append(
            AffectedComponent(link.probe_id, comp_name or probe_name, ComponentStatus(link.status))
        )
    return [
        OperatorIncident(
            id=r.id,
            page_slug=page_slug,
            title=r.title,
            impact=Impact(r.impact),
            status=IncidentStatus(r.status),
            created_at=r.created_at,
            updated_at=r.updated_at,
            resolved_at=r.resolved_at,
            components=tuple(comps[r.id]),
            updates=tuple(updates[r.id]),
            postmortem=r.postmortem,
            auto_probe_id=r.auto_probe_id,
            auto_started_at=r.auto_started_at,
        )
        for r, page_slug in rows
    ]


def incident_revision(session: Session) -> tuple[int, int, float]:
    """Changes whenever any incident is opened, updated or deleted: (incidents, updates, latest change).
    Two cheap aggregate queries, what a running node polls to see writes by other processes."""
    n, latest = session.execute(select(func.count(), func.max(OperatorIncidentRow.updated_at))).one()
    updates = session.scalar(select(func.count()).select_from(IncidentUpdateRow))
    return int(n or 0), int(updates or 0), float(latest or 0.0)


def incident_page_slugs(session: Session, incident_id: int) -> tuple[str, ...]:
    row = _incident(session, incident_id)
    return (session.get_one(StatusPage, row.page_id).slug,)
