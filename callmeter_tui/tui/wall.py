"""The wall screen: banner (banner rule, counts, clock, web URL), large counts, probe list (rows or
cards), the events panel (ongoing incidents, recent transitions) and the notification log.

The events panel sits at the right on wide terminals and under the list on narrow ones, where it
takes the lines the list does not need.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Container
from textual.screen import Screen
from textual.widgets import RichLog, Static

from ..domain.banner import banner, banner_states
from ..domain.health import HealthState
from ..domain.palette import MAINTENANCE_LABEL, MAINTENANCE_SYMBOL
from ..engine.api import ProbeView
from .eventspanel import EventsPanel
from .panels import CountsBar, KeysBar
from .probelist import ProbeList
from .theme import SYMBOLS, palette_for


class Banner(Static):
    """Overall state line in the state's colour; readable without colour thanks to the symbol."""

    DEFAULT_CSS = """
    Banner { height: 2; padding: 0 1; text-style: bold; }
    """

    def show(
        self, views: Iterable[ProbeView], *, project: str, now: float, web_url: str | None, subtitle: str = ""
    ) -> None:
        views = list(views)
        enabled = [v for v in views if v.enabled]
        states = [HealthState.parse(v.state) for v in enabled]
        state, text = banner(banner_states(states, (v.under_maintenance for v in enabled)))
        pal = palette_for(self.app.theme)
        colours = (pal.state[state], pal.banner_fg[state])
        if getattr(self, "_colours", None) != colours:  # a style change repaints: only when it changes
            self.styles.background, self.styles.color = self._colours = colours
        clock = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(now))
        width = max(20, self.size.width - 2)
        left = f"{SYMBOLS[state]} {text}  ·  {project}" + (f"  ·  {subtitle}" if subtitle else "")
        line1 = Text(left[: max(1, width - len(clock) - 1)].ljust(max(1, width - len(clock))) + clock)
        counts = Counter(states)
        parts = [
            f"{SYMBOLS[s]} {counts.get(s, 0)} {s.label.lower()}"
            for s in (HealthState.HEALTHY, HealthState.DEGRADED, HealthState.UNHEALTHY, HealthState.UNKNOWN)
        ]
        in_maintenance = sum(1 for v in enabled if v.under_maintenance)
        if in_maintenance:
            parts.append(f"{MAINTENANCE_SYMBOL} {in_maintenance} {MAINTENANCE_LABEL.lower()}")
        paused = len(views) - len(enabled)
        if paused:
            parts.append(f"‖ {paused} paused")
        line2 = "   ".join(parts) + (f"   ·   Status page: {web_url}" if web_url else "")
        if len(line2) > width:  # narrow terminal: counts by symbol only
            short = [p.rsplit(" ", 1)[0] for p in parts]
            line2 = "  ".join(short) + (f"  ·  {web_url}" if web_url else "")
        self.update(Text.assemble(line1, "\n", line2[:width]), layout=False)  # fixed height: no relayout
        self.state = state
        self.text = text
        self.states = states


class WallScreen(Screen):
    """Default screen. The app feeds it snapshots; it never does I/O itself."""

    DEFAULT_CSS = """
    WallScreen #body { height: 1fr; layout: horizontal; }
    WallScreen ProbeList { height: 1fr; width: 1fr; }
    WallScreen EventsPanel { height: 1fr; width: 44; }
    WallScreen.-narrow #body { layout: vertical; }
    WallScreen.-narrow EventsPanel { width: 1fr; height: 6; border-left: none; border-top: hkey $panel-lighten-2; }
    WallScreen.-short CountsBar { display: none; }
    WallScreen #log { height: 8; border-top: solid $panel-lighten-2; display: none; }
    WallScreen #log.shown { display: block; }
    """
    WIDE = 140  # from this width the events panel is a column at the right

    def __init__(self, *, now, kiosk: bool = False) -> None:
        super().__init__()
        self._now = now
        self.kiosk = kiosk

    def compose(self) -> ComposeResult:
        yield Banner(id="banner")
        yield CountsBar(id="counts")
        plist = ProbeList(now=self._now, id="probes")
        if self.kiosk:
            plist.can_focus = False
            plist.show_cursor = False
        with Container(id="body"):
            yield plist
            yield EventsPanel(id="events")
        yield RichLog(id="log", markup=False, wrap=True, max_lines=500)
        if not self.kiosk:
            yield KeysBar(id="keys")

    @property
    def ready(self) -> bool:
        """Children exist (not before compose finished, not after teardown began)."""
        return self.is_mounted and bool(self.query(ProbeList)) and bool(self.query(Banner))

    @property
    def probes(self) -> ProbeList:
        return self.query_one(ProbeList)

    @property
    def banner(self) -> Banner:
        return self.query_one(Banner)

    @property
    def log_panel(self) -> RichLog:
        return self.query_one("#log", RichLog)

    @property
    def counts(self) -> CountsBar:
        return self.query_one(CountsBar)

    @property
    def events_panel(self) -> EventsPanel:
        return self.query_one(EventsPanel)

    def on_mount(self) -> None:
        self._fit(self.size.width, self.size.height)
        if not self.kiosk:
            self.probes.focus()

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.width, event.size.height)

    def _fit(self, width: int, height: int) -> None:
        """Panel placement for the terminal's size: events at the right when wide, below when narrow;
        the large counts give way on very short terminals."""
        self.set_class(width < self.WIDE, "-narrow")
        self.set_class(height < 20, "-short")
        if width >= self.WIDE:
            self.events_panel.styles.width = max(36, min(60, width // 4))
        self.fit_events()

    def fit_events(self) -> None:
        """Narrow terminals: the events panel takes the lines the dense list does not need (at least 5)."""
        if not self.has_class("-narrow") or not self.is_mounted:
            return
        body = self.query_one("#body").size.height
        plist = self.probes
        spare = body - (plist.content_lines + 1)
        height = 5 if plist.shape.cards or not body else max(5, spare)
        if self.events_panel.styles.height is None or self.events_panel.styles.height.value != height:
            self.events_panel.styles.height = height
