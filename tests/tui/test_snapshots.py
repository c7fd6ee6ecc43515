"""Wall screen snapshots (fixed clock, fixed data) at 80x24 and 200x60 for each state mix.

Regenerate with ``pytest tests/tui/test_snapshots.py --snapshot-update`` and look at the SVGs.
"""

from __future__ import annotations

import pytest

from callmeter_tui.tui.app import CallMeterApp
from tests.tui.fakes import T0, mixed_monitor


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
