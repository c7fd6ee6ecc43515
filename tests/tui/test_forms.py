"""Forms: the config file's validation, errors next to fields, nothing saved until valid."""

from __future__ import annotations

from textual.widgets import Checkbox, Input, Label

from callmeter_tui.domain.probe import ComponentSpec, ProbeKind, StatusPageSpec
from callmeter_tui.domain.thresholds import Threshold
from callmeter_tui.tui.app import CallMeterApp
from callmeter_tui.tui.forms import ProbeForm
from callmeter_tui.tui.pages import PageForm, PagesScreen
from callmeter_tui.tui.screens import ConfirmScreen
from tests.tui.fakes import T0, mixed_monitor
from tests.tui.helpers import screen_text


def app_for(monitor) -> CallMeterApp:
    return CallMeterApp(monitor, clock=lambda: T0)


def fill(screen, values: dict[str, str]) -> None:
    for key, value in values.items():
        screen.query_one(f"#f-{key.replace('.', '--')}", Input).value = value


def error_of(screen, key: str) -> str:
    lab = screen.query_one(f"#err-{key.replace('.', '--')}", Label)
    return str(lab.render()) if lab.has_class("shown") else ""


async def test_add_probe_valid_is_saved_as_interactive() -> None:
    m = mixed_monitor("healthy")
    app = app_for(m)
    async with app.run_test(size=(120, 50)) as pilot:
        await pilot.press("a")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, ProbeForm)
        for ch in "Lab":
            await pilot.press(ch)  # typed for real into the focused Name field
        fill(
            form,
            {
                "target": "sip:lab@127.0.0.1:5090",
                "interval": "30s",
                "thresholds.mos.warning": "3.8",
                "thresholds.mos.critical": "3.0",
            },
        )
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, ProbeForm)
        ((name, (spec,)),) = [c for c in m.calls if c[0] == "add_probe"]
        assert spec.name == "Lab" and spec.kind is ProbeKind.SIP_OPTIONS and spec.interval_s == 30.0
        assert spec.thresholds == {"mos": Threshold(3.8, 3.0)} and spec.source == "interactive"
        await pilot.pause(1.2)
        assert "Lab" in screen_text(app)


async def test_invalid_fields_show_errors_next_to_them_and_nothing_is_saved() -> None:
    m = mixed_monitor("healthy")
    app = app_for(m)
    async with app.run_test(size=(120, 50)) as pilot:
        await pilot.press("a")
        await pilot.pause()
        form = app.screen
        fill(
            form,
            {
                "name": "Bad",
                "target": "http://nope",
                "interval": "5 parsecs",
                "thresholds.mos.warning": "3.0",
                "thresholds.mos.critical": "3.8",
                "auth.username": "alice",
            },
        )
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ProbeForm)
        assert "sip:" in error_of(form, "target")
        assert "duration" in error_of(form, "interval")
        assert "must be above critical" in error_of(form, "thresholds.mos")
        assert "required" in error_of(form, "auth.password_env")
        assert error_of(form, "name") == ""
        text = screen_text(app)
        assert "✖" in text and "must be above critical" in text
        assert [c for c in m.calls if c[0] in ("add_probe", "update_probe")] == []
        # fix everything: errors go away and it saves
        fill(
            form,
            {
                "target": "sip:127.0.0.1",
                "interval": "1m",
                "thresholds.mos.warning": "3.8",
                "thresholds.mos.critical": "3.0",
                "auth.password_env": "LAB_PW",
            },
        )
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        assert [c[0] for c in m.calls] == ["add_probe"]


async def test_duplicate_name_is_refused() -> None:
    m = mixed_monitor("healthy")
    app = app_for(m)
    async with app.run_test(size=(120, 50)) as pilot:
        await pilot.press("a")
        await pilot.pause()
        fill(app.screen, {"name": "IVR System", "target": "sip:127.0.0.1"})
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "duplicate" in error_of(app.screen, "name") and m.calls == []


