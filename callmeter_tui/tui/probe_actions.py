"""The dashboard's probe actions and key actions (a mixin of CallMeterApp, kept apart so the app stays
small): run now, pause, add/edit/delete a probe, maintenance, the drill-down, status pages, the SLA report,
the history/log/theme toggles. Each key that triggers one is listed once, in keys.ACTIONS.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable
from typing import Any

from textual.screen import Screen

from .plain import notify_plain
from .theme import THEME_ORDER, textual_name


class ProbeActions:
    """Needs the app's ``wall``, ``monitor``, ``clock``, ``kiosk``, ``report_writer`` and ``_queued_runs``."""

    wall: Any
    monitor: Any
    clock: Any
    kiosk: bool
    report_writer: Any
    theme: Any
    screen: Any
    _queued_runs: dict[int, float]
    run_worker: Any
    notify: Any
    push_screen: Any
    push_screen_wait: Any
    pop_screen: Any
    exit: Any
    apply_pending: Any

    @property
    def selected_id(self) -> int | None:
        return self.wall.probes.selected_id

    def _selected_view(self):
        pid = self.selected_id
        return next((v for v in self.monitor.probe_views() if v.id == pid), None) if pid is not None else None

    async def _call(self, coro: Awaitable[object], done: str) -> None:
        try:
            await coro
        except Exception as e:
            notify_plain(self, f"Failed: {e}", severity="error")
            return
        notify_plain(self, done, timeout=3)

    def action_quit_app(self) -> None:
        self.exit()

    def action_details(self) -> None:
        if self.selected_id is not None:
            self.open_detail(self.selected_id)

    def on_probe_list_selected(self, message) -> None:
        self.open_detail(message.probe_id)

    def open_detail(self, probe_id: int) -> None:
        if self.kiosk:
            return
        from .detail import ProbeDetailScreen

        self.push_screen(ProbeDetailScreen(self.monitor, probe_id, clock=self.clock))

    def action_run_now(self, probe_id: int | None = None) -> None:
        view = self._view(probe_id)
        if not view:
            return
        mono = time.monotonic()
        if mono - self._queued_runs.get(view.id, -1e9) < max(60.0, 2 * view.interval_s):
            return  # already queued and not recorded yet: one run, one toast
        self._queued_runs[view.id] = mono
        self.run_worker(self._run_now(view.id, view.name))

    async def _run_now(self, probe_id: int, name: str) -> None:
        try:
            await self.monitor.run_now(probe_id)
        except Exception as e:
            self._queued_runs.pop(probe_id, None)  # nothing queued: the next `r` tries again
            notify_plain(self, f"Failed: {e}", severity="error")
            return
        notify_plain(self, f"Run queued: {name}", timeout=3)

    def action_toggle_pause(self, probe_id: int | None = None) -> None:
        view = self._view(probe_id)
        if view:
            verb = "Paused" if view.enabled else "Resumed"
            self.run_worker(self._call(self.monitor.set_enabled(view.id, not view.enabled), f"{verb}: {view.name}"))

    def action_add_probe(self) -> None:
        from .forms import ProbeForm

        self.push_screen(ProbeForm(self.monitor, None))

    def action_schedule_maintenance(self, probe_id: int | None = None) -> None:
        from .maintenance_form import MaintenanceForm

        self.push_screen(MaintenanceForm(self.monitor, self._view(probe_id)))

    def action_edit_probe(self, probe_id: int | None = None) -> None:
        from .forms import ProbeForm

        view = self._view(probe_id)
        if view:
            self.push_screen(ProbeForm(self.monitor, view))

    def action_delete_probe(self, probe_id: int | None = None) -> None:
        from .screens import ConfirmScreen

        view = self._view(probe_id)
        if not view:
            return
        extra = (
            " It is defined in the config file and will come back on restart unless removed there."
            if view.source == "config"
            else ""
        )

        def done(ok: bool | None) -> None:
            if ok:
                self.run_worker(self._call(self.monitor.delete_probe(view.id), f"Deleted: {view.name}"))
                if isinstance(self.screen, Screen) and self.screen is not self.wall:
                    from .detail import ProbeDetailScreen

                    if isinstance(self.screen, ProbeDetailScreen):
                        self.pop_screen()

        self.push_screen(ConfirmScreen(f"Delete probe {view.name!r} and its history?{extra}"), done)

    def _view(self, probe_id: int | None):
        pid = probe_id if probe_id is not None else self.selected_id
        if pid is None:
            self.notify("No probe selected", severity="warning", timeout=3)
            return None
        return next((v for v in self.monitor.probe_views() if v.id == pid), None)

    def action_status_pages(self) -> None:
        from .pages import PagesScreen

        self.push_screen(PagesScreen(self.monitor))

    def action_chart_window(self) -> None:
        """The drill-down binds this key itself; elsewhere say where it works."""
        from .detail import ProbeDetailScreen

        if isinstance(self.screen, ProbeDetailScreen):
            self.screen.action_next_window()
        else:
            self.notify("Open a probe's details (Enter) to switch its chart window", timeout=3)

    def action_sla_report(self) -> None:
        self.run_worker(self._sla_report(), group="report", exit_on_error=False)

    async def _sla_report(self) -> None:
        from .report import ReportScreen, write_in_thread

        writer = self.report_writer
        if writer is None or self.kiosk:
            self.notify("SLA reports are not available here", severity="warning", timeout=5)
            return
        pages = [(p.spec.slug, p.spec.name) for p in await self.monitor.list_status_pages()]
        if not pages:
            self.notify("No status pages yet: press 's' to create one", severity="warning", timeout=5)
            return
        choice = await self.push_screen_wait(ReportScreen(pages, self.clock()))
        if choice is not None:
            await write_in_thread(self, writer, choice)

    def action_toggle_history(self) -> None:
        plist = self.wall.probes
        plist.set_mode("hours" if plist.mode == "days" else "days")
        self.apply_pending()

    def action_toggle_log(self) -> None:
        self.wall.log_panel.toggle_class("shown")

    def action_cycle_theme(self) -> None:
        names = [textual_name(t) for t in THEME_ORDER]
        i = names.index(self.theme) if self.theme in names else -1
        self.theme = names[(i + 1) % len(names)]
        self.wall.probes.refresh()
        self.apply_pending()
