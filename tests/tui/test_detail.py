"""Drill-down screen, webhook actions, help and command palette, remapped keys."""

from __future__ import annotations

from textual.widgets import DataTable, Input, TabbedContent

from callmeter_tui.tui.app import CallMeterApp
from callmeter_tui.tui.charts import MetricChart
from callmeter_tui.tui.detail import ProbeDetailScreen
from callmeter_tui.tui.forms import ProbeForm, WebhookForm
from callmeter_tui.tui.keys import ACTIONS
from callmeter_tui.tui.screens import HelpScreen, SecretScreen
from tests.tui.fakes import T0, mixed_monitor
from tests.tui.helpers import screen_text


def app_for(monitor, **kw) -> CallMeterApp:
    return CallMeterApp(monitor, clock=lambda: T0, **kw)


async def open_detail(pilot, app, name: str) -> ProbeDetailScreen:
    pid = next(v.id for v in app.monitor.views.values() if v.name == name)
    app.wall.probes.select_id(pid)
    await pilot.press("enter")
    await pilot.pause(0.3)
    assert isinstance(app.screen, ProbeDetailScreen)
    return app.screen


async def test_detail_shows_metrics_charts_executions_and_transitions() -> None:
    m = mixed_monitor("major")
    app = app_for(m)
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.pause()
        screen = await open_detail(pilot, app, "Primary SIP Trunk (US East)")
        text = screen_text(app)
        assert "UNHEALTHY" in text and "from the config file" in text
        assert "✖ critical" in text and "MOS" in text
        assert len(screen.query(MetricChart)) == 5 and "Charts over 24 h" in text
        await pilot.press("1")
        await pilot.pause(0.3)
        assert "Charts over 1 h" in screen_text(app)
        execs = screen.query_one("#executions", DataTable)
        rows = [execs.get_row_at(i) for i in range(execs.row_count)]
        assert any(r[2] == "503" and "Service Unavailable" in r[4] for r in rows)
        assert screen.query_one("#transitions", DataTable).row_count == 1
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.wall


async def open_webhook_form(pilot, app):  # type: ignore[no-untyped-def]
    """The "IVR System" drill-down, then its add-webhook form: (drill-down screen, form)."""
    await pilot.pause()
    screen = await open_detail(pilot, app, "IVR System")
    await pilot.press("a")
    await pilot.pause()
    assert isinstance(app.screen, WebhookForm)
    return screen, app.screen


async def test_webhook_add_shows_secret_once_and_actions_reach_the_engine() -> None:
    m = mixed_monitor("healthy")
    app = app_for(m)
    async with app.run_test(size=(140, 45)) as pilot:
        screen, form = await open_webhook_form(pilot, app)
        pid = screen.probe_id
        form.query_one("#f-url", Input).value = "http://hooks.example.com/x"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "refused" in screen_text(app) and m.calls == []
        form.query_one("#f-url", Input).value = "https://hooks.example.com/x"
        await pilot.press("ctrl+s")
        await pilot.pause(0.3)
        assert m.calls == [("add_webhook", (pid, "https://hooks.example.com/x", "generic"))]
        assert isinstance(app.screen, SecretScreen)
        secret = app.screen.secret
        assert secret in screen_text(app)
        await pilot.press("c")
        assert app.clipboard == secret
        await pilot.press("escape")
        await pilot.pause(0.3)
        assert app.screen is screen and secret not in screen_text(app)
        wid = next(iter(m.webhooks))
        await pilot.press("t")
        await pilot.press("w")
        await pilot.press("d")
        await pilot.pause(0.3)
        assert ("send_test_event", (wid,)) in m.calls
        assert ("set_webhook_enabled", (wid, False)) in m.calls
        assert ("redeliver", (wid * 10,)) in m.calls
        await pilot.pause(0.3)
        screen.query_one(TabbedContent).active = "tab-webhooks"
        await pilot.pause(0.2)
        text = screen_text(app)
        assert "https://hooks.example.com/x" in text and "HTTP 500" in text and "Attempts of delivery" in text
        titles = {c.title for c in app.get_system_commands(screen)}
        assert {
            "Probe: Redeliver",
            "Probe: Test event",
            "Probe: Add webhook",
            "Probe: Enable/disable webhook",
        } <= titles
        await pilot.press("X")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause(0.3)
        assert ("delete_webhook", (wid,)) in m.calls and m.webhooks == {}


async def test_help_lists_remapped_keys_and_remap_works() -> None:
    m = mixed_monitor("healthy")
    app = app_for(m, keys={"add_probe": "plus", "run_now": "f5"})
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        assert "plus" in text and "Add probe" in text and "f5" in text and "[dashboard].keys" in text
        await pilot.press("escape")
        await pilot.press("plus")
        await pilot.pause()
        assert isinstance(app.screen, ProbeForm)
        await pilot.press("escape")
        await pilot.press("f5")
        await pilot.pause(0.2)
        assert m.calls and m.calls[0][0] == "run_now"


async def test_command_palette_has_every_action() -> None:
    app = app_for(mixed_monitor("healthy"))
    async with app.run_test() as pilot:
        await pilot.pause()
        titles = {c.title for c in app.get_system_commands(app.screen)}
        expected = {a.title for a in ACTIONS if a.id not in ("quit_app", "theme")} | {"Add status page"}
        assert expected <= titles
        await pilot.press("ctrl+p")
        await pilot.pause()
        for ch in "Status pages":
            await pilot.press(ch if ch != " " else "space")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause(0.3)
        from callmeter_tui.tui.pages import PagesScreen

        assert isinstance(app.screen, PagesScreen)


def test_unknown_key_action_is_a_one_line_error() -> None:
    import pytest

    with pytest.raises(ValueError, match=r"^keys\.launch_rockets: unknown action \(known: add_probe, "):
        CallMeterApp(mixed_monitor("healthy"), keys={"launch_rockets": "x"})


async def test_pagerduty_webhook_needs_a_routing_key_env_named_in_the_form() -> None:
    from textual.widgets import Select

    m = mixed_monitor("healthy")
    app = app_for(m)
    async with app.run_test(size=(140, 45)) as pilot:
        screen, form = await open_webhook_form(pilot, app)
        pid = screen.probe_id
        form.query_one("#f-url", Input).value = "https://events.pagerduty.com/v2/enqueue"
        form.query_one("#f-format", Select).value = "pagerduty"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "is required for format 'pagerduty'" in screen_text(app) and m.calls == []
        form.query_one("#f-routing_key_env", Input).value = "1PD_KEY"  # the config refuses it: so does the form
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "expected an environment variable name like" in screen_text(app) and m.calls == []
        form.query_one("#f-routing_key_env", Input).value = "PD_ROUTING_KEY"
        await pilot.press("ctrl+s")
        await pilot.pause(0.3)
        assert m.calls == [
            ("add_webhook", (pid, "https://events.pagerduty.com/v2/enqueue", "pagerduty", "PD_ROUTING_KEY"))
        ]
