"""Wall screen snapshots (fixed clock, fixed data): each state mix at 80x24 and 200x60; 5, 50 and 1,000
probes at 80x24, 160x45 and 240x67.

Regenerate with ``pytest tests/tui/test_snapshots.py --snapshot-update`` and look at the SVGs.
"""

from __future__ import annotations

import pytest

from callmeter_tui.tui.app import CallMeterApp
from tests.tui.fakes import NAMES, T0, FakeMonitor, bulk_monitor, mixed_monitor
from tests.tui.helpers import until


@pytest.mark.parametrize("size", [(80, 24), (200, 60)], ids=["80x24", "200x60"])
@pytest.mark.parametrize("mix", ["healthy", "degraded", "major", "pending"])
def test_wall_snapshot(snap_compare, mix: str, size: tuple[int, int]) -> None:
    app = CallMeterApp(mixed_monitor(mix, web_url="http://127.0.0.1:8080"), clock=lambda: T0)

    async def settle(pilot) -> None:
        await pilot.pause(0.2)  # history worker answered, bars drawn

    assert snap_compare(app, terminal_size=size, run_before=settle)


@pytest.mark.parametrize("theme", ["high-contrast", "light"])
def test_theme_snapshot(snap_compare, theme: str) -> None:
    app = CallMeterApp(mixed_monitor("major"), clock=lambda: T0, theme=theme)

    async def settle(pilot) -> None:
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=(120, 24), run_before=settle)


def wall_monitor(n: int) -> FakeMonitor:
    """n probes with fixed data: five in two groups (a small PBX), else bulk_monitor's five regions."""
    if n != 5:
        return bulk_monitor(n, web_url="http://127.0.0.1:8080")
    m = FakeMonitor(web_url="http://127.0.0.1:8080")
    for i, (name, state) in enumerate(zip(NAMES, ["HEALTHY", "DEGRADED", "UNHEALTHY", "HEALTHY", "HEALTHY"])):
        m.add(name, state, group="Core" if i < 2 else "Trunks", kind="sip_options" if i == 0 else "sip_call")
    return m


@pytest.mark.parametrize("size", [(80, 24), (160, 45), (240, 67)], ids=["80x24", "160x45", "240x67"])
@pytest.mark.parametrize("n", [5, 50, 1000])
def test_wall_fills_the_screen_snapshot(snap_compare, n: int, size: tuple[int, int]) -> None:
    """Issue 15 §3: cards for few probes, dense rows for many, large counts, incidents and transitions."""
    m = wall_monitor(n)
    app = CallMeterApp(m, clock=lambda: T0)

    async def settle(pilot) -> None:
        await until(pilot, lambda: app.wall.ready)  # a loaded host mounts 1,000 rows slowly
        await pilot.pause(0.3)
        first, second = list(m.views)[:2]
        m.record(second, "HEALTHY", at=T0 - 75)  # a recovery and a new failure in the transitions panel
        m.record(first, "UNHEALTHY", at=T0 - 20)
        await until(pilot, lambda: any(t.at == T0 - 20 for t in app.transitions.items))
        app.tick()
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=size, run_before=settle)
