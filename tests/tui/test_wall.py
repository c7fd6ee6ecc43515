"""The wall screen driven through the real EventBus, as the engine drives it."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from callmeter_tui.domain.banner import ALL_OPERATIONAL, MAJOR_ISSUES, PARTIAL_DEGRADATION, STATUS_PENDING
from callmeter_tui.domain.probe import ComponentSpec, StatusPageSpec
from callmeter_tui.tui.app import CallMeterApp
from callmeter_tui.tui.screens import AlertFlash
from callmeter_tui.tui.theme import DARK
from tests.tui.fakes import T0, bulk_monitor, mixed_monitor
from tests.tui.helpers import card_block, screen_text


def app_for(monitor, **kw) -> CallMeterApp:
    return CallMeterApp(monitor, clock=lambda: T0, **kw)


async def test_banner_follows_the_banner_rule_for_each_mix() -> None:
    for mix, text in (
        ("healthy", ALL_OPERATIONAL),
        ("degraded", PARTIAL_DEGRADATION),
        ("major", MAJOR_ISSUES),
        ("pending", STATUS_PENDING),
    ):
        app = app_for(mixed_monitor(mix))
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.pause()
            lines = screen_text(app).splitlines()
            assert text in lines[0], (mix, lines[0])
            assert "Fake Project" in lines[0] and "2026-05-28 20:26:40 UTC" in lines[0]


async def test_rows_show_symbol_name_metrics_and_uptime() -> None:
    app = app_for(mixed_monitor("major", web_url="http://127.0.0.1:8123/"))
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot.pause(0.2)
        text = screen_text(app)
        assert "● 3 healthy   ▲ 1 degraded   ✖ 2 unhealthy   ? 0 unknown" in text
        assert "http://127.0.0.1:8123/" in text
        card = card_block(app, "Primary SIP Trunk (US East)")  # six probes on 160x30: cards
        body = "\n".join(card)
        assert card[0].startswith("✖") and "2.41" in body and "12s ago" in body and "%" in body
        assert "UNHEALTHY" in card[0] and "Why: MOS, Jitter, Loss, Setup" in body
        assert "▾ Core (2)" in text and "▾ Trunks (4)" in text
        assert app.wall.banner.styles.background.hex.lower() == DARK.state[app.wall.banner.state].lower()


async def test_execution_events_update_rows_and_banner() -> None:
    m = mixed_monitor("healthy")
    app = app_for(m)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        assert ALL_OPERATIONAL in screen_text(app)
        pid = next(v.id for v in m.views.values() if v.name == "Conference Bridge")
        m.record(pid, "UNHEALTHY")
        await pilot.pause(0.3)
        app.tick()
        await pilot.pause()
        text = screen_text(app)
        assert MAJOR_ISSUES in text.splitlines()[0]
        card = card_block(app, "Conference Bridge")
        assert card[0].startswith("✖") and "0s ago" in "\n".join(card)


async def test_history_toggle_and_refresh_on_state_change() -> None:
    m = mixed_monitor("healthy")
    app = app_for(m)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause(0.2)
        assert "Last 90 days" in screen_text(app)
        calls = m.history_calls
        await pilot.press("h")
        await pilot.pause(0.2)
        assert "Last 24 hours" in screen_text(app) and m.history_calls == calls + 1
        assert app.wall.probes.mode == "hours"
        assert all(len(h.segments) == 24 for h in app.wall.probes.history.values())


async def test_notifications_toast_and_log() -> None:
    m = mixed_monitor("healthy")
    app = app_for(m)
    async with app.run_test(size=(120, 30), notifications=True) as pilot:
        await pilot.pause()
        m.notify("warning", "Conference Bridge is DEGRADED (jitter 27 ms)")
        await pilot.pause(0.3)
        assert any("Conference Bridge is DEGRADED" in str(n.message) for n in app._notifications)
        await pilot.press("n")
        await pilot.pause()
        assert "Conference Bridge is DEGRADED" in screen_text(app)


async def test_thousand_probes_scroll_and_cursor() -> None:
    m = bulk_monitor(1000)
    app = app_for(m)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.2)
        assert len(app.wall.probes.rows) == 1005  # 5 group headers
        first = app.wall.probes.selected_id
        await pilot.press("pagedown", "pagedown", "end")
        await pilot.pause()
        assert app.wall.probes.selected_id != first
        assert (
            "probe-0999" in screen_text(app)
            or "probe-0998" in screen_text(app)
            or any(f"probe-0{n}" in screen_text(app) for n in range(980, 1000))
        )


async def test_theme_cycles_through_three() -> None:
    app = app_for(mixed_monitor("healthy"))
    async with app.run_test(size=(80, 24)) as pilot:
        seen = {app.theme}
        for _ in range(3):
            await pilot.press("t")
            seen.add(app.theme)
        assert seen == {"callmeter-dark", "callmeter-light", "callmeter-high-contrast"}


async def test_kiosk_ignores_keys_flashes_and_cycles_pages() -> None:
    m = mixed_monitor("healthy")
    await m.save_status_page(
        StatusPageSpec(
            slug="trunks",
            name="Trunks page",
            components=(ComponentSpec("Conference Bridge", "Conference"), ComponentSpec("IVR System", "IVR")),
        )
    )
    m.calls.clear()
    app = app_for(m, kiosk=True, kiosk_cycle_s=0.3)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause(0.2)
        for key in ("a", "x", "p", "r", "enter", "s", "q", "ctrl+p", "t", "n", "h", "e", "question_mark"):
            await pilot.press(key)
        await pilot.pause()
        assert m.calls == [] and app.screen is app.wall and app.is_running
        assert app.theme == "callmeter-dark" and app.wall.probes.mode == "days"
        assert not app.wall.log_panel.has_class("shown")
        text = screen_text(app)
        assert "Run now" not in text  # no footer
        pid = next(v.id for v in m.views.values() if v.name == "IVR System")
        m.record(pid, "UNHEALTHY")
        await pilot.pause(0.3)
        assert isinstance(app.screen, AlertFlash) and "IVR System" in screen_text(app)
        app.pop_screen()
        await pilot.pause(0.8)
        names = {n for n, _ in app._kiosk_views}
        assert "Trunks page" in names
        for _ in range(50):  # the cycle reaches the status page view
            await pilot.pause(0.1)
            text = screen_text(app)
            if "Trunks page (2/2)" in text:
                break
        else:
            raise AssertionError("kiosk never showed the status page view")
        assert "Conference Bridge" in text and "IVR System" in text and "Registration Service" not in text


async def test_startup_and_shutdown_callables_run() -> None:
    seen = []

    async def startup() -> None:
        seen.append("up")

    async def shutdown() -> None:
        seen.append("down")

    app = CallMeterApp(mixed_monitor("healthy"), clock=lambda: T0, startup=startup, shutdown=shutdown)
    async with app.run_test() as pilot:
        await pilot.pause()
        assert seen == ["up"]
    assert seen == ["up", "down"]


def test_kiosk_views_pages_then_agents() -> None:
    from callmeter_tui.engine.api import StatusPageView
    from callmeter_tui.tui.keys import kiosk_views

    m = mixed_monitor("healthy")
    views = m.probe_views()
    page = StatusPageView(
        1,
        StatusPageSpec(
            slug="p", name="P", components=(ComponentSpec("IVR System", "IVR"), ComponentSpec("gone", "Gone"))
        ),
        "config",
    )
    ivr = next(v.id for v in views if v.name == "IVR System")
    assert kiosk_views(views, [page]) == [("All probes", None), ("P", {ivr})]
    from dataclasses import replace

    views[0] = replace(views[0], agent="berlin")
    cycle = kiosk_views(views, [])
    assert [name for name, _ in cycle] == ["All probes", "Agent berlin", "Agent local"]
    assert cycle[1][1] == {views[0].id}


async def test_slow_history_is_not_cancelled_and_a_toggle_during_it_is_honoured() -> None:
    import asyncio

    m = mixed_monitor("healthy")
    real = m.history
    finished: list[str] = []

    async def slow(ids, mode="days"):
        await asyncio.sleep(0.6)
        out = await real(ids, mode)
        finished.append(mode)
        return out

    m.history = slow  # type: ignore[method-assign]
    app = app_for(m)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause(0.1)
        await pilot.press("h")  # while the "days" load is still running
        pid = next(iter(m.views))
        m.record(pid, "DEGRADED")  # a StateChanged must not cancel it either
        for _ in range(40):
            await pilot.pause(0.1)
            if "hours" in finished:
                break
        assert finished[:2] == ["days", "hours"]
        await pilot.pause(0.1)
        assert all(len(h.segments) == 24 for h in app.wall.probes.history.values())


async def test_events_panel_lists_ongoing_incidents_and_new_transitions_with_their_age() -> None:
    from textual.widgets import Digits

    m = mixed_monitor("major")
    app = app_for(m)
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot.pause(0.2)
        panel = app.wall.events_panel
        text = screen_text(app)
        assert "Ongoing incidents (3)" in text and "none since the dashboard started" in text
        lines = [line[panel.region.x :].strip(" ▏") for line in text.splitlines()]
        assert any(
            line.strip().startswith("✖ Primary SIP Trunk (US East)") and line.rstrip().endswith("1h") for line in lines
        )
        assert app.wall.counts.query_one("#n-unhealthy", Digits).value == "2"
        assert app.wall.counts.query_one("#n-healthy", Digits).value == "3"
        pid = next(v.id for v in m.views.values() if v.name == "IVR System")
        m.record(pid, "UNHEALTHY", at=T0 - 75)
        await pilot.pause(0.3)
        app.tick()
        await pilot.pause()
        lines = [line[panel.region.x :].strip(" ▏") for line in screen_text(app).splitlines()]
        assert any("●→✖ IVR System" in line and line.rstrip().endswith("1m ago") for line in lines), lines
        assert "Ongoing incidents (4)" in screen_text(app)
        assert app.wall.counts.query_one("#n-unhealthy", Digits).value == "3"


async def test_bars_are_loaded_for_the_probes_on_screen_only() -> None:
    """1,000 probes: the history of every probe was read at start and after each state change."""
    m = bulk_monitor(1000)
    asked: list[list[int]] = []
    real = m.history

    async def spy(ids, mode="days"):
        asked.append(list(ids))
        return await real(ids, mode)

    m.history = spy  # type: ignore[method-assign]
    app = app_for(m)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.3)
        plist = app.wall.probes
        assert asked and max(len(a) for a in asked) <= plist.page_rows
        assert set(plist.visible_ids()) <= set(plist.history)
        await pilot.press("pagedown", "pagedown")
        await pilot.pause(0.1)
        app.tick()
        await pilot.pause(0.3)
        assert set(plist.visible_ids()) <= set(plist.history)  # scrolled-to rows get their bars
        assert len(plist.history) < 100


async def test_a_tick_repaints_without_relayout_and_only_the_rows_on_screen(monkeypatch) -> None:
    """Issue 15 §4: every second the banner, labels and counts asked for a relayout of the whole screen."""
    from textual.widget import Widget

    m = bulk_monitor(1000)
    app = app_for(m)
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause(0.3)
        app.tick()
        await pilot.pause(0.1)
        layouts: list[str] = []
        real = Widget.refresh

        def spy(self, *regions, **kw):
            if kw.get("layout"):
                layouts.append(type(self).__name__)
            return real(self, *regions, **kw)

        monkeypatch.setattr(Widget, "refresh", spy)
        lines: list[int] = []
        real_line = type(app.wall.probes).render_line
        monkeypatch.setattr(type(app.wall.probes), "render_line", lambda self, y: lines.append(y) or real_line(self, y))
        for pid in list(m.views)[:3]:
            m.record(pid, "DEGRADED")  # runs recorded, states changed: counts, events and rows move
        await pilot.pause(0.3)
        app.tick()
        await pilot.pause(0.2)
        assert layouts == []
        assert 0 < len(lines) <= 2 * app.wall.probes.size.height  # the visible lines, never the 1,000 rows


async def test_a_tick_repaints_only_the_rows_whose_drawing_changed(monkeypatch) -> None:
    """Issue 15 §4: every second the list drew all its lines on screen again, changed or not (~60 lines
    of 200 cells per second: the largest part of the wall's CPU)."""
    m = bulk_monitor(1000)
    now = [T0]
    app = CallMeterApp(m, clock=lambda: now[0])
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause(0.3)
        app.tick()
        await pilot.pause(0.1)
        plist = app.wall.probes
        drawn = drawn_lines(monkeypatch, plist)
        app.tick()  # nothing moved: no line drawn
        await pilot.pause(0.2)
        assert drawn == []
        shown = plist.visible_ids()
        for pid in shown[:2]:
            m.record(pid, "DEGRADED", at=T0 - 12)  # two rows on screen change state
        m.views[shown[2]] = dataclasses.replace(m.views[shown[2]], last_execution_id=7)  # new snapshot, same row
        await pilot.pause(0.3)
        app.tick()
        await pilot.pause(0.2)
        rows = {plist._row_of[pid] - int(plist.scroll_offset.y) + 1 for pid in shown[:2]}
        assert plist.rows[0][0] == "group" and set(drawn) == {1, *rows}  # their group's title counts states
        drawn.clear()
        now[0] = T0 + 60  # every "checked … ago" moves: every row on screen is drawn again, with its new age
        app.tick()
        await pilot.pause(0.2)
        assert len(set(drawn)) >= len(shown) and "1m ago" in screen_text(app)


async def test_a_bar_the_engine_does_not_return_is_not_asked_for_in_a_loop() -> None:
    m = mixed_monitor("healthy")
    real = m.history
    gone = next(iter(m.views))

    async def partial(ids, mode="days"):
        out = await real(ids, mode)
        out.pop(gone, None)
        return out

    m.history = partial  # type: ignore[method-assign]
    app = app_for(m)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause(0.5)
        assert m.history_calls <= 2 and app.wall.probes.history[gone].segments == ()


async def test_a_tick_repaints_only_the_events_panel_lines_that_changed(monkeypatch) -> None:
    """Issue 15 §4: the events panel was one Static; any change (an age, a new transition) re-wrapped and
    redrew all of its ~55 lines every second (the largest share of the wall's steady CPU)."""
    from callmeter_tui.tui import eventspanel

    clock = iter(range(0, 10_000, 5))  # 5 s between shows: never held back as a storm
    monkeypatch.setattr(eventspanel, "monotonic", lambda: float(next(clock)))
    m = bulk_monitor(1000)
    app = app_for(m)
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause(0.3)
        app.tick()
        await pilot.pause(0.1)
        panel = app.wall.events_panel
        drawn = drawn_lines(monkeypatch, panel)
        app.tick()  # nothing moved: no line drawn
        await pilot.pause(0.2)
        assert drawn == []
        healthy = next(pid for pid, v in m.views.items() if v.state == "HEALTHY")
        m.record(healthy, "DEGRADED", at=T0 - 75)  # one more incident, a first transition
        await pilot.pause(0.3)
        app.tick()
        await pilot.pause(0.2)
        text = screen_text(app)
        assert "Recent transitions" in text and "●→▲ probe-" in text
        assert panel.size.height > 40 and 0 < len(set(drawn)) <= 4, sorted(set(drawn))


def test_the_heap_is_frozen_once_the_wall_has_painted() -> None:
    """Issue 15 §4: every full garbage collection walked the whole heap (the engine's objects, 1,000
    views, Textual's DOM and styles): ~130 ms, a fifth of the first paint and of the steady CPU. A fresh
    process, since only the first dashboard of a process freezes."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(
        """
        import asyncio, gc
        from callmeter_tui.tui.app import CallMeterApp
        from tests.tui.fakes import T0, bulk_monitor

        async def main():
            app = CallMeterApp(bulk_monitor(200), clock=lambda: T0)
            async with app.run_test(size=(120, 30)) as pilot:
                await pilot.pause(0.3)
                print(gc.get_freeze_count())

        asyncio.run(main())
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert int(out.stdout.split()[-1]) > 10_000, out.stdout


async def test_under_a_storm_of_transitions_the_events_panel_shows_every_two_seconds(monkeypatch) -> None:
    """Issue 15 §4: with 1,000 probes changing state every second nearly every line of the panel changed
    at every tick; it now repaints every 2 s while that lasts (a quiet panel still follows at once)."""
    from callmeter_tui.tui import eventspanel

    clock = [1000.0]
    monkeypatch.setattr(eventspanel, "monotonic", lambda: clock[0])
    m = bulk_monitor(1000)
    app = app_for(m)
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause(0.3)
        panel = app.wall.events_panel
        healthy = [pid for pid, v in m.views.items() if v.state == "HEALTHY"]

        def shown() -> str:
            return "\n".join("".join(text for text, _style in line[1]) for line in panel.lines)

        def burst(first: int) -> str:
            batch = healthy[first : first + 40]
            for pid in batch:
                m.record(pid, "DEGRADED", at=T0 - first)  # 40 transitions: every transition line moves
            return f"●→▲ {m.views[batch[-1]].name}"

        async def tick() -> None:
            await pilot.pause(0.3)  # the bus batches reach the app
            app.tick()
            await pilot.pause(0.1)

        clock[0] += 1.0
        newest = burst(0)
        await tick()
        assert newest in shown()  # the storm shows at once, the first time
        newest = burst(40)  # the clock stands still: every show since the storm's is within 2 s
        await tick()
        assert newest not in shown(), shown()  # still the storm's last picture
        clock[0] += 2.0
        await tick()
        assert newest in shown()  # 2 s later: the newest transitions


async def test_events_panel_starts_with_the_transitions_stored_before_the_dashboard() -> None:
    m = mixed_monitor("major")
    pid = next(v.id for v in m.views.values() if v.name == "IVR System")
    m.record(pid, "UNHEALTHY", at=T0 - 3 * 3600)  # before the dashboard started: only the store knows
    m.record(pid, "HEALTHY", at=T0 - 2 * 3600)
    app = app_for(m)
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot.pause(0.3)
        app.tick()
        await pilot.pause()
        lines = [line[app.wall.events_panel.region.x :].strip(" ▏") for line in screen_text(app).splitlines()]
        assert any("●→✖ IVR System" in line and line.rstrip().endswith("3h ago") for line in lines), lines
        assert any("✖→● IVR System" in line and line.rstrip().endswith("2h ago") for line in lines), lines
        m.record(pid, "DEGRADED", at=T0 - 60)  # then a live one joins them, each shown once
        await pilot.pause(0.3)
        app.tick()
        await pilot.pause()
        text = screen_text(app)
        assert text.count("IVR System") >= 3 and text.count("●→✖ IVR System") == 1


def drawn_lines(monkeypatch: pytest.MonkeyPatch, widget: Any) -> list[int]:
    """The y of every line ``widget``'s class draws from now on."""
    drawn: list[int] = []
    real_line = type(widget).render_line
    monkeypatch.setattr(type(widget), "render_line", lambda self, y: drawn.append(y) or real_line(self, y))
    return drawn
