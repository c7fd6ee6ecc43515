"""The wall screen: banner (banner rule, counts, clock, web URL), probe list, notification log."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable

from rich.text import Text
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, RichLog, Static

from ..domain.banner import banner, banner_states
from ..domain.health import HealthState
from ..domain.palette import MAINTENANCE_LABEL, MAINTENANCE_SYMBOL
from ..engine.api import ProbeView
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
        self.styles.background = pal.state[state]
        self.styles.color = pal.banner_fg[state]
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
        self.update(Text.assemble(line1, "\n", line2[:width]))
        self.state = state
        self.text = text


class WallScreen(Screen):
    """Default screen. The app feeds it snapshots; it never does I/O itself."""

    DEFAULT_CSS = """
    WallScreen ProbeList { height: 1fr; }
    WallScreen #log { height: 8; border-top: solid $panel-lighten-2; display: none; }
    WallScreen #log.shown { display: block; }
    """

    def __init__(self, *, now, kiosk: bool = False) -> None:
        super().__init__()
        self._now = now
        self.kiosk = kiosk

    def compose(self) -> ComposeResult:
        yield Banner(id="banner")
        plist = ProbeList(now=self._now, id="probes")
        if self.kiosk:
            plist.can_focus = False
            plist.show_cursor = False
        yield plist
        yield RichLog(id="log", markup=False, wrap=True, max_lines=500)
        if not self.kiosk:
            yield Footer()

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

    def on_mount(self) -> None:
        if not self.kiosk:
            self.probes.focus()
