"""CallMeterApp: wires the MonitorAPI to the screens.

Events arrive on the engine's bus; a worker drains the queue into coalesced ``BusBatch`` messages,
and a 1 s tick applies them (one snapshot read per tick, never one table rebuild per event).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Mapping
from importlib import resources
from typing import Any

from textual.app import App
from textual.binding import Binding
from textual.message import Message

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
from .eventspanel import MAX_EVENTS, Transition, Transitions
from .history import HistoryMixin
from .incident_actions import IncidentActions
from .keys import ACTIONS
from .kiosk import KioskMixin, PaletteMixin
from .plain import notify_plain
from .probe_actions import ProbeActions
from .report import ReportWriter
from .theme import THEMES, textual_name
from .wall import WallScreen

log = logging.getLogger(__name__)
STYLES = resources.files("callmeter_tui.styles")  # top-level styles/, shipped inside the package


_heap_freezes = 0


def freeze_heap() -> None:
    """Move every object alive now out of the collector's sight (``gc.freeze``), twice per process at most.

    Why: with 1,000 probes the heap holds tens of thousands of long-lived objects (the engine's, the
    views, Textual's DOM and styles); each full collection walked them all (~130 ms, a fifth of the first
    paint and of the steady CPU). Frozen objects are still freed by reference counting; only a cycle among
    them that dies later is never collected, which for startup objects costs a little memory once. Only
    the first dashboard of a process freezes (the tests start hundreds)."""
    global _heap_freezes
    if _heap_freezes < 2:
        _heap_freezes += 1
        gc.freeze()


class BusBatch(Message):
    """Events drained from the bus in one go."""

    def __init__(self, events: list[object]) -> None:
        super().__init__()
        self.events = events


class CallMeterApp(ProbeActions, IncidentActions, HistoryMixin, KioskMixin, PaletteMixin, App):
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
        freeze_heap()  # what the engine built before the dashboard
        self.call_after_refresh(freeze_heap)  # and the wall's widgets and styles, once painted
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
