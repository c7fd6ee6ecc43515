"""Lists never hide rows and never move the cursor to another object under the operator's hand."""

from __future__ import annotations

from dataclasses import replace

from textual.widgets import DataTable

from callmeter_tui.domain.probe import ComponentSpec, StatusPageSpec
from callmeter_tui.engine.api import DeliveryView
from callmeter_tui.tui.app import CallMeterApp
from callmeter_tui.tui.detail import ProbeDetailScreen
from callmeter_tui.tui.pages import PageForm, PagesScreen
from callmeter_tui.tui.screens import ConfirmScreen
from tests.tui.fakes import T0, FakeMonitor, bulk_monitor, mixed_monitor
from tests.tui.helpers import screen_text


def app_for(monitor, **kw) -> CallMeterApp:
    return CallMeterApp(monitor, clock=lambda: T0, **kw)


def shown_probes(app: CallMeterApp) -> set[str]:
    return {w for line in screen_text(app).splitlines() for w in line.split() if w.startswith("probe-")}


async def test_every_row_is_reachable_with_a_vertical_scrollbar() -> None:
    """The virtual width counted the scrollbar: a horizontal scrollbar covered the last line of each page."""
    m = bulk_monitor(200)
    app = app_for(m)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause(0.2)
        plist = app.wall.probes
        assert not plist.show_horizontal_scrollbar
        seen = shown_probes(app)
        for _ in range(12):
            await pilot.press("pagedown")
            await pilot.pause(0.05)
            seen |= shown_probes(app)
        assert seen == {f"probe-{i:04d}" for i in range(200)}
        await pilot.press("end")
        await pilot.pause(0.05)
        last = m.views[plist.selected_id].name
        assert last in shown_probes(app)
        header = next(line for line in screen_text(app).splitlines() if "Last 90 days" in line)
        assert header.rstrip().endswith("Why")  # rows end before the scrollbar, not under it


async def test_kiosk_shows_which_page_it_is_on_and_every_probe_in_a_cycle() -> None:
    m = bulk_monitor(100)
    app = app_for(m, kiosk=True, kiosk_cycle_s=0.2)
    async with app.run_test(size=(120, 30)) as pilot:
        pages_seen: set[str] = set()
        seen: set[str] = set()
        for _ in range(40):
            await pilot.pause(0.1)
            banner = screen_text(app).splitlines()[0]
            pages_seen |= {w for w in banner.split() if "/" in w and w[0].isdigit()}
            seen |= shown_probes(app)
        n = -(-len(app.wall.probes.rows) // app.wall.probes.page_rows)
        assert pages_seen == {f"{i}/{n}" for i in range(1, n + 1)}, pages_seen
        assert seen == {f"probe-{i:04d}" for i in range(100)}


async def test_status_pages_enter_opens_the_form_and_the_cursor_stays_on_the_page_after_a_save() -> None:
    m = mixed_monitor("healthy")
    for slug in ("demo", "ops", "voip"):
        await m.save_status_page(
            StatusPageSpec(slug=slug, name=slug.upper(), components=(ComponentSpec("IVR System", "IVR"),))
        )
    app = app_for(m)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("s")
        await pilot.pause(0.3)
        assert isinstance(app.screen, PagesScreen)
        await pilot.press("down", "down", "enter")
        await pilot.pause(0.3)
        assert isinstance(app.screen, PageForm) and app.screen.page.spec.slug == "voip"
        await pilot.press("ctrl+s")
        await pilot.pause(0.4)
        assert isinstance(app.screen, PagesScreen)
        await pilot.press("x")
        await pilot.pause(0.2)
        assert isinstance(app.screen, ConfirmScreen) and "'voip'" in screen_text(app)


def delivery(i: int) -> DeliveryView:
    return DeliveryView(i, T0 - i, "failed", 1, f"HTTP 5{i:02d}", False, ())


async def test_drill_down_refreshes_on_engine_events_and_keeps_its_cursors() -> None:
    m = FakeMonitor()
    pid = m.add("Trunk", "HEALTHY")
    wid, _ = await m.add_webhook(pid, "https://hooks.example/x")
    m.webhooks[wid] = replace(m.webhooks[wid], deliveries=tuple(delivery(i) for i in (3, 2, 1)))
    app = app_for(m)
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.pause(0.2)
        app.wall.probes.select_id(pid)
        await pilot.press("enter")
        await pilot.pause(0.3)
        screen = app.screen
        assert isinstance(screen, ProbeDetailScreen)
        dt = screen.query_one("#deliveries", DataTable)
        dt.move_cursor(row=1)  # delivery 2
        await pilot.pause(0.1)
        assert screen.selected_delivery.id == 2
        before = m.detail_calls
        m.webhooks[wid] = replace(m.webhooks[wid], deliveries=tuple(delivery(i) for i in (4, 3, 2, 1)))
        m.record(pid, "DEGRADED")  # the engine reports a run: the drill-down reloads now, not in 15 s
        await pilot.pause(0.5)
        assert m.detail_calls > before
        assert [d.id for d in screen.selected_webhook.deliveries] == [4, 3, 2, 1]
        assert screen.selected_delivery.id == 2
        await pilot.press("d")
        await pilot.pause(0.2)
        assert ("redeliver", (2,)) in m.calls
