"""The drill-down's Trace tab (Pilot): a failed probe opens on its ladder, Enter opens the raw message,
Enter on an execution shows that run's trace; a healthy probe opens on the overview."""

from __future__ import annotations

import dataclasses

from textual.widgets import DataTable, TabbedContent

from callmeter_tui.tui.trace import MessageScreen
from tests.tui.fakes import mixed_monitor
from tests.tui.helpers import screen_text
from tests.tui.test_detail import app_for, open_detail


async def test_failed_probe_opens_on_its_trace_and_enter_shows_the_message() -> None:
    m = mixed_monitor("major")
    v = next(v for v in m.views.values() if v.name == "Primary SIP Trunk (US East)")
    m.views[v.id] = dataclasses.replace(v, error="SIP 503 Service Unavailable")  # its last run failed
    app = app_for(m)
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.pause()
        screen = await open_detail(pilot, app, v.name)
        assert screen.query_one("#tabs", TabbedContent).active == "tab-trace"
        text = screen_text(app)
        assert "Execution 900" in text and "FAILED" in text
        assert "prober 10.0.0.1:5060" in text and "192.0.2.7:5060" in text
        ladder = screen.query_one("#trace-ladder", DataTable)
        rows = [str(ladder.get_row_at(i)[0]) for i in range(ladder.row_count)]
        assert "INVITE" in rows[0] and rows[0].rstrip().endswith(">|")
        assert "503 Service Unavailable" in rows[2] and "40.250 ms" in rows[2]
        assert "(retx)" in rows[4] and "540.250 ms" in rows[4]  # time order: the ACK came before
        assert "run failed: " in text
        ladder.focus()
        await pilot.press("down", "down", "enter")
        await pilot.pause(0.2)
        assert isinstance(app.screen, MessageScreen)
        raw = screen_text(app)
        assert "RX UDP 192.0.2.7:5060 -> 10.0.0.1:5060 at +40.250 ms" in raw and "CSeq: 1 INVITE" in raw
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen


async def test_enter_on_an_execution_shows_its_trace_healthy_probe_opens_on_overview() -> None:
    m = mixed_monitor("major")
    app = app_for(m)
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.pause()
        healthy = next(v.name for v in m.views.values() if v.error is None)
        screen = await open_detail(pilot, app, healthy)
        tabs = screen.query_one("#tabs", TabbedContent)
        assert tabs.active == "tab-overview"
        tabs.active = "tab-executions"
        await pilot.pause()
        execs = screen.query_one("#executions", DataTable)
        execs.focus()
        await pilot.press("down", "enter")
        await pilot.pause(0.3)
        assert tabs.active == "tab-trace"
        pid = next(v.id for v in m.views.values() if v.name == healthy)
        assert m.trace_calls[-1] == (pid, 899)
        assert "Execution 899" in screen_text(app)
