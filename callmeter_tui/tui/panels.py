"""The wall's bars around the probe list: per-state counts in large digits, and the key line.

Why: a NOC reads the wall from across the room. The counts use Textual's ``Digits`` (three lines tall)
in the state colours next to a large symbol of the overall state. Fed snapshots by the app; no I/O.
The events panel (incidents, transitions) is in eventspanel.py.
"""

from __future__ import annotations

import time
from collections import Counter

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Digits, Static

from ..domain.health import HealthState
from .theme import SYMBOLS, palette_for
from .tiles import big_glyph

COUNTED = (HealthState.HEALTHY, HealthState.DEGRADED, HealthState.UNHEALTHY, HealthState.UNKNOWN)


class CountsBar(Horizontal):
    """Large symbol of the overall state, then each state's count in ``Digits``, then the clock."""

    DEFAULT_CSS = """
    CountsBar { height: 3; padding: 0 1; }
    CountsBar #big-state { width: 6; }
    CountsBar Digits { width: auto; margin: 0 0 0 1; }
    CountsBar .count-label { width: auto; padding: 1 2 0 1; }
    CountsBar #clock { width: 1fr; text-align: right; }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="big-state")
        for s in COUNTED:
            yield Digits("0", id=f"n-{s.value.lower()}")
            yield Static(SYMBOLS[s], id=f"l-{s.value.lower()}", classes="count-label")
        yield Digits("", id="clock")

    def show(self, state: HealthState, states: list[HealthState], now: float) -> None:
        """Only what changed is touched: an update of a sized-by-content widget relayouts the screen."""
        pal = palette_for(self.app.theme, mono=self.app.no_color)
        counts = Counter(states)
        wide = self.size.width >= 100
        hhmm = time.strftime("%H:%M", time.gmtime(now)) if self.size.width >= 120 else ""
        key = (id(pal), state, tuple(counts.get(s, 0) for s in COUNTED), wide, hhmm)
        if getattr(self, "_shown", None) == key:
            return
        self._shown = key
        big = self.query_one("#big-state", Static)
        big.update(Text("\n".join(big_glyph(state)), style=f"bold {pal.state[state]}"), layout=False)
        for s in COUNTED:
            name = s.value.lower()
            digits = self.query_one(f"#n-{name}", Digits)
            value = str(counts.get(s, 0))
            if digits.value != value:
                digits.update(value)
            digits.styles.color = pal.state[s] if counts.get(s) else pal.dim
            label = Text(
                f"{SYMBOLS[s]} {s.label.lower()}" if wide else SYMBOLS[s], pal.state[s] if counts.get(s) else pal.dim
            )
            static = self.query_one(f"#l-{name}", Static)
            shown = getattr(static, "shown", None)
            if shown != (label.plain, label.style):  # Text == ignores the style
                static.shown = (label.plain, label.style)  # type: ignore[attr-defined]
                static.update(label, layout=shown is None or shown[0] != label.plain)  # a colour: same size
        clock = self.query_one("#clock", Digits)
        if clock.value != hhmm:
            clock.update(hhmm)


class KeysBar(Static):
    """The wall's key line: one Static instead of Textual's Footer, which builds a widget per key and
    rebuilt them on every focus change (a quarter of the wall's first paint with 1,000 probes).
    Shows the bindings as remapped; a click on a key presses it."""

    DEFAULT_CSS = """
    KeysBar { height: 1; background: $panel; color: $foreground; }
    """

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self._spans: list[tuple[int, int, str]] = []

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._changed)
        self.call_after_refresh(self.draw)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _changed(self, screen) -> None:
        if screen is self.screen:
            self.call_after_refresh(self.draw)

    def draw(self) -> None:
        text, self._spans = Text(no_wrap=True, overflow="ellipsis"), []
        seen: set[str] = set()
        for _node, binding, enabled, _tip in self.screen.active_bindings.values():
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            start = len(text.plain)
            text.append(f" {self.app.get_key_display(binding)} ", style="bold reverse" if enabled else "dim")
            text.append(f" {binding.description} ", style="" if enabled else "dim")
            self._spans.append((start, len(text.plain), binding.key))
        palette = self.screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
        if palette is not None and self.app.use_command_palette:
            start = len(text.plain)
            text.append(f"   {self.app.get_key_display(palette.binding)} ", style="bold reverse")
            text.append(" palette ")
            self._spans.append((start, len(text.plain), palette.binding.key))
        self.update(text)

    def on_click(self, event) -> None:
        key = next((k for a, b, k in self._spans if a <= event.x < b), None)
        if key is not None:
            self.app.simulate_key(key.split(",")[0])
