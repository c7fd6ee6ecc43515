"""The wall's panels beside the probe list: per-state counts in large digits, and what changed lately.

Why: a NOC reads the wall from across the room. The counts use Textual's ``Digits`` (three lines tall)
in the state colours next to a large symbol of the overall state; the events panel lists the ongoing
incidents (probes DEGRADED or UNHEALTHY now, with how long) and the recent state transitions with
their age. Both are fed snapshots by the app; neither does I/O.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Iterable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Digits, Static

from ..domain.health import HealthState
from ..engine.api import ProbeView
from ..engine.api import RecentTransition as Transition
from .rows import ago
from .theme import SYMBOLS, Palette, palette_for
from .tiles import big_glyph

COUNTED = (HealthState.HEALTHY, HealthState.DEGRADED, HealthState.UNHEALTHY, HealthState.UNKNOWN)
BAD = (HealthState.UNHEALTHY, HealthState.DEGRADED)
MAX_EVENTS = 200


class Transitions:
    """The newest transitions: the stored ones from before the dashboard started, then those the engine
    publishes while it runs (StateChanged events)."""

    def __init__(self) -> None:
        self.items: deque[Transition] = deque(maxlen=MAX_EVENTS)

    def add(self, t: Transition) -> None:
        self.items.append(t)

    def seed(self, stored: Iterable[Transition]) -> None:
        """Merge stored transitions (oldest first) with those already received live; each one once."""
        merged = {(t.probe_id, t.at, t.current): t for t in (*stored, *self.items)}
        self.items = deque(sorted(merged.values(), key=lambda t: t.at), maxlen=MAX_EVENTS)


def ongoing(views: Iterable[ProbeView]) -> list[ProbeView]:
    """Probes in trouble now, worst first, then the longest-running."""
    bad = [v for v in views if v.enabled and HealthState.parse(v.state) in BAD]
    return sorted(bad, key=lambda v: (BAD.index(HealthState.parse(v.state)), v.state_since or 0.0, v.name))


def _duration(now: float, since: float | None) -> str:
    return ago(now, since).removesuffix(" ago") if since is not None else "?"


def incident_lines(views: list[ProbeView], now: float, pal: Palette, lines: int, width: int) -> list[Text]:
    """'Ongoing incidents (n)' and up to ``lines - 1`` of them with how long they have lasted."""
    bad = ongoing(views)
    out = [Text(f"Ongoing incidents ({len(bad)})", style=f"bold {pal.fg}")]
    room = max(1, lines - 1)
    shown = bad if len(bad) <= room else bad[: room - 1]
    for v in shown:
        st = HealthState.parse(v.state)
        out.append(_line(SYMBOLS[st], pal.state[st], v.name, _duration(now, v.state_since), width, pal))
    if not bad:
        out.append(Text("  none", style=pal.dim))
    elif len(shown) < len(bad):
        out.append(Text(f"  … {len(bad) - len(shown)} more", style=pal.dim))
    return out


def transition_lines(transitions: list[Transition], now: float, pal: Palette, lines: int, width: int) -> list[Text]:
    """'Recent transitions' and the newest ones: previous → current state, name, age."""
    out = [Text("Recent transitions", style=f"bold {pal.fg}")]
    for t in transitions[::-1][: max(1, lines - 1)]:
        line = Text()
        if t.previous is not None:
            line.append(SYMBOLS[t.previous], style=pal.state[t.previous])
            line.append("→", style=pal.dim)
        line.append_text(_line(SYMBOLS[t.current], pal.state[t.current], t.name, ago(now, t.at), width - 2, pal))
        out.append(line)
    if not transitions:
        out.append(Text("  none since the dashboard started", style=pal.dim))
    return out


def _line(symbol: str, colour: str, name: str, right: str, width: int, pal: Palette) -> Text:
    name_w = max(4, width - len(right) - 3)
    text = Text(f"{symbol} ", style=f"bold {colour}")
    text.append(f"{name[:name_w]:<{name_w}} {right}", style=pal.fg)
    return text


def events_text(
    views: list[ProbeView], transitions: list[Transition], now: float, pal: Palette, lines: int, width: int
) -> Text:
    """Incidents above transitions in a tall panel; side by side in a wide, short one (under the list)."""
    if lines <= 10 and width >= 70:
        half = (width - 3) // 2
        left = incident_lines(views, now, pal, lines, half)
        right = transition_lines(transitions, now, pal, lines, half)
        rows = []
        for i in range(min(lines, max(len(left), len(right)))):
            row = left[i].copy() if i < len(left) else Text()
            row.truncate(half, pad=True)
            row.append(" │ ", style=pal.dim)
            if i < len(right):
                row.append_text(right[i])
            rows.append(row)
    else:
        top = incident_lines(views, now, pal, max(2, lines // 2), width)
        rows = top + transition_lines(transitions, now, pal, max(2, lines - len(top)), width)
    out = Text("\n", no_wrap=True, overflow="ellipsis").join(rows[:lines])
    out.no_wrap, out.overflow = True, "ellipsis"
    return out


class EventsPanel(Static):
    """Ongoing incidents and recent transitions, newest first, with their age."""

    DEFAULT_CSS = """
    EventsPanel { padding: 0 1; border-left: vkey $panel-lighten-2; }
    """

    def show(self, views: list[ProbeView], transitions: Iterable[Transition], now: float) -> None:
        pal = palette_for(self.app.theme, mono=self.app.no_color)
        width = max(10, self.content_region.width)
        text = events_text(views, list(transitions), now, pal, max(2, self.content_region.height), width)
        shown = (text.plain, text.spans)  # Text == ignores the styles
        if getattr(self, "_shown", None) != shown:  # ages and incidents often stand still: no repaint then
            self._shown = shown
            self.update(text, layout=False)  # its size comes from the screen's CSS, never from its text


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
            if getattr(static, "shown", None) != (label.plain, label.style):  # Text == ignores the style
                static.shown = (label.plain, label.style)  # type: ignore[attr-defined]
                static.update(label)
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
