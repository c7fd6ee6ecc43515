"""The drill-down chart as a person sees it (fixed clock, fixed data): in colour and on a NO_COLOR terminal.

Regenerate with ``pytest tests/tui/test_chart_snapshot.py --snapshot-update`` and look at the SVGs.
"""

from __future__ import annotations

import pytest

from callmeter_tui.tui.app import CallMeterApp
from tests.tui.chart_fake import ChartMonitor
from tests.tui.fakes import T0


@pytest.mark.parametrize("mono", [False, True], ids=["colour", "no-color"])
def test_drilldown_chart_snapshot(snap_compare, monkeypatch, mono: bool) -> None:
    if mono:
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)
    m = ChartMonitor()
    app = CallMeterApp(m, clock=lambda: T0)

    async def open_chart(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.pause(0.2)
        app.wall.probes.select_id(m.pid)
        await pilot.press("enter")
        await pilot.pause(0.3)
        app.screen.query_one("#tabs").active = "tab-overview"  # an unhealthy probe opens on its trace
        await pilot.press("1")
        await pilot.pause(0.4)

    assert snap_compare(app, terminal_size=(120, 36), run_before=open_chart)
