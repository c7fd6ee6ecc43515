"""Feedback that does not mislead: confirmations, honest toasts, one toast per run; crashes exit 1."""

from __future__ import annotations

from pathlib import Path

from callmeter_tui.tui.app import CallMeterApp
from callmeter_tui.tui.detail import ProbeDetailScreen
from callmeter_tui.tui.screens import ConfirmScreen, SecretScreen
from tests.tui.fakes import NAMES, T0, FakeMonitor, mixed_monitor
from tests.tui.helpers import FLASH_S, card_block, screen_text, until


def app_for(monitor, **kw) -> CallMeterApp:
    return CallMeterApp(monitor, clock=lambda: T0, **kw)


def toasts(app: CallMeterApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_shift_r_asks_before_rotating_and_the_copy_toast_is_honest() -> None:
    m = FakeMonitor()
    pid = m.add("Trunk", "HEALTHY")
    await m.add_webhook(pid, "https://hooks.example/x")
    app = app_for(m)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.pause(0.2)
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert isinstance(app.screen, ProbeDetailScreen)
        await pilot.press("R")
        await pilot.pause(0.2)
        assert isinstance(app.screen, ConfirmScreen) and "stops working" in screen_text(app)
        assert not [c for c in m.calls if c[0] == "rotate_webhook_secret"]
        await pilot.press("y")
        await pilot.pause(0.3)
        assert isinstance(app.screen, SecretScreen) and [c for c in m.calls if c[0] == "rotate_webhook_secret"]
        await pilot.press("c")
        await pilot.pause(0.2)
        said = " ".join(toasts(app))
        assert "copied to the clipboard" not in said.lower() and "by hand" in said
        assert "whsec_rotated" in screen_text(app)  # still on screen for a manual copy


async def test_ten_fast_r_presses_queue_one_run_with_one_toast() -> None:
    m = mixed_monitor("healthy")
    app = app_for(m)
    async with app.run_test(size=(120, 30), notifications=True) as pilot:
        await pilot.pause(0.2)
        pid = app.wall.probes.selected_id
        await pilot.press(*["r"] * 10)
        await pilot.pause(0.3)
        assert [c for c in m.calls if c[0] == "run_now"] == [("run_now", (pid,))]
        assert sum("Run queued" in t for t in toasts(app)) == 1
        m.record(pid, "HEALTHY")  # the run was recorded: the next r queues another
        await pilot.pause(0.3)
        await pilot.press("r")
        await pilot.pause(0.2)
        assert sum("Run queued" in t for t in toasts(app)) == 2


async def test_delete_warning_is_not_cut_in_a_small_terminal() -> None:
    app = app_for(mixed_monitor("healthy"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.2)
        await pilot.press("x")  # the first probe comes from the config file
        await pilot.pause(0.2)
        assert isinstance(app.screen, ConfirmScreen)
        text = " ".join(line.strip(" ┃▎▊█│") for line in screen_text(app).splitlines())
        assert "unless removed there." in " ".join(text.split())


async def test_only_our_themes_are_offered() -> None:
    app = app_for(mixed_monitor("healthy"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert set(app.available_themes) == {"callmeter-dark", "callmeter-light", "callmeter-high-contrast"}


async def test_palette_screenshot_is_saved_under_the_state_dir(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/Downloads, as on a server
    app = app_for(mixed_monitor("healthy"))
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await pilot.pause(0.2)
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"screenshot")
        await pilot.pause(0.3)
        await pilot.press("enter")
        for _ in range(30):
            await pilot.pause(0.1)
            if any("screenshot" in t.lower() for t in toasts(app)):
                break
        assert not any("Failed" in t for t in toasts(app)), toasts(app)
        assert list((tmp_path / "state" / "callmeter-tui" / "screenshots").glob("*.svg"))


async def test_monochrome_terminal_bars_show_each_state_by_its_glyph(monkeypatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = app_for(mixed_monitor("major"))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause(0.3)
        cards = [card_block(app, name) for name in NAMES]  # six probes on 120x30: cards
        ends = {card[0][0]: card[-2][6:].split(" ")[0] for card in cards}  # the bar: the line above the gap
        # the fake history ends with the probe's current state: its last bar cell
        assert ends["✖"].endswith("▒") and ends["▲"].endswith("▓") and ends["●"].endswith("█")
        assert {card[1][:5].strip() for card in cards} == {"▄███▄", "▄", "█▄ ▄█"}  # large symbols differ by shape


class Crashing(CallMeterApp):
    def on_ready(self) -> None:
        self.set_timer(0.2, self.boom)

    def boom(self) -> None:
        raise RuntimeError("boom from a test")


def test_a_crash_exits_1_and_leaves_its_traceback_in_a_file(tmp_path: Path, monkeypatch, capsys) -> None:
    from callmeter_tui.commands.dashboard import run_app

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    code = run_app(Crashing(mixed_monitor("healthy"), clock=lambda: T0), headless=True)
    assert code == 1
    err = capsys.readouterr().err
    files = list((tmp_path / "callmeter-tui").glob("crash-*.txt"))
    assert len(files) == 1 and str(files[0]) in err
    assert "RuntimeError: boom from a test" in files[0].read_text()


def test_quitting_exits_0_and_writes_no_crash_file(tmp_path: Path, monkeypatch) -> None:
    from callmeter_tui.commands.dashboard import run_app

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))

    class Quits(CallMeterApp):
        def on_ready(self) -> None:
            self.set_timer(0.2, self.exit)

    assert run_app(Quits(mixed_monitor("healthy"), clock=lambda: T0), headless=True) == 0
    assert not (tmp_path / "callmeter-tui").exists() or not list((tmp_path / "callmeter-tui").iterdir())


async def test_a_run_that_could_not_be_queued_can_be_retried_at_once() -> None:
    m = mixed_monitor("healthy")
    tries: list[int] = []

    async def refuse(probe_id: int) -> None:
        tries.append(probe_id)
        raise RuntimeError("scheduler not running")

    m.run_now = refuse  # type: ignore[method-assign]
    app = app_for(m)
    async with app.run_test(size=(120, 30), notifications=True) as pilot:
        await pilot.pause(0.2)
        await pilot.press("r")
        await pilot.pause(0.2)
        await pilot.press("r")
        await pilot.pause(0.2)
        assert len(tries) == 2 and not any("Run queued" in t for t in toasts(app))
        assert sum("scheduler not running" in t for t in toasts(app)) == 2


async def test_kiosk_flash_goes_away_by_itself_and_the_wall_keeps_running(monkeypatch) -> None:
    """`--demo --kiosk` died 6-10 s after start: the flash's timer awaited dismiss() from its own handler."""
    from callmeter_tui.tui import screens

    monkeypatch.setattr(screens.AlertFlash.__init__, "__defaults__", (FLASH_S,))
    m = mixed_monitor("healthy")
    app = app_for(m, kiosk=True)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause(0.2)
        m.record(next(iter(m.views)), "UNHEALTHY")
        assert await until(pilot, lambda: isinstance(app.screen, screens.AlertFlash))
        assert await until(pilot, lambda: app.screen is app.wall)  # by itself: no key pressed
        assert app.is_running


async def test_a_second_flash_before_the_first_is_drawn_joins_it() -> None:
    """The kiosk soak crashed with NoMatches('#alert'): two probes turned UNHEALTHY in one batch, and the
    second flash reached the flash screen before it had composed its text. (The flash keeps its 6 s: a
    shorter one was gone before a loaded CI host let the test look.)"""
    from callmeter_tui.tui import screens

    m = mixed_monitor("healthy")
    app = app_for(m, kiosk=True)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause(0.2)
        app.flash_alert("First PBX", 0.0)
        app.flash_alert("Second PBX", 0.0)  # same tick: the flash screen is pushed, not composed yet
        assert await until(pilot, lambda: "Second PBX" in screen_text(app))
        assert app.is_running and isinstance(app.screen, screens.AlertFlash)
        assert "First PBX" in screen_text(app) and "Second PBX" in screen_text(app)
