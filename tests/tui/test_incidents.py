"""Operator incidents in the dashboard (Pilot): the wall's form and list, "open incident for this
component" in the drill-down (prefilled, adopting the automatic incident), and changes written by another
process showing within 5 s. The engine side is the real IncidentDesk on a real SQLite database."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path

import pytest
from textual.widgets import Input

from callmeter_tui.domain.health import HealthState
from callmeter_tui.domain.incident_status import IncidentStatus
from callmeter_tui.domain.incidents import Incident
from callmeter_tui.domain.probe import ComponentSpec, StatusPageSpec
from callmeter_tui.engine.api import StatusPageView
from callmeter_tui.engine.incident_desk import IncidentDesk
from callmeter_tui.store.database import Database, open_database, project_id, transaction
from callmeter_tui.store.incidents import load_incidents, open_incident
from callmeter_tui.store.models import Component, Probe, StatusPage
from callmeter_tui.tui.app import CallMeterApp
from callmeter_tui.tui.incident_form import IncidentForm
from tests.tui.fakes import T0, FakeMonitor
from tests.tui.helpers import screen_text

AUTO_START = T0 - 900


@pytest.fixture
def db(tmp_path: Path):  # type: ignore[no-untyped-def]
    database = open_database(f"sqlite:///{tmp_path / 'callmeter.db'}")
    yield database
    database.close()


def setup(db: Database) -> tuple[FakeMonitor, int]:
    """The same probe and page in the fake monitor (what the dashboard lists) and in the database."""
    m = FakeMonitor()
    pid = m.add("Trunk probe", "UNHEALTHY")
    spec = StatusPageSpec(slug="voip", name="VoIP", components=(ComponentSpec(probe="Trunk probe", name="Trunk"),))
    m.pages[1] = StatusPageView(1, spec, "config")
    with transaction(db.sessions) as s:
        probe = Probe(
            id=pid,
            project_id=project_id(s),
            name="Trunk probe",
            kind="sip_call",
            target="sip:x@127.0.0.1",
            created_at=T0,
            updated_at=T0,
        )
        page = StatusPage(slug="voip", name="VoIP", updated_at=T0)
        page.components.append(Component(probe_id=pid, name="Trunk", position=0))
        s.add_all([probe, page])
    real_detail = m.probe_detail

    async def detail_with_incident(probe_id: int, range_s: float = 86400.0):  # type: ignore[no-untyped-def]
        d = await real_detail(probe_id, range_s)
        return dataclasses.replace(d, incidents=(Incident(AUTO_START, None, HealthState.UNHEALTHY),))

    m.probe_detail = detail_with_incident  # type: ignore[method-assign]
    return m, pid


def app_for(m: FakeMonitor, desk: IncidentDesk) -> CallMeterApp:
    return CallMeterApp(m, clock=lambda: T0, incident_desk=desk, startup=desk.start, shutdown=desk.stop)


def stored(db: Database) -> list:  # type: ignore[type-arg]
    with db.session() as s:
        return load_incidents(s)


async def wait_text(pilot, app, needle: str, within: float) -> float:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    while time.monotonic() - started < within + 5:
        await pilot.pause(0.1)
        if needle in screen_text(app):
            return time.monotonic() - started
    raise AssertionError(f"{needle!r} not on screen:\n{screen_text(app)}")


async def test_wall_form_opens_an_incident_listed_on_the_wall(db: Database) -> None:
    m, _ = setup(db)
    desk = IncidentDesk(db, m.bus, clock=lambda: T0)
    app = app_for(m, desk)
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.pause(0.3)
        await pilot.press("i")
        await pilot.pause(0.3)
        form = app.screen
        assert isinstance(form, IncidentForm)
        for ch in "Calls fail":
            await pilot.press(ch if ch != " " else "space")
        form.query_one("#f-components", Input).value = "Nope"
        form.query_one("#f-message", Input).value = "<b>Looking</b> into it."
        await pilot.press("ctrl+s")
        await pilot.pause(0.3)
        assert isinstance(app.screen, IncidentForm), "an unknown component must keep the form open"
        assert "no component 'Nope'" in screen_text(app) and stored(db) == []
        form.query_one("#f-components", Input).value = "Trunk"
        await pilot.press("ctrl+s")
        await pilot.pause(0.3)
        assert not isinstance(app.screen, IncidentForm)
        (inc,) = stored(db)
        assert (inc.title, inc.updates[0].body, [c.name for c in inc.components]) == (
            "Calls fail",
            "<b>Looking</b> into it.",
            ["Trunk"],
        )
        await wait_text(pilot, app, f"#{inc.id} [none] Calls fail", 3)
        assert "<b>Looking</b> into it." in screen_text(app)  # shown as written, not as markup


async def test_drill_down_adopts_the_automatic_incident_then_updates_it(db: Database) -> None:
    m, pid = setup(db)
    desk = IncidentDesk(db, m.bus, clock=lambda: T0)
    app = app_for(m, desk)
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.pause(0.3)
        app.wall.probes.select_id(pid)
        await pilot.press("enter")
        await pilot.pause(0.4)
        await pilot.press("o")
        await pilot.pause(0.4)
        form = app.screen
        assert isinstance(form, IncidentForm) and form.incident is None
        assert form.query_one("#f-title", Input).value == "Trunk: unhealthy"
        assert form.query_one("#f-components", Input).value == "Trunk"
        assert form.draft.auto == (pid, AUTO_START) and form.choice("impact") == "major"
        form.query_one("#f-message", Input).value = "Carrier says a fibre cut."
        await pilot.press("ctrl+s")
        await pilot.pause(0.4)
        (inc,) = stored(db)
        assert (inc.auto_probe_id, inc.auto_started_at, inc.created_at) == (pid, AUTO_START, AUTO_START)
        await pilot.press("o")  # the same run again: now an update to the operator's incident
        await pilot.pause(0.4)
        form = app.screen
        assert isinstance(form, IncidentForm) and form.incident is not None and form.incident.id == inc.id
        form.query_one("#f-message", Input).value = "Fibre spliced, watching."
        form.query_one("#f-status").value = "monitoring"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await pilot.pause(0.4)
        (inc,) = stored(db)
        assert [u.status for u in inc.updates] == [IncidentStatus.INVESTIGATING, IncidentStatus.MONITORING]


async def test_another_process_s_incident_shows_on_the_wall_within_5_s(database: Database) -> None:
    """On SQLite and PostgreSQL (the ``database`` fixture runs both)."""
    db = database
    m, _ = setup(db)
    desk = IncidentDesk(db, m.bus, clock=lambda: T0)
    app = app_for(m, desk)
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.pause(0.5)
        other = open_database(db.url)  # its own engine and connections, as the CLI's would be

        def write() -> None:
            with transaction(other.sessions) as s:
                open_incident(s, slug="voip", title="Written elsewhere", message="By the CLI.", now=T0)

        await asyncio.to_thread(write)
        other.close()
        took = await wait_text(pilot, app, "Written elsewhere", 5)
        assert took < 5.0, f"shown after {took:.1f} s"
