"""Text from operators, the database and SIP peers is shown literally on every screen, never as markup.

Before: an interval typed as ``[/x]`` ended the app on save, a page named ``Ops [/x]`` crashed the app on
every ``s``, a peer's ``503 Service Unavailable [/b]`` left the drill-down on "Loading…", and
``SBC [primary]`` showed as "SBC".
"""

from __future__ import annotations

from textual.widgets import Input

from callmeter_tui.domain.probe import ComponentSpec, StatusPageSpec
from callmeter_tui.tui import screens
from callmeter_tui.tui.app import CallMeterApp
from callmeter_tui.tui.detail import ProbeDetailScreen
from callmeter_tui.tui.forms import ProbeForm
from callmeter_tui.tui.pages import PageForm, PagesScreen
from callmeter_tui.tui.screens import AlertFlash, ConfirmScreen
from tests.tui.fakes import T0, FakeMonitor
from tests.tui.helpers import FLASH_S, screen_text, until

NASTY = "SBC [primary] [b]x [/x]"
LINK = "[link=https://evil.example]click[/link]"


def nasty_monitor() -> tuple[FakeMonitor, int]:
    m = FakeMonitor(project_name="Ops [/x]")
    pid = m.add(NASTY, "UNHEALTHY", group="Edge [/b]")
    m.add("Other", "HEALTHY", group="Core")
    m.sip_reason = "Service Unavailable [/b]"
    return m, pid


def messages(app: CallMeterApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_markup_in_names_pages_errors_and_peer_text_is_shown_literally() -> None:
    m, pid = nasty_monitor()
    await m.save_status_page(
        StatusPageSpec(slug="ops", name="Ops [/x] " + LINK, components=(ComponentSpec(NASTY, "Edge [b]"),))
    )
    await m.add_webhook(pid, "https://hooks.example/[/x]")
    app = CallMeterApp(m, clock=lambda: T0)
    async with app.run_test(size=(160, 40), notifications=True) as pilot:
        await pilot.pause(0.2)
        text = screen_text(app)
        assert "SBC [primary] [b]x [/x]" in text and "Edge [/b]" in text and "Ops [/x]" in text
        m.notify("error", f"peer said [/x] {LINK}")  # a toast and the log
        await pilot.pause(0.3)
        assert f"peer said [/x] {LINK}" in messages(app)
        await pilot.press("n")  # the notification log
        await pilot.pause(0.2)
        assert f"peer said [/x] {LINK}" in screen_text(app)
        await pilot.press("n")

        app.wall.probes.select_id(pid)
        await pilot.press("enter")
        await pilot.pause(0.4)
        assert isinstance(app.screen, ProbeDetailScreen)
        text = screen_text(app)
        assert "Loading…" not in text and NASTY in text
        await pilot.press("r")
        await pilot.pause(0.2)
        assert f"Run queued: {NASTY}" in messages(app)
        app.screen.query_one("#tabs").active = "tab-executions"
        await pilot.pause(0.2)
        assert "Service Unavailable [/b]" in screen_text(app)
        app.screen.query_one("#tabs").active = "tab-webhooks"
        await pilot.pause(0.2)
        assert "https://hooks.example/[/x]" in screen_text(app)
        await pilot.press("x")
        await pilot.pause(0.2)
        assert isinstance(app.screen, ConfirmScreen) and NASTY in screen_text(app)
        await pilot.press("escape", "escape")
        await pilot.pause(0.2)

        await pilot.press("e")  # probe form: its title, and an error quoting what was typed
        await pilot.pause(0.2)
        assert isinstance(app.screen, ProbeForm) and f"Edit probe: {NASTY}" in screen_text(app)
        app.screen.query_one("#f-interval", Input).value = "[/x]"
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        assert app.is_running and "[/x]" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause(0.2)

        for _ in range(2):  # "s" crashed on every press, even after a restart
            await pilot.press("s")
            await pilot.pause(0.3)
            assert isinstance(app.screen, PagesScreen) and "Ops [/x] " + LINK in screen_text(app)
            await pilot.press("enter")
            await pilot.pause(0.3)
            assert isinstance(app.screen, PageForm)
            assert NASTY in screen_text(app) and "Edit status page: ops" in screen_text(app)
            await pilot.press("escape", "escape")
            await pilot.pause(0.2)
        assert app.is_running and app.screen is app.wall


async def test_help_shows_remapped_keys_literally() -> None:
    m, _pid = nasty_monitor()
    app = CallMeterApp(m, clock=lambda: T0, keys={"add_probe": "[b]"})
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause(0.2)
        assert "[b]" in screen_text(app)


async def test_kiosk_alert_flash_shows_the_name_literally_and_goes_away_by_itself(monkeypatch) -> None:
    """The kiosk died 6-10 s after start: the flash's timer awaited dismiss() from its own handler."""
    monkeypatch.setattr(screens.AlertFlash.__init__, "__defaults__", (FLASH_S,))
    m, pid = nasty_monitor()
    m.record(pid, "HEALTHY")
    app = CallMeterApp(m, clock=lambda: T0, kiosk=True)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause(0.2)
        m.record(pid, "UNHEALTHY")
        assert await until(pilot, lambda: isinstance(app.screen, AlertFlash) and NASTY in screen_text(app))
        assert await until(pilot, lambda: app.screen is app.wall)  # by itself: no key pressed
        assert app.is_running
    assert app.return_code in (0, None)
