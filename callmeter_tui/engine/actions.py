"""Operator actions that change stored objects: plain functions of one session (the caller's unit of work commits
or rolls back), returning what the Monitor needs to tell the views. No event is published here."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ..domain.probe import ProbeSpec, StatusPageSpec, WebhookFormat
from ..store.database import project_id
from ..store.models import Component, Probe, StatusPage
from ..store.sync import apply_probe_spec, new_probe_row
from ..webhooks import outbox


def create_probe(s: Session, spec: ProbeSpec, now: float) -> int:
    if s.scalar(select(Probe.id).where(Probe.name == spec.name)) is not None:
        raise ValueError(f"name: a probe named {spec.name!r} already exists")
    position = (s.scalar(select(func.max(Probe.position))) or 0) + 1
    row = new_probe_row(spec, project_id(s), now, position=position)
    row.group = spec.group
    s.add(row)
    s.flush()
    return row.id


def update_probe(s: Session, probe_id: int, spec: ProbeSpec, now: float) -> bool:
    """Apply ``spec``; True when the target or kind changed (the probe's history no longer applies)."""
    row = s.get(Probe, probe_id)
    if row is None:
        raise KeyError(f"probe {probe_id} no longer exists")
    changed = apply_probe_spec(row, spec, now)
    return bool(changed & {"target", "kind"})


def delete_probe(s: Session, probe_id: int) -> None:
    s.execute(delete(Component).where(Component.probe_id == probe_id))
    row = s.get(Probe, probe_id)
    if row is not None:
        s.delete(row)


def save_status_page(s: Session, spec: StatusPageSpec, page_id: int | None, now: float) -> tuple[int, list[str]]:
    """(page id, slugs whose pages changed: the old and the new one)."""
    probes = {p.name: p.id for p in s.scalars(select(Probe))}
    clash = s.scalar(select(StatusPage.id).where(StatusPage.slug == spec.slug))
    if clash is not None and clash != page_id:
        raise ValueError(f"slug: a status page with slug {spec.slug!r} already exists")
    page = s.get(StatusPage, page_id) if page_id is not None else None
    old_slug = page.slug if page else spec.slug
    if page is None:
        page = StatusPage(slug=spec.slug, name=spec.name, source="interactive", updated_at=now)
        s.add(page)
    page.slug, page.name, page.description = spec.slug, spec.name, spec.description
    page.accent_color, page.logo_path, page.timezone = spec.accent_color, spec.logo, spec.timezone
    page.bar_days, page.refresh_s, page.updated_at = spec.bar_days, spec.refresh_s, now
    # The page form does not edit SLA targets: a component the form keeps keeps its target.
    targets = {c.probe_id: c.sla_target for c in page.components}
    page.components.clear()
    s.flush()
    for i, c in enumerate(spec.components):
        if c.probe not in probes:
            raise ValueError(f"components[{i}].probe: no probe named {c.probe!r}")
        target = c.sla_target if c.sla_target is not None else targets.get(probes[c.probe])
        page.components.append(Component(probe_id=probes[c.probe], name=c.name, position=i, sla_target=target))
    s.flush()
    return page.id, sorted({old_slug, spec.slug})


def delete_status_page(s: Session, page_id: int) -> str | None:
    """The deleted page's slug, or None when it was already gone."""
    page = s.get(StatusPage, page_id)
    if page is None:
        return None
    slug = page.slug
    s.delete(page)
    return slug


def add_webhook(
    s: Session,
    probe_id: int,
    url: str,
    format: WebhookFormat,
    routing_key_env: str | None,
    now: float,
    allow_private: bool,
) -> tuple[int, str]:
    """(webhook id, its generated secret, shown once)."""
    hook, secret = outbox.create_webhook(
        s,
        probe_id,
        url,
        format,
        now,
        source="interactive",
        routing_key_env=routing_key_env,
        allow_private=allow_private,
    )
    s.flush()
    assert secret is not None  # no secret_env here: a generated secret, shown once
    return hook.id, secret
