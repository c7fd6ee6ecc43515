"""Painting the wall's probe list, line by line (a mixin of ProbeList, kept apart so the list stays small).

Why: with 1,000 probes the list repaints ~55 lines a second. A dense line is kept with a key of what it
shows (``_key``) and drawn again only when that moves; cards are kept per probe for a second (their ages).
What a paint's lines share (width, palette, background, scroll offset) is looked up once per paint.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region
from textual.strip import Strip

from ..domain.health import HealthState
from ..engine.api import HistoryView, ProbeView
from . import rows as render
from . import tiles
from .theme import palette_for


class ListPainter:
    """Needs ProbeList's rows, views, history, bands and shape (see probelist.ProbeList)."""

    app: Any
    rows: list[tuple[str, Any]]
    views: dict[int, ProbeView]
    history: dict[int, HistoryView]
    cursor: int
    show_cursor: bool
    has_focus: bool
    only: set[int] | None
    mode: str
    name_need: int
    shape: tiles.Shape
    scroll_offset: Any
    scrollable_content_region: Region
    rich_style: Style
    _now: Any
    _row_of: dict[int, int]
    _bands: list[tuple[int, int, list[int]]]
    _band_of_line: list[int]
    _cards: dict[int, tuple[tuple[Any, ...], list[list[Segment]]]]
    _own: tuple[Any, Style]
    _drawn: dict[tuple[str, Any], tuple[tuple[Any, ...], Strip]]
    _layout: tuple[Any, list[render.Column]]
    _tallies: Counter[tuple[str, str]] | None
    _paint: tuple[int, Any, Style, int] | None

    @property
    def n_segments(self) -> int:
        return 90 if self.mode == "days" else 24

    def render_lines(self, crop: Region) -> list[Strip]:
        """A paint: the width, palette and background its lines share are looked up once, not per line
        (the scrollable region alone cost ~20 µs a line)."""
        self._paint = self._paint_context()
        try:
            return super().render_lines(crop)  # type: ignore[misc]
        finally:
            self._paint = None

    def _paint_context(self) -> tuple[int, Any, Style, int]:
        width = self.scrollable_content_region.width  # the vertical scrollbar's column is not ours
        pal = palette_for(self.app.theme, mono=self.app.no_color)
        return width, pal, self._own_style(), int(self.scroll_offset.y)

    def render_line(self, y: int) -> Strip:
        """One screen line, finished with the widget's own background under every cell (themes)."""
        width, pal, own, top = self._paint or self._paint_context()
        if y == 0:
            legend = tiles.legend(len(self._row_of), self.history_title, pal) if self.shape.cards else None
            segs = legend or render.header_row(self._columns(width), pal, self.history_title)
            return Strip(segs).adjust_cell_length(width).apply_style(own)
        if self.shape.cards:
            return self._card_line(top + y - 1, width, pal).apply_style(own)
        row = top + y - 1
        if row >= len(self.rows):
            if not self.rows and y == 2:
                empty = Segment("  No probes yet: press 'a' to add one.", Style(color=pal.dim))
                return Strip([empty]).adjust_cell_length(width).apply_style(own)
            return Strip.blank(width, own)
        key = self._key(row, width)
        hit = self._drawn.get(self.rows[row])
        if hit is not None and hit[0] == key:
            return hit[1]
        strip = self._draw(row, width, pal, own)
        if len(self._drawn) > 4 * len(self.rows) + 64:  # rows gone for good (filters, deletions)
            self._drawn.clear()
        self._drawn[self.rows[row]] = (key, strip)
        return strip

    def _key(self, row: int, width: int) -> tuple[Any, ...]:
        """What a dense line shows: equal keys, equal strips (rows.row_key lists what a probe row reads)."""
        kind, data = self.rows[row]
        look = (width, self.app.theme, self.app.no_color)
        if kind == "group":
            return (*look, data, self._tally(data[0]))
        view = self.views.get(data)
        if view is None:
            return (*look, None)
        cols = self._columns(width)
        cursor = self.show_cursor and row == self.cursor and self.has_focus
        return (*look, render.row_key(view, self._now(), cols), self.history.get(data), self.n_segments, cursor)

    def _columns(self, width: int) -> list[render.Column]:
        """The dense layout, worked out once per width, bar length and name need (asked for per line)."""
        key = (width, self.n_segments, self.name_need)
        if self._layout[0] != key:
            self._layout = (key, render.layout(*key))
        return self._layout[1]

    def _draw(self, row: int, width: int, pal, own: Style) -> Strip:
        """A dense line, finished with the widget's background."""
        kind, data = self.rows[row]
        if kind == "group":
            name, _count = data
            segs = render.group_row(name, _count, width, pal, self._group_states(name))
            return Strip(segs).adjust_cell_length(width).apply_style(own)
        view = self.views.get(data)
        if view is None:
            return Strip.blank(width, own)
        segs = render.probe_row(
            view,
            self.history.get(data),
            self._columns(width),
            pal,
            self._now(),
            self.n_segments,
            cursor=self.show_cursor and row == self.cursor and self.has_focus,
            background=own.bgcolor,
        )
        used = sum(c.width + 1 for c in self._columns(width))  # probe_row draws exactly this many cells
        if used < width:
            segs.append(Segment(" " * (width - used), own))
            used = width
        return Strip(segs, used) if used == width else Strip(segs).adjust_cell_length(width, own)

    def _own_style(self) -> Style:
        """The widget's own style (background), looked up once per theme: a repaint asks for it per line."""
        key = (self.app.theme, self.app.no_color)
        if self._own[0] != key:
            self._own = (key, self.rich_style)
        return self._own[1]

    def _group_states(self, group: str) -> list[HealthState]:
        """The states of a group's enabled probes shown, worst first (its title line counts them)."""
        counts = self._tally(group)
        return [s for s, n in zip(HealthState, counts, strict=True) for _ in range(n)]

    def _tally(self, group: str) -> tuple[int, ...]:
        """How many of a group's enabled probes shown are in each state (HealthState order); one counting
        pass over the probes per snapshot, on the states' spellings (no parsing)."""
        if self._tallies is None:
            only = self.only
            self._tallies = Counter(
                (v.group, v.state) for v in self.views.values() if v.enabled and (only is None or v.id in only)
            )
        return tuple(self._tallies[(group, s.value)] for s in HealthState)

    @property
    def history_title(self) -> str:
        return "Last 90 days" if self.mode == "days" else "Last 24 hours"

    def _card_line(self, line: int, width: int, pal) -> Strip:
        if not 0 <= line < len(self._band_of_line):
            return Strip.blank(width)
        first, _lines, members = self._bands[self._band_of_line[line]]
        if self.rows[members[0]][0] == "group":
            name, count = self.rows[members[0]][1]
            return Strip(render.group_row(name, count, width, pal, self._group_states(name))).adjust_cell_length(width)
        segs: list[Segment] = []
        for i, row in enumerate(members):
            if i:
                segs.append(Segment(" " * tiles.GAP))
            segs += self._card(row, pal)[line - first]
        return Strip(segs).adjust_cell_length(width)

    def _card(self, row: int, pal) -> list[list[Segment]]:
        """A card's lines, drawn once per second (its "ago" texts) or when its data changes."""
        pid = self.rows[row][1]
        view, hist, now = self.views[pid], self.history.get(pid), self._now()
        cursor = self.show_cursor and self.has_focus and row == self.cursor
        key = (view, hist, self.shape, id(pal), cursor, int(now), self.mode)
        hit = self._cards.get(pid)
        if hit is not None and all(a is b for a, b in zip(hit[0][:2], key[:2])) and hit[0][2:] == key[2:]:
            return hit[1]
        s = self.shape
        lines = tiles.card_lines(view, hist, s.card_w, s.card_h, pal, now, self.n_segments, self.history_title, cursor)
        self._cards[pid] = (key, lines)
        return lines
