"""Schedule a maintenance window from the dashboard: the CLI's fields, prefilled for the selected probe
(the first page showing it); the store's rules refuse bad input and the error shows under its field."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Footer, Input, Label, Static

from ..domain.maintenance import MaintenanceError
from ..engine.api import MonitorAPI, ProbeView
from .forms import FormScreen
from .plain import notify_plain

FIELDS = ("page", "component", "title", "start", "end", "rrule")


class MaintenanceForm(FormScreen):
    def __init__(self, monitor: MonitorAPI, view: ProbeView | None) -> None:
        super().__init__()
        self.monitor = monitor
        self.view = view

    def compose(self) -> ComposeResult:
        yield Static("Schedule maintenance", classes="form-title")
        yield Label("", id="form-error")
        with Vertical(id="form-body"):
            yield from self.field_row("page", "Status page (slug)", "", "voip")
            yield from self.field_row("component", "Component", "", "Primary SIP Trunk")
            yield from self.field_row("title", "Title", "", "Firmware upgrade")
            yield from self.field_row("start", "Start (page's zone)", "", "2026-12-06T02:00")
            yield from self.field_row("end", "End", "", "2026-12-06T04:00")
            yield from self.field_row("rrule", "Repeat (RRULE, optional)", "", "FREQ=WEEKLY;BYDAY=SU")
            yield from self.buttons()
        yield Footer()

    def on_mount(self) -> None:
        self.run_worker(self._prefill(), exit_on_error=False)

    async def _prefill(self) -> None:
        if self.view is not None:
            for page in await self.monitor.list_status_pages():
                comp = next((c for c in page.spec.components if c.probe == self.view.name), None)
                if comp is not None:
                    self.query_one("#f-page", Input).value = page.spec.slug
                    self.query_one("#f-component", Input).value = comp.name
                    break
        self.query_one("#f-title", Input).focus()

    def action_save(self) -> None:
        self.clear_errors()
        fields = {k: self.value(k).strip() for k in FIELDS}
        self.run_worker(self._save({k: v or None for k, v in fields.items()}), exclusive=True, exit_on_error=False)

    async def _save(self, fields: dict[str, str | None]) -> None:
        try:
            window_id = await self.monitor.schedule_maintenance(**fields)
        except MaintenanceError as e:
            self.show_errors({e.key: e.message})
            return
        except Exception as e:
            self.form_error(f"Not saved: {e}")
            return
        notify_plain(self, f"Maintenance {window_id} scheduled: {fields['title']}", timeout=3)
        self.dismiss(window_id)
