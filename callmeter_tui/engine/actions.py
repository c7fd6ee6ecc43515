"""Operator actions that change stored objects, then tell the views (probes, pages, webhooks)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select

from ..bus.events import DeliveriesQueued, PagesChanged, ProbesChanged
from ..domain.probe import ProbeSpec, StatusPageSpec
from ..store.database import Database, project_id
from ..store.models import Component, Probe, StatusPage
from ..store.sync import new_probe_row
from ..webhooks import outbox

if TYPE_CHECKING:
    from .monitor import Monitor


def create_probe(db: Database, spec: ProbeSpec, now: float) -> int:
    with db.session() as s:
        if s.scalar(select(Probe.id).where(Probe.name == spec.name)) is not None:
            raise ValueError(f"name: a probe named {spec.name!r} already exists")
        position = (s.scalar(select(func.max(Probe.position))) or 0) + 1
        row = new_probe_row(spec, project_id(s), now, position=position)
        row.group = spec.group
        s.add(row)
        s.flush()
        return row.id


def delete_probe(db: Database, probe_id: int) -> None:
    with db.session() as s:
        s.execute(delete(Component).where(Component.probe_id == probe_id))
        row = s.get(Probe, probe_id)
        if row is not None:
            s.delete(row)


async def save_status_page(m: Monitor, spec: StatusPageSpec, page_id: int | None) -> int:
    def work() -> tuple[int, list[str]]:
        with m.db.session() as s:
            probes = {p.name: p.id for p in s.scalars(select(Probe))}
            clash = s.scalar(select(StatusPage.id).where(StatusPage.slug == spec.slug))
            if clash is not None and clash != page_id:
                raise ValueError(f"slug: a status page with slug {spec.slug!r} already exists")
            page = s.get(StatusPage, page_id) if page_id is not None else None
            old_slug = page.slug if page else spec.slug
            if page is None:
                page = StatusPage(slug=spec.slug, name=spec.name, source="interactive", updated_at=m.clock())
                s.add(page)
            page.slug, page.name, page.description = spec.slug, spec.name, spec.description
            page.accent_color, page.logo_path, page.timezone = spec.accent_color, spec.logo, spec.timezone
            page.bar_days, page.refresh_s, page.updated_at = spec.bar_days, spec.refresh_s, m.clock()
            page.components.clear()
            s.flush()
            for i, c in enumerate(spec.components):
                if c.probe not in probes:
                    raise ValueError(f"components[{i}].probe: no probe named {c.probe!r}")
                page.components.append(Component(probe_id=probes[c.probe], name=c.name, position=i))
            s.flush()
            return page.id, sorted({old_slug, spec.slug})

    pid, slugs = await m.runner.db_call(work)
    m.bus.publish(PagesChanged(tuple(slugs)))
    return pid


async def delete_status_page(m: Monitor, page_id: int) -> None:
    def work() -> str | None:
        with m.db.session() as s:
            page = s.get(StatusPage, page_id)
            if page is None:
                return None
            slug = page.slug
            s.delete(page)
            return slug

    slug = await m.runner.db_call(work)
    if slug:
        m.bus.publish(PagesChanged((slug,)))


async def add_webhook(
    m: Monitor, probe_id: int, url: str, format: str, routing_key_env: str | None = None
) -> tuple[int, str]:
    def work() -> tuple[int, str]:
        with m.db.session() as s:
            hook, secret = outbox.create_webhook(
                s,
                probe_id,
                url,
                format,
                m.clock(),
                source="interactive",
                routing_key_env=routing_key_env,
                allow_private=m.config.webhooks.allow_private_targets,
            )
            s.flush()
            assert secret is not None  # no secret_env here: a generated secret, shown once
            return hook.id, secret

    result = await m.runner.db_call(work)
    m.bus.publish(ProbesChanged((probe_id,)))
    return result


async def set_webhook_enabled(m: Monitor, webhook_id: int, enabled: bool) -> None:
    def work() -> None:
        with m.db.session() as s:
            outbox.set_enabled(s, webhook_id, enabled, m.clock())

    await m.runner.db_call(work)


async def rotate_webhook_secret(m: Monitor, webhook_id: int) -> str:
    def work() -> str:
        with m.db.session() as s:
            return outbox.rotate_secret(s, webhook_id)

    return await m.runner.db_call(work)


async def delete_webhook(m: Monitor, webhook_id: int) -> None:
    def work() -> None:
        with m.db.session() as s:
            outbox.delete_webhook(s, webhook_id)

    await m.runner.db_call(work)


async def redeliver(m: Monitor, delivery_id: int) -> int:
    def work() -> int:
        with m.db.session() as s:
            return outbox.redeliver(s, delivery_id, m.clock())

    did = await m.runner.db_call(work)
    m.bus.publish(DeliveriesQueued(1))
    return did


async def send_test_event(m: Monitor, webhook_id: int) -> int:
    def work() -> int:
        with m.db.session() as s:
            return outbox.enqueue_test(s, webhook_id, m.clock())

    did = await m.runner.db_call(work)
    m.bus.publish(DeliveriesQueued(1))
    return did
