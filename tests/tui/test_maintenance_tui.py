"""The dashboard and scheduled maintenance: the form (key m) is prefilled for the selected probe, refuses
a window that ends before it starts under the End field, and saves; a probe under maintenance shows the
palette's maintenance symbol and words in its row."""

from __future__ import annotations

import dataclasses

from textual.widgets import Input, Label

from callmeter_tui.domain.palette import MAINTENANCE_LABEL, MAINTENANCE_SYMBOL
from callmeter_tui.domain.probe import ComponentSpec, StatusPageSpec
from callmeter_tui.tui.app import CallMeterApp
from callmeter_tui.tui.maintenance_form import MaintenanceForm
from tests.tui.fakes import T0, mixed_monitor
from tests.tui.helpers import screen_text


async def test_schedule_form_prefills_refuses_and_saves() -> None:
    m = mixed_monitor("healthy")
    pid = next(v.id for v in m.views.values() if v.name == "PBX OPTIONS (Berlin)")
    spec = StatusPageSpec(
        slug="voip", name="VoIP", components=(ComponentSpec(probe="PBX OPTIONS (Berlin)", name="PBX"),)
    )
    await m.save_status_page(spec)
    m.calls.clear()
    app = CallMeterApp(m, clock=lambda: T0)
    async with app.run_test(size=(120, 50)) as pilot:
        await pilot.pause()
        app.wall.probes.select_id(pid)
        await pilot.press("m")
        await pilot.pause(0.3)
        form = app.screen
        assert isinstance(form, MaintenanceForm)
        assert form.query_one("#f-page", Input).value == "voip"
        assert form.query_one("#f-component", Input).value == "PBX"
        for key, value in {"title": "Swap", "start": "2030-01-01T04:00", "end": "2030-01-01T02:00"}.items():
            form.query_one(f"#f-{key}", Input).value = value
        await pilot.press("ctrl+s")
        await pilot.pause(0.3)
        assert isinstance(app.screen, MaintenanceForm)
        end_error = form.query_one("#err-end", Label)
        assert end_error.has_class("shown") and "ends" in str(end_error.render())
        assert m.calls == []
        form.query_one("#f-end", Input).value = "2030-01-01T05:00"
        await pilot.press("ctrl+s")
        await pilot.pause(0.3)
        assert not isinstance(app.screen, MaintenanceForm)
        assert m.calls == [
            ("schedule_maintenance", ("voip", "PBX", "Swap", "2030-01-01T04:00", "2030-01-01T05:00", None))
        ]


async def test_row_shows_under_maintenance() -> None:
    m = mixed_monitor("major")
    pid = next(v.id for v in m.views.values() if v.name == "PBX OPTIONS (Berlin)")
    m.views[pid] = dataclasses.replace(m.views[pid], under_maintenance=True)
    app = CallMeterApp(m, clock=lambda: T0)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause(0.3)
        row = next(line for line in screen_text(app).splitlines() if "PBX OPTIONS (Berlin)" in line)
        assert MAINTENANCE_SYMBOL in row and MAINTENANCE_LABEL.lower() in row.lower()  # a card says it in capitals


async def test_wall_banner_is_not_spoiled_by_planned_work() -> None:
    m = mixed_monitor("healthy")
    pid = next(v.id for v in m.views.values() if v.name == "PBX OPTIONS (Berlin)")
    m.views[pid] = dataclasses.replace(m.views[pid], state="UNHEALTHY", under_maintenance=True)
    app = CallMeterApp(m, clock=lambda: T0)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause(0.3)
        text = screen_text(app)
        assert "All Systems Operational" in text and f"{MAINTENANCE_SYMBOL} 1 under maintenance" in text


def test_bar_cells_show_maintenance_only_days_in_their_own_colour_and_glyph() -> None:
    from rich.segment import Segment  # noqa: F401  (rows renders rich segments)

    from callmeter_tui.domain.bars import BarSegment
    from callmeter_tui.domain.health import HealthState
    from callmeter_tui.domain.palette import MAINTENANCE_COLOR
    from callmeter_tui.tui.rows import MAINTENANCE_CELL, bar_cells
    from callmeter_tui.tui.theme import DARK, HIGH_CONTRAST

    day = 86400.0
    segs = [
        BarSegment(0, day, HealthState.HEALTHY, day, 0, 0, 0),
        BarSegment(day, 2 * day, HealthState.UNKNOWN, 0, 0, 0, 0, maintenance_s=day),
        BarSegment(2 * day, 3 * day, HealthState.UNHEALTHY, day - 60, 0, 60, 0, maintenance_s=0),
        BarSegment(3 * day, 4 * day, HealthState.UNKNOWN, 0, 0, 0, day),
    ]
    assert bar_cells(segs, 4) == [HealthState.HEALTHY, MAINTENANCE_CELL, HealthState.UNHEALTHY, HealthState.UNKNOWN]
    assert bar_cells(segs[1:2] + segs[3:], 1) == [MAINTENANCE_CELL]
    assert DARK.maintenance == MAINTENANCE_COLOR and DARK.maintenance_glyph not in DARK.bar_glyph.values()
    assert HIGH_CONTRAST.maintenance_glyph not in HIGH_CONTRAST.bar_glyph.values()
