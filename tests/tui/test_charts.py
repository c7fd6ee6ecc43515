"""The drill-down's charts (Pilot): real times on x, gaps left as gaps, threshold lines, health along the
time axis, the unit on y, and the window key switching 1 h / 24 h / 7 d / 30 d."""

from __future__ import annotations

from callmeter_tui.domain.chart import HOUR, Threshold
from callmeter_tui.domain.health import HealthState
from callmeter_tui.tui.app import CallMeterApp
from callmeter_tui.tui.charts import MetricChart
from callmeter_tui.tui.detail import ProbeDetailScreen
from tests.tui.chart_fake import BAD_FROM, CRITICAL, GAP, INTERVAL, WARNING, ChartMonitor, points
from tests.tui.fakes import T0
from tests.tui.helpers import screen_text

DAY = 86400.0


async def _open(pilot, app: CallMeterApp) -> ProbeDetailScreen:  # type: ignore[no-untyped-def]
    await pilot.pause()
    app.wall.probes.select_id(app.monitor.pid)  # type: ignore[attr-defined]
    await pilot.press("enter")
    await pilot.pause(0.3)
    assert isinstance(app.screen, ProbeDetailScreen)
    app.screen.query_one("#tabs").active = "tab-overview"  # an unhealthy probe opens on its trace
    await pilot.pause(0.2)
    return app.screen


def _chart(screen: ProbeDetailScreen) -> MetricChart:
    charts = list(screen.query(MetricChart))
    assert [c.data.metric.name for c in charts] == ["response_time_ms"]  # OPTIONS: response time only
    return charts[0]


async def test_options_chart_points_at_real_times_gap_thresholds_and_health() -> None:
    m = ChartMonitor()
    app = CallMeterApp(m, clock=lambda: T0)
    async with app.run_test(size=(140, 45)) as pilot:
        screen = await _open(pilot, app)
        await pilot.press("1")
        await pilot.pause(0.3)
        d = _chart(screen).data
        assert (d.since, d.until) == (T0 - HOUR, T0)
        sent = points(T0 - HOUR, T0)
        assert d.points == sent  # each run at its own time, none moved or merged
        assert len(d.lines) == 2  # the silent quarter hour splits the line
        before, after = d.lines
        assert before[-1][0] < GAP[0] and after[0][0] >= GAP[1]
        assert after[0][0] - before[-1][0] > 3 * INTERVAL
        assert d.thresholds == (Threshold("warning", WARNING), Threshold("critical", CRITICAL))
        assert [(r.state, r.start, r.end) for r in d.states] == [
            (HealthState.HEALTHY, T0 - HOUR, GAP[0]),
            (HealthState.UNHEALTHY, BAD_FROM, T0),
        ]
        lo, hi = d.y_range
        assert lo <= min(v for _, v in sent) and hi >= max(v for _, v in sent) and hi >= CRITICAL
        text = screen_text(app)
        assert "warning 150 ms" in text and "critical 500 ms" in text  # the legend names both lines
        assert "┄┄┄┄" in text and "━━━━" in text  # and they differ by glyph, not only colour (NO_COLOR)
        assert "●●●●" in text and "✖✖✖✖" in text  # health along the time axis, as the wall's symbols
        assert "200 ms┤" in text  # the unit on the y axis
        assert "19:35" in text and "20:00" in text and "UTC" in text  # times of the 1 h window (T0 = 20:26:40)


async def test_window_key_switches_24h_7d_30d_1h() -> None:
    m = ChartMonitor()
    app = CallMeterApp(m, clock=lambda: T0)
    async with app.run_test(size=(140, 45)) as pilot:
        screen = await _open(pilot, app)
        assert _chart(screen).data.since == T0 - DAY and "Charts over 24 h" in screen_text(app)
        first = _chart(screen)
        seen = []
        for _ in range(4):
            await pilot.press("c")
            await pilot.pause(0.3)
            d = _chart(screen).data
            seen.append((m.ranges[-1], d.until - d.since))
        assert seen == [(7 * DAY, 7 * DAY), (30 * DAY, 30 * DAY), (HOUR, HOUR), (DAY, DAY)]
        assert _chart(screen) is first  # same metrics: updated in place, not rebuilt
        await pilot.press("4")
        await pilot.pause(0.3)
        d = _chart(screen).data
        text = screen_text(app)
        assert "Charts over 30 d" in text and "Apr 30" in text and "May 28" in text  # dates, not hours
        assert len(d.lines) == 1 and len(d.points) == 30 * 24 - 1  # hourly means: the 15 min gap is inside an hour
        assert all(abs(t % HOUR - HOUR / 2) < 1e-6 for t, _ in d.points)  # each mean at its hour's middle


async def test_window_key_is_remappable_like_every_action() -> None:
    m = ChartMonitor()
    app = CallMeterApp(m, clock=lambda: T0, keys={"chart_window": "v"})
    async with app.run_test(size=(140, 45)) as pilot:
        await _open(pilot, app)
        await pilot.press("v")
        await pilot.pause(0.3)
        assert m.ranges[-1] == 7 * DAY and "Charts over 7 d" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("v")  # on the wall the key only says where it works
        await pilot.pause(0.2)
        assert m.ranges[-1] == 7 * DAY