async def test_edit_keeps_other_settings_and_marks_config_probes() -> None:
    m = mixed_monitor("healthy")
    pid = next(v.id for v in m.views.values() if v.name == "PBX OPTIONS (Berlin)")
    from dataclasses import replace

    m.views[pid] = replace(m.views[pid], spec=replace(m.specs[pid], timeout_s=4.0, username="u", password_env="PBX_PW"))
    app = app_for(m)
    async with app.run_test(size=(120, 50)) as pilot:
        await pilot.pause()
        app.wall.probes.select_id(pid)
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        assert "comes from the config file" in screen_text(app)
        assert form.query_one("#f-timeout", Input).value == "4s"
        assert form.query_one("#f-auth--password_env", Input).value == "PBX_PW"
        fill(form, {"interval": "2m"})
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        ((_, (got_id, spec)),) = m.calls
        assert got_id == pid and spec.interval_s == 120 and spec.timeout_s == 4.0 and spec.source == "config"
        assert spec.thresholds == m.specs[pid].thresholds


async def test_pause_run_now_and_delete_with_confirmation() -> None:
    m = mixed_monitor("healthy")
    app = app_for(m)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        pid = app.wall.probes.selected_id
        await pilot.press("r")
        await pilot.press("p")
        await pilot.pause(0.2)
        assert ("run_now", (pid,)) in m.calls and ("set_enabled", (pid, False)) in m.calls
        await pilot.pause(1.1)
        assert "paused" in screen_text(app)
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")  # cancelled: nothing deleted
        await pilot.pause()
        assert pid in m.views
        await pilot.press("x")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause(0.2)
        assert ("delete_probe", (pid,)) in m.calls and pid not in m.views


async def test_status_page_form_valid_invalid_and_delete() -> None:
    m = mixed_monitor("healthy")
    app = app_for(m)
    async with app.run_test(size=(120, 50)) as pilot:
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, PagesScreen)
        await pilot.press("a")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, PageForm)
        fill(form, {"name": "Trunks", "slug": "Bad Slug!", "accent_color": "teal"})
        form.query_one("#c-on-3", Checkbox).value = True
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "lowercase" in error_of(form, "slug") and "colour" in error_of(form, "accent_color")
        assert m.calls == []
        fill(form, {"slug": "trunks", "accent_color": "#112233"})
        # two components, ordered by the order field, with a customer-facing name
        form.query_one("#c-on-2", Checkbox).value = True
        form.query_one("#c-name-2", Input).value = "Main trunk"
        form.query_one("#c-order-2", Input).value = "1"
        form.query_one("#c-order-3", Input).value = "2"
        await pilot.press("ctrl+s")
        await pilot.pause(0.3)
        ((_, (spec, page_id)),) = m.calls
        assert page_id is None and spec.slug == "trunks" and spec.accent_color == "#112233"
        assert spec.components == (
            ComponentSpec(form.probes[2].name, "Main trunk"),
            ComponentSpec(form.probes[3].name, form.probes[3].name),
        )
        assert isinstance(app.screen, PagesScreen)
        await pilot.pause(0.2)
        assert "trunks" in screen_text(app)
        await pilot.press("x")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause(0.3)
        assert m.calls[-1][0] == "delete_status_page" and m.pages == {}


async def test_edit_status_page_prefills_components() -> None:
    m = mixed_monitor("healthy")
    await m.save_status_page(StatusPageSpec(slug="voip", name="VoIP", components=(ComponentSpec("IVR System", "IVR"),)))
    m.calls.clear()
    app = app_for(m)
    async with app.run_test(size=(120, 50)) as pilot:
        await pilot.press("s")
        await pilot.pause(0.2)
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        i = next(i for i, v in enumerate(form.probes) if v.name == "IVR System")
        assert form.query_one(f"#c-on-{i}", Checkbox).value and form.query_one(f"#c-name-{i}", Input).value == "IVR"
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        ((_, (spec, page_id)),) = m.calls
        assert page_id is not None and spec.components == (ComponentSpec("IVR System", "IVR"),)


async def test_status_page_by_keyboard_only() -> None:
    """Tab through the form, tick a probe with space, name and order it, save with ctrl+s."""
    m = mixed_monitor("healthy")
    app = app_for(m)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("s")
        await pilot.pause(0.2)
        await pilot.press("a")
        await pilot.pause(0.2)
        await pilot.press(*"Ops", "tab", *"ops", *["tab"] * 5, "space", "tab", *"Main", "tab", "1", "ctrl+s")
        await pilot.pause(0.3)
        ((_, (spec, _)),) = m.calls
        assert spec.name == "Ops" and spec.slug == "ops"
        assert spec.components == (ComponentSpec(app.screen.pages[0].spec.components[0].probe, "Main"),)
