"""Status page test set-up: a real SQLite database seeded through the store models, a real WebServer
on a free loopback port, and a fixed clock so uptime and bars are exact."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from callmeter_tui.bus.events import EventBus
from callmeter_tui.config.model import Config, WebSettings
from callmeter_tui.store.database import Database
from callmeter_tui.store.models import Component, HealthSpanRow, Probe, StatusPage
from callmeter_tui.web.server import WebServer

HOUR = 3600.0
DAY = 86400.0
# A fixed "now": 2026-11-22 12:00:00 UTC.
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC).timestamp()


class Seed:
    """Writes probes, spans and pages the way the engine and config sync would."""

    def __init__(self, db: Database) -> None:
        self.db = db
        with db.session() as s:
            from callmeter_tui.store.database import project_id

            self.project = project_id(s)

    def probe(
        self,
        name: str,
        state: str = "HEALTHY",
        spans: list[tuple[str, float, float]] = (),  # type: ignore[assignment]
        last: float | None = NOW - 30,
        metrics: dict[str, float] | None = None,
    ) -> int:
        """A probe with closed spans (state, start, end); ``metrics`` becomes its latest execution."""
        from callmeter_tui.store.models import Execution

        with self.db.session() as s:
            p = Probe(
                project_id=self.project,
                name=name,
                kind="sip_options",
                target="sip:secret-host.example:5060",
                username="alice",
                password_env="SECRET_ENV",
                state=state,
                state_since=NOW - HOUR,
                last_execution_at=last,
                created_at=NOW - 100 * DAY,
                updated_at=NOW - 100 * DAY,
                interval_s=60.0,
            )
            s.add(p)
            s.flush()
            for st, a, b in spans:
                s.add(HealthSpanRow(probe_id=p.id, state=st, started_at=a, ended_at=b, open=False))
            if metrics is not None:
                e = Execution(probe_id=p.id, started_at=last or NOW, state=state, ok=True, metrics=metrics)
                s.add(e)
                s.flush()
                p.last_execution_id = e.id
            return p.id

    def page(self, slug: str, name: str, components: list[tuple[int, str]], **kw: Any) -> int:
        with self.db.session() as s:
            page = StatusPage(slug=slug, name=name, updated_at=NOW - DAY, **kw)
            for pos, (probe_id, cname) in enumerate(components):
                page.components.append(Component(probe_id=probe_id, name=cname, position=pos))
            s.add(page)
            s.flush()
            return page.id

    def set_state(self, probe_id: int, state: str) -> None:
        with self.db.session() as s:
            s.get(Probe, probe_id).state = state  # type: ignore[union-attr]

    def edit_page(self, slug: str, **values: Any) -> None:
        from sqlalchemy import select

        with self.db.session() as s:
            page = s.scalars(select(StatusPage).where(StatusPage.slug == slug)).one()
            for k, v in values.items():
                setattr(page, k, v)

    def delete_page(self, slug: str) -> None:
        from sqlalchemy import select

        with self.db.session() as s:
            s.delete(s.scalars(select(StatusPage).where(StatusPage.slug == slug)).one())


@pytest.fixture
def db(sqlite_database: Database) -> Database:
    return sqlite_database


@pytest.fixture
def seed(db: Database) -> Seed:
    return Seed(db)


@pytest.fixture
def bus() -> EventBus:
    return EventBus()


def web_config(**web: Any) -> Config:
    return Config(web=dataclasses.replace(WebSettings(), **({"host": "127.0.0.1", "port": 0} | web)))


class Running:
    """A started WebServer plus an HTTP client pointed at it."""

    def __init__(self, server: WebServer, client: httpx.AsyncClient) -> None:
        self.server = server
        self.client = client

    @property
    def url(self) -> str:
        return self.server.url


async def start_server(db: Database, bus: EventBus, **web: Any) -> Running:
    server = WebServer(db, web_config(**web), bus, clock=lambda: NOW)
    await server.start()
    client = httpx.AsyncClient(base_url=server.url, timeout=30)
    return Running(server, client)


@pytest.fixture
async def make_server(db: Database, bus: EventBus) -> AsyncIterator[Any]:
    """``await make_server(**web_settings)``: started after the test seeded its data; stopped at the end."""
    started: list[Running] = []

    async def _make(**web: Any) -> Running:
        running = await start_server(db, bus, **web)
        started.append(running)
        return running

    yield _make
    for running in started:
        await running.client.aclose()
        await running.server.stop()
