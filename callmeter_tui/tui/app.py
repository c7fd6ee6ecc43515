"""CallMeterApp: wires the MonitorAPI to the screens.

Events arrive on the engine's bus; a worker drains the queue into coalesced ``BusBatch`` messages,
and a 1 s tick applies them (one snapshot read per tick, never one table rebuild per event).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Mapping
from importlib import resources
from typing import Any

from textual.app import App
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen

from ..bus.events import (
    DeliveriesQueued,
    ExecutionRecorded,
    NotificationRaised,
    PagesChanged,
    ProbesChanged,
    StateChanged,
)
from ..domain.health import HealthState
from ..engine.api import MonitorAPI
from .history import HistoryMixin
from .incident_actions import IncidentActions
from .keys import ACTIONS
from .kiosk import KioskMixin, PaletteMixin
from .panels import MAX_EVENTS, Transition, Transitions
from .plain import notify_plain
from .report import ReportWriter
from .theme import THEME_ORDER, THEMES, textual_name
from .wall import WallScreen

log = logging.getLogger(__name__)
STYLES = resources.files("callmeter_tui.styles")  # top-level styles/, shipped inside the package


class BusBatch(Message):
    """Events drained from the bus in one go."""

    def __init__(self, events: list[object]) -> None:
        super().__init__()
        self.events = events


class CallMeterApp(IncidentActions, HistoryMixin, KioskMixin, PaletteMixin, App):
    """The dashboard. ``kiosk`` makes it a read-only wall display."""

    TITLE = "callmeter-tui"
    CSS_PATH = str(STYLES / "app.tcss")
    BINDINGS = [
        Binding(
            a.key,
            a.action,
            a.title,
            id=a.id,
            show=a.id
            in {
                "run_now",
                "pause",
                "add_probe",
                "edit_probe",
                "delete_probe",
                "pages",
                "history_mode",
                "help",
                "quit_app",
            },
        )
        for a in ACTIONS
        if a.id != "details"
    ]

    def __init__(
        self,
        monitor: MonitorAPI,
        *,
        kiosk: bool = False,
        clock: Callable[[], float] = time.time,
        theme: str = "dark",
        kiosk_cycle_s: float = 15.0,
        startup: Callable[[], Awaitable[None]] | None = None,
        shutdown: Callable[[], Awaitable[None]] | None = None,
        keys: Mapping[str, str] | None = None,
        history_refresh_s: float = 60.0,
        report_writer: ReportWriter | None = None,
        incident_desk: Any = None,
    ) -> None:
        super().__init__()
        self.monitor = monitor
        self.incident_desk = incident_desk  # engine.incident_desk.IncidentDesk (operator incidents) or None
        self.kiosk = kiosk
        self.clock = clock
        self.kiosk_cycle_s = kiosk_cycle_s
        self._on_startup, self._on_shutdown = startup, shutdown
        self._keys = dict(keys or {})
        known = {a.id for a in ACTIONS}
        for action_id in self._keys:
            if action_id not in known:
                raise ValueError(f"keys.{action_id}: unknown action (known: {', '.join(sorted(known))})")
        self.history_refresh_s = history_refresh_s
        self.report_writer = report_writer
        for t, _pal in THEMES.values():
            self.register_theme(t)
        ours = {t.name for t, _pal in THEMES.values()}
        for name in list(self.available_themes):  # stock themes made rows unreadable: offer ours only
            if name not in ours:
                self.unregister_theme(name)
        self.theme = textual_name(theme)
        if kiosk:
            self.use_command_palette = False
        self._dirty = True
        self._history_at = time.monotonic()  # when the periodic refresh last marked every bar stale
        self._history_loaded = -1e9
        self._history_busy = False
        self.transitions = Transitions()
        self._pages_dirty = True
        self._kiosk_views: list[tuple[str, set[int] | None]] = [("All probes", None)]
        self._kiosk_index = 0
        self._queue: asyncio.Queue | None = None
        self._stopped = False
        self._queued_runs: dict[int, float] = {}  # probe id -> when `r` queued a run not yet recorded
        self.wall = WallScreen(now=clock, kiosk=kiosk)

    # --- lifecycle ------------------------------------------------------------------------------
    async def on_mount(self) -> None:
        self._catch_signals(True)
        if self._keys:
            self.set_keymap(self._keys)
        self._queue = self.monitor.bus.subscribe()
        await self.push_screen(self.wall)
        self.mount_incident_panel()
        for n in self.monitor.recent_notifications()[-200:]:  # the log starts with what happened before
            self.wall.log_panel.write(self._log_line(n.level, n.text, n.at))
        self.apply_pending()
        self.run_worker(self._pump(), group="bus", exit_on_error=False)
        self.run_worker(self._start(), group="startup", exit_on_error=False)
        self.set_interval(1.0, self.tick)
        if self.kiosk:
            self.set_interval(self.kiosk_cycle_s, self.kiosk_cycle)

    async def _start(self) -> None:
        try:
            if self._on_startup is not None:
                await self._on_startup()
        except Exception as e:  # the dashboard still shows; the operator sees why nothing runs
            log.exception("engine startup failed")
            notify_plain(self, f"Engine failed to start: {e}", severity="error", timeout=30)
        try:  # the events panel starts with what happened before the dashboard did
            self.transitions.seed(await self.monitor.recent_transitions(MAX_EVENTS))
        except Exception:
            log.exception("could not read the stored transitions")
        self._dirty = self._pages_dirty = True
        self.apply_pending()

    def _catch_signals(self, on: bool) -> None:
        """SIGTERM (systemd, kill) and SIGHUP (terminal closed) leave like `q`: engine stopped, terminal
        restored, exit code 0 (the operator's own way out; a crash is what exits 1)."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGHUP):
            try:
                if on:
                    loop.add_signal_handler(sig, self.exit)
                else:
                    loop.remove_signal_handler(sig)
            except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signals
                pass

    @property
    def crash(self) -> BaseException | None:
        """The exception that ended the app, if one did (Textual keeps it; launch saves it)."""
        return self._exception

    def deliver_screenshot(self, filename=None, path=None, time_format=None):
        """Textual's default is ~/Downloads, which a server often lacks ("Failed to save screenshot")."""
        from .statedir import state_dir

        return super().deliver_screenshot(filename, path or str(state_dir("screenshots")), time_format)

    async def on_unmount(self) -> None:
        self._catch_signals(False)
        if self._queue is not None:
            self.monitor.bus.unsubscribe(self._queue)
        if self._on_shutdown is not None and not self._stopped:
            self._stopped = True
            try:
                await self._on_shutdown()
            except Exception:
                log.exception("engine shutdown failed")

    async def _pump(self) -> None:
        """Drain the bus: one message per burst, at most ~10 per second."""
        q = self._queue
        assert q is not None
        while True:
            batch = [await q.get()]
            while len(batch) < 10_000:
                try:
                    batch.append(q.get_nowait())
                except asyncio.QueueEmpty:
                    break
            self.post_message(BusBatch(batch))
            await asyncio.sleep(0.1)

    # --- events ---------------------------------------------------------------------------------
    def on_bus_batch(self, message: BusBatch) -> None:
        touched: set[int] = set()  # probes whose drill-down data changed
        stale = self.wall.probes.stale if self.wall.ready else set()  # once per batch, not per event
        for ev in message.events:
            if isinstance(ev, (ExecutionRecorded, StateChanged)):
                touched.add(ev.probe_id)
            elif isinstance(ev, ProbesChanged):
                touched.update(ev.probe_ids)
            elif isinstance(ev, (DeliveriesQueued, NotificationRaised)):
                touched.add(-1)  # webhook deliveries: no probe id on the event
            if isinstance(ev, ExecutionRecorded):
                self._dirty = True
                self._queued_runs.pop(ev.probe_id, None)
            elif isinstance(ev, StateChanged):
                self._dirty = True
                stale.add(ev.probe_id)  # today's bar cell changes colour
                self.transitions.add(
                    Transition(
                        ev.at, ev.probe_id, ev.probe_name, HealthState.parse(ev.previous), HealthState.parse(ev.current)
                    )
                )
                if ev.current == HealthState.UNHEALTHY.value and self.kiosk:
                    self.flash_alert(ev.probe_name, ev.at)
            elif isinstance(ev, ProbesChanged):
                self._dirty = self._pages_dirty = True
                stale.update(ev.probe_ids)
            elif isinstance(ev, PagesChanged):
                self._pages_dirty = True
                self.incidents_changed()
            elif isinstance(ev, NotificationRaised):
                self.show_notification(ev.level, ev.text, ev.at)
        stack = self.screen_stack
        if self.wall not in stack or stack[-1] is self.wall:
            return  # nothing above the wall: no drill-down to reload (and its module not imported for nothing)
        from .detail import ProbeDetailScreen

        for screen in self.screen_stack:
            if isinstance(screen, ProbeDetailScreen) and touched & {screen.probe_id, -1}:
                screen.reload()

    def show_notification(self, level: str, text: str, at: float) -> None:
        severity = {"error": "error", "critical": "error", "warning": "warning"}.get(level, "information")
        notify_plain(self, text, severity=severity, timeout=8)
        if self.wall.ready:
            self.wall.log_panel.write(self._log_line(level, text, at))

    @staticmethod
    def _log_line(level: str, text: str, at: float) -> str:
        return f"{time.strftime('%m-%d %H:%M:%S', time.gmtime(at))}  {level.upper():<7} {text}"

    def tick(self) -> None:
        self.apply_pending()

    def apply_pending(self) -> None:
        """Apply what the bus told us since the last tick; repaint the banner, panels and visible rows."""
        if not self.wall.ready:
            return  # composing, or tearing down at exit
        views = self.monitor.probe_views()
        plist = self.wall.probes
        if self._dirty:
            plist.set_views(views)  # repaints the lines that draw differently
            self._dirty = False
        else:
            plist.refresh_changed()  # the "checked … ago" column moves every second
        self.refresh_incidents()
        name, only = self._kiosk_views[self._kiosk_index % len(self._kiosk_views)]
        shown = [v for v in views if only is None or v.id in only]
        subtitle = self._kiosk_subtitle(name) if self.kiosk else ""
        now = self.clock()
        banner = self.wall.banner
        banner.show(
            shown, project=self.monitor.config.project_name, now=now, web_url=self.monitor.web_url(), subtitle=subtitle
        )
        self.wall.counts.show(banner.state, banner.states, now)
        moves = (t for t in self.transitions.items if only is None or t.probe_id in only)
        self.wall.events_panel.show(shown, moves, now)
        self.wall.fit_events()
        self._load_history_due()
        if self.kiosk and self._pages_dirty:
            self._pages_dirty = False
            self.run_worker(self._load_kiosk_views(), group="pages", exclusive=True, exit_on_error=False)

    # --- actions --------------------------------------------------------------------------------
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
