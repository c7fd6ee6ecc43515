"""The dashboard's SLA report (key m, from the one key table): pick a page and a month, the file is written
by the same code as ``callmeter-tui report`` into a real SQLite store's report, and its path is toasted."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.widgets import Input, Label

from callmeter_tui.commands.dashboard import report_writer
from callmeter_tui.domain.probe import ComponentSpec, StatusPageSpec
from callmeter_tui.store.database import Database, project_id
from callmeter_tui.store.models import Component, HealthSpanRow, Probe, StatusPage
from callmeter_tui.tui.app import CallMeterApp
from callmeter_tui.tui.keys import ACTIONS
from callmeter_tui.tui.report import ReportScreen
from tests.tui.fakes import T0, mixed_monitor

OCT = datetime(2026, 10, 1, tzinfo=UTC).timestamp()


def seed(db: Database) -> None:
    with db.session() as s:
        p = Probe(
            project_id=project_id(s), name="trunk", kind="sip_options", target="sip:h", created_at=OCT, updated_at=OCT
        )
        s.add(p)
        s.flush()
        s.add(HealthSpanRow(probe_id=p.id, state="HEALTHY", started_at=OCT, ended_at=OCT + 31 * 86400, open=False))
        page = StatusPage(slug="acme", name="Acme", updated_at=OCT)
        page.components.append(Component(probe_id=p.id, name="Trunk <b>1</b>", position=0, sla_target=99.9))
        s.add(page)


async def test_m_writes_the_month_report_and_toasts_its_path(
    sqlite_database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert any(a.id == "sla_report" and a.key == "u" for a in ACTIONS)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    seed(sqlite_database)
    monitor = mixed_monitor("healthy")
    await monitor.save_status_page(StatusPageSpec(slug="acme", name="Acme", components=(ComponentSpec("trunk", "T"),)))
    app = CallMeterApp(monitor, clock=lambda: T0, report_writer=report_writer(sqlite_database))
    async with app.run_test(size=(120, 50)) as pilot:
        await pilot.press("u")
        await pilot.pause(0.3)
        assert isinstance(app.screen, ReportScreen)
        month = app.screen.query_one("#report-month", Input)
        month.value = "2026-13"
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert isinstance(app.screen, ReportScreen)  # refused, nothing written
        assert "expected a month like" in str(app.screen.query_one("#report-error", Label).render())
        month.value = "2026-10"
        await pilot.press("enter")
        written = tmp_path / "state" / "callmeter-tui" / "reports" / "sla-acme-2026-10.html"
        for _ in range(50):
            await pilot.pause(0.1)
            if written.exists() and app._notifications:
                break
        assert not isinstance(app.screen, ReportScreen)
        html = written.read_text()
        assert "Trunk &lt;b&gt;1&lt;/b&gt;" in html and "100.00%" in html and "PASS" in html
        toasts = [str(n.message) for n in app._notifications]
        assert any(f"SLA report written: {written}" in t for t in toasts), toasts
