"""The wall's events panel: ongoing incidents (probes DEGRADED or UNHEALTHY now, with how long) and the
recent state transitions with their age, newest first. Fed snapshots by the app; no I/O.

Why line by line: with 1,000 probes the panel's 50 lines change every second (ages, new transitions). As
a ``Static`` it re-parsed and re-wrapped its whole text on every tick (the largest share of the wall's
steady CPU). Here ``show`` builds each line as plain (text, style) pieces, compares them with what is on
screen and repaints only the lines that differ; ``render_line`` turns a line into a strip once. Under a storm of
transitions (most lines differ at every show) it shows every 2 s instead of every second.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from functools import lru_cache
from time import monotonic

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from ..domain.health import HealthState
from ..engine.api import ProbeView
from ..engine.api import RecentTransition as Transition
from .rows import ago
from .theme import SYMBOLS, Palette, palette_for

BAD = (HealthState.UNHEALTHY, HealthState.DEGRADED)
_BAD_RANK: dict[str, int] = {s.value: i for i, s in enumerate(BAD)}  # a StrEnum looks up like its value
MAX_EVENTS = 200
BUSY_EVERY_S = 2.0  # a panel whose lines nearly all change at each show: unreadable at 1 Hz, half the cost

Piece = tuple[str, str]  # text and a Rich style string ("bold #ff0000")
Line = tuple[str, tuple[Piece, ...]]  # the line's base style (under every piece and its padding), its pieces


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
    bad = [v for v in views if v.state in _BAD_RANK and v.enabled]  # 1,000 views a second: no parsing
    return sorted(bad, key=lambda v: (_BAD_RANK[v.state], v.state_since or 0.0, v.name))


def _duration(now: float, since: float | None) -> str:
    return ago(now, since).removesuffix(" ago") if since is not None else "?"


def incident_lines(views: list[ProbeView], now: float, pal: Palette, lines: int, width: int) -> list[Line]:
    """'Ongoing incidents (n)' and up to ``lines - 1`` of them with how long they have lasted."""
    bad = ongoing(views)
    out: list[Line] = [(f"bold {pal.fg}", ((f"Ongoing incidents ({len(bad)})", ""),))]
    room = max(1, lines - 1)
    shown = bad if len(bad) <= room else bad[: room - 1]
    for v in shown:
        st = HealthState.parse(v.state)
        out.append(_line(SYMBOLS[st], pal.state[st], v.name, _duration(now, v.state_since), width, pal))
    if not bad:
        out.append((pal.dim, (("  none", ""),)))
    elif len(shown) < len(bad):
        out.append((pal.dim, ((f"  … {len(bad) - len(shown)} more", ""),)))
    return out


def transition_lines(transitions: list[Transition], now: float, pal: Palette, lines: int, width: int) -> list[Line]:
    """'Recent transitions' and the newest ones: previous → current state, name, age."""
    out: list[Line] = [(f"bold {pal.fg}", (("Recent transitions", ""),))]
    for t in transitions[::-1][: max(1, lines - 1)]:
        base, pieces = _line(SYMBOLS[t.current], pal.state[t.current], t.name, ago(now, t.at), width - 2, pal)
        if t.previous is not None:  # the arrow goes before the line, outside its base style
            arrow = ((SYMBOLS[t.previous], pal.state[t.previous]), ("→", pal.dim))
            out.append(("", arrow + tuple((text, f"{base} {style}") for text, style in pieces)))
        else:
            out.append(("", tuple((text, f"{base} {style}") for text, style in pieces)))
    if not transitions:
        out.append((pal.dim, (("  none since the dashboard started", ""),)))
    return out


def _line(symbol: str, colour: str, name: str, right: str, width: int, pal: Palette) -> Line:
    name_w = max(4, width - len(right) - 3)
    return (f"bold {colour}", ((f"{symbol} ", ""), (f"{name[:name_w]:<{name_w}} {right}", pal.fg)))


def _pad(line: Line, width: int) -> Line:
    """Cut or pad a line to ``width`` cells; the padding takes the line's base style."""
    base, pieces = line
    out: list[Piece] = []
    used = 0
    for text, style in pieces:
        if used + cell_len(text) > width:
            out.append((set_cell_size(text, width - used), style))
            return base, tuple(out)
        out.append((text, style))
        used += cell_len(text)
    return base, (*out, (" " * (width - used), "")) if used < width else tuple(out)


def events_lines(
    views: list[ProbeView], transitions: list[Transition], now: float, pal: Palette, lines: int, width: int
) -> list[Line]:
    """Incidents above transitions in a tall panel; side by side in a wide, short one (under the list)."""
    if lines <= 10 and width >= 70:
        half = (width - 3) // 2
        left = incident_lines(views, now, pal, lines, half)
        right = transition_lines(transitions, now, pal, lines, half)
        rows: list[Line] = []
        for i in range(min(lines, max(len(left), len(right)))):
            base, pieces = _pad(left[i] if i < len(left) else ("", ()), half)
            pieces += ((" │ ", pal.dim),)
            if i < len(right):
                pieces += tuple((text, f"{right[i][0]} {style}") for text, style in right[i][1])
            rows.append((base, pieces))
    else:
        top = incident_lines(views, now, pal, max(2, lines // 2), width)
        rows = top + transition_lines(transitions, now, pal, max(2, lines - len(top)), width)
    return rows[:lines]


@lru_cache(maxsize=256)
def _style(base: str, style: str) -> Style:
    return Style.parse(base) + Style.parse(style) if style else Style.parse(base)


def line_strip(line: Line, width: int, under: Style) -> Strip:
    """A line as a strip of ``width`` cells on the widget's style; too long ends in "…"."""
    base, pieces = line
    segs = [Segment(text, under + _style(base, style)) for text, style in pieces if text]
    used = sum(cell_len(seg.text) for seg in segs)
    pad = _background(under)
    if used <= width:  # the usual case: one strip, its length known
        return Strip([*segs, Segment(" " * (width - used), pad)] if used < width else segs, width)
    strip = Strip(segs).crop(0, width - 1) if width > 1 else Strip(segs)
    return Strip([*strip, Segment("…", segs[-1].style)]).adjust_cell_length(width, pad)


@lru_cache(maxsize=16)
def _background(under: Style) -> Style:
    """What the cells after a line's text get: the panel's background only (as a Static pads)."""
    return Style(bgcolor=under.bgcolor)


class EventsPanel(Widget):
    """Ongoing incidents and recent transitions, newest first, with their age."""

    DEFAULT_CSS = """
    EventsPanel { padding: 0 1; border-left: vkey $panel-lighten-2; }
    """

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.lines: list[Line] = []
        self._strips: dict[tuple[Line, int, Style], Strip] = {}
        self._under: Style | None = None  # the panel's own style (theme), from the last show
        self._width: int | None = None  # while painting
        self._busy, self._shown_at = False, -1e9  # most lines changed at the last show; when it was

    def show(self, views: list[ProbeView], transitions: Iterable[Transition], now: float) -> None:
        """Repaint the lines whose text or style changed (ages and incidents often stand still). While most
        of the panel changes at every show (hundreds of transitions a second), it shows every BUSY_EVERY_S."""
        mono = monotonic()
        if self._busy and mono - self._shown_at < BUSY_EVERY_S:
            return
        self._shown_at = mono
        pal = palette_for(self.app.theme, mono=self.app.no_color)
        width = max(10, self.content_region.width)
        new = events_lines(views, list(transitions), now, pal, max(2, self.content_region.height), width)
        old, self.lines = self.lines, new
        under, self._under = self._under, self.rich_style  # looked up once a second, not once a line
        if under != self._under:
            self.refresh()
        else:
            width = self.size.width
            dirty = [
                Region(0, y, width, 1)
                for y in range(max(len(old), len(new)))
                if y >= len(old) or y >= len(new) or old[y] != new[y]
            ]
            if dirty:
                self.refresh(*dirty)
            self._busy = len(dirty) > len(new) // 2
        if len(self._strips) > 4 * max(len(new), 16):
            self._strips = {}

    def render_lines(self, crop: Region) -> list[Strip]:
        self._width = self.size.width  # once a paint, not once a line
        try:
            return super().render_lines(crop)
        finally:
            self._width = None

    def render_line(self, y: int) -> Strip:
        width = self._width if self._width is not None else self.size.width
        under = self._under if self._under is not None else self.rich_style
        if y >= len(self.lines):
            return Strip.blank(width, under)
        key = (self.lines[y], width, under)
        strip = self._strips.get(key)
        if strip is None:
            strip = self._strips[key] = line_strip(self.lines[y], width, under)
        return strip
