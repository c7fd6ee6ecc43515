"""The wall's probe list: a virtualised line widget that renders only the visible lines.

Why not DataTable: with 1,000 probes and an "ago" column changing every second, a table would
re-measure cells on every update. Here an update swaps a snapshot in a dict and repaints the
visible lines only; the column layout follows the widget's width, so bars always fit.
With few probes the same list draws cards (tui/tiles.py) that fill the space it has; the cursor,
keys and paging are the same in both shapes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from operator import attrgetter
from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ..engine.api import HistoryView, ProbeView
from . import rows as render
from . import tiles
from .listpaint import ListPainter

_PLACE = attrgetter("group", "position", "name", "enabled")  # what orders and groups the rows
Row = tuple[str, Any]  # ("group", (name, count)) | ("probe", probe_id)
Band = tuple[int, int, list[int]]  # (first line, lines, row indexes): a group header or a band of cards


class ProbeList(ListPainter, ScrollView, can_focus=True):
    """Probe rows grouped by ``group`` and ordered by ``position``; header line stays on top."""

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "cursor_page(-1)", "Page up", show=False),
        Binding("pagedown", "cursor_page(1)", "Page down", show=False),
        Binding("home", "cursor_to(0)", "First", show=False),
        Binding("end", "cursor_to(-1)", "Last", show=False),
        Binding("enter", "select", "Details", id="details"),
    ]

    class Scrolled(Message):
        """Other probes came on screen (scrolled, or the list grew): their bars may need loading."""

    class Selected(Message):
        def __init__(self, probe_id: int) -> None:
            super().__init__()
            self.probe_id = probe_id

    def __init__(self, *, now: Any, id: str | None = None) -> None:
        super().__init__(id=id)
        self._now = now
        self.views: dict[int, ProbeView] = {}
        self.history: dict[int, HistoryView] = {}
        self.rows: list[Row] = []
        self._row_of: dict[int, int] = {}
        self.cursor = 0
        self.mode = "days"
        self.only: set[int] | None = None  # kiosk: show only these probes (a status page)
        self.show_cursor = True
        self.name_need = 0  # cells the longest shown name wants (render.layout gives it up to a limit)
        self.stale: set[int] = set()  # probes whose history bar should be reloaded when shown
        self.shape = tiles.DENSE
        self._bands: list[Band] = []
        self._band_of_line: list[int] = []
        self._band_of_row: dict[int, int] = {}
        self._cards: dict[int, tuple[tuple[Any, ...], list[list[Segment]]]] = {}
        self._own: tuple[Any, Style] = (None, Style())
        self._drawn: dict[Row, tuple[tuple[Any, ...], Strip]] = {}  # dense line -> (what it shows, its strip)
        self._layout: tuple[Any, list[render.Column]] = (None, [])
        self._paint: tuple[int, Any, Style, int] | None = None  # (width, palette, background, top) in a paint
        self._tallies: Counter[tuple[str, str]] | None = None  # (group, state) -> probes

    # --- data -----------------------------------------------------------------------------------
    def set_views(self, views: Iterable[ProbeView]) -> set[int]:
        """Swap in a snapshot; returns ids whose view is a new object. Rebuilds order only when needed;
        otherwise repaints the lines on screen that draw differently (refresh_changed)."""
        new = {v.id: v for v in views}
        old = self.views
        changed = {i for i, v in new.items() if old.get(i) is not v}
        self.views = new
        self._tallies = None
        kept = [i for i in changed if i in old]  # C-level passes: 1,000 changed views a second
        if new.keys() != old.keys() or list(map(_PLACE, map(old.__getitem__, kept))) != list(
            map(_PLACE, map(new.__getitem__, kept))
        ):
            self._rebuild()
            self.refresh()
        else:
            self.refresh_changed()  # cards: all of them (few; group titles count states too)
        return changed

    def set_history(self, history: dict[int, HistoryView], mode: str, asked: Iterable[int] = ()) -> None:
        """Merge loaded bars (the app loads the probes on screen, not all of them). An asked probe the
        answer lacks gets an empty bar: it is not asked for again at once (no reload loop)."""
        if mode != self.mode:
            return  # a late answer for the other mode
        asked = set(asked)
        self.history.update({pid: HistoryView(pid, (), None) for pid in asked if pid not in history})
        self.history.update(history)
        self.stale.difference_update(asked | history.keys())
        self.refresh_changed()

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self.history = {}
        self.refresh()

    def wanted_history(self) -> list[int]:
        """Probes on screen whose bar is missing or stale."""
        return [pid for pid in self.visible_ids() if pid not in self.history or pid in self.stale]

    def set_filter(self, only: set[int] | None) -> None:
        self.only = only
        self._tallies = None
        self._rebuild()
        self.scroll_to(y=0, animate=False)
        self.refresh()

    def _rebuild(self) -> None:
        current = self.selected_id
        probes = [v for v in self.views.values() if self.only is None or v.id in self.only]
        probes.sort(key=lambda v: (v.group, v.position, v.name.lower(), v.id))
        groups = {v.group for v in probes}
        rows: list[Row] = []
        last: str | None = None
        for v in probes:
            if len(groups) > 1 and v.group != last:
                rows.append(("group", (v.group, sum(1 for p in probes if p.group == v.group))))
                last = v.group
            rows.append(("probe", v.id))
        self.rows = rows
        self._row_of = {rid: i for i, (kind, rid) in enumerate(rows) if kind == "probe"}
        self.name_need = max((render.name_cells(v) for v in probes), default=0)
        self._reshape()
        if current in self._row_of:
            self.cursor = self._row_of[current]
        self.cursor = self._skip_groups(min(self.cursor, max(0, len(rows) - 1)), 1)

    def _reshape(self) -> None:
        """Dense rows or cards, for the probes shown and the size the list has now."""
        sizes = [count for kind, (_name, count) in ((k, d) for k, d in self.rows if k == "group")]
        if not sizes and self.rows:
            sizes = [len(self.rows)]
        width = self.scrollable_content_region.width or self.size.width
        self.shape = tiles.choose_shape(sizes, width, self.size.height - 1) if self.size.height > 1 else tiles.DENSE
        self._bands, self._band_of_line, self._band_of_row = [], [], {}
        if self.shape.cards:
            line = 0
            i = 0
            while i < len(self.rows):
                if self.rows[i][0] == "group":
                    band: Band = (line, 1, [i])
                    i += 1
                else:
                    members: list[int] = []
                    while i < len(self.rows) and self.rows[i][0] == "probe" and len(members) < self.shape.cols:
                        members.append(i)
                        i += 1
                    band = (line, self.shape.card_h, members)
                for r in band[2]:
                    self._band_of_row[r] = len(self._bands)
                self._band_of_line += [len(self._bands)] * band[1]
                self._bands.append(band)
                line += band[1]
        self._cards.clear()
        self._fit_virtual_size()

    @property
    def content_lines(self) -> int:
        return len(self._band_of_line) if self.shape.cards else len(self.rows)

    def _span(self, row: int) -> tuple[int, int]:
        """(first content line, lines) of a row: one line per row, or its band of cards."""
        if not self.shape.cards:
            return row, 1
        first, lines, _members = self._bands[self._band_of_row[row]]
        return first, lines

    def visible_ids(self) -> list[int]:
        top = int(self.scroll_offset.y)
        if not self.shape.cards:
            return [rid for kind, rid in self.rows[top : top + self.page_rows] if kind == "probe"]
        bands = sorted(set(self._band_of_line[top : top + self.page_rows]))
        picked = [self.rows[r] for b in bands for r in self._bands[b][2]]
        return [rid for kind, rid in picked if kind == "probe"]

    def refresh_changed(self) -> None:
        """Repaint the dense lines on screen whose drawing moved since they were painted: a new snapshot
        with the same values, or a "checked … ago" text that did not change, costs no repaint. Cards
        show ages in every card: they repaint whole."""
        if self.shape.cards:
            self.refresh()
            return
        top, page = int(self.scroll_offset.y), self.page_rows
        width = self.scrollable_content_region.width  # not the scrollbar's column: it did not move
        dirty = []
        for row in range(top, min(top + page, len(self.rows))):
            hit = self._drawn.get(self.rows[row])
            if hit is None or hit[0] != self._key(row, width):
                dirty.append(Region(0, row - top + 1, width, 1))
        if dirty:
            self.refresh(*dirty)  # one call: each marks the widget dirty and works out its offset

    # --- cursor ---------------------------------------------------------------------------------
    @property
    def page_rows(self) -> int:
        return max(1, self.size.height - 1)

    @property
    def selected_id(self) -> int | None:
        if 0 <= self.cursor < len(self.rows) and self.rows[self.cursor][0] == "probe":
            return self.rows[self.cursor][1]
        return None

    def _skip_groups(self, i: int, step: int) -> int:
        n = len(self.rows)
        j = i
        while 0 <= j < n and self.rows[j][0] != "probe":
            j += step
        if not 0 <= j < n:
            j = i
            while 0 <= j < n and self.rows[j][0] != "probe":
                j -= step
        return max(0, min(j, n - 1)) if n else 0

    def move_to(self, i: int, step: int = 1) -> None:
        if not self.rows:
            return
        old = self.cursor
        self.cursor = self._skip_groups(max(0, min(i, len(self.rows) - 1)), step)
        top = int(self.scroll_offset.y)
        first, lines = self._span(self.cursor)
        if first < top:
            self.scroll_to(y=first, animate=False)
        elif first + lines > top + self.page_rows:
            self.scroll_to(y=first + lines - self.page_rows, animate=False)
        if old != self.cursor:
            self.refresh()

    def action_cursor(self, step: int) -> None:
        self.move_to(self.cursor + step, 1 if step > 0 else -1)

    def action_cursor_page(self, step: int) -> None:
        self.move_to(self.cursor + step * self.page_rows, 1 if step > 0 else -1)

    def action_cursor_to(self, i: int) -> None:
        self.move_to(len(self.rows) - 1 if i < 0 else 0, -1 if i < 0 else 1)

    def action_select(self) -> None:
        if self.selected_id is not None:
            self.post_message(self.Selected(self.selected_id))

    def select_id(self, probe_id: int) -> None:
        if probe_id in self._row_of:
            self.move_to(self._row_of[probe_id])

    def page_position(self) -> tuple[int, int]:
        """(page shown, pages) of the list, 1-based; the last page may be scrolled to the end."""
        pages = max(1, -(-self.content_lines // self.page_rows))
        top = int(self.scroll_offset.y)
        return min(pages, -(-top // self.page_rows) + 1), pages

    def page_forward(self) -> bool:
        """Kiosk paging: scroll one page; False when the last page was already showing."""
        top = int(self.scroll_offset.y)
        if top + self.page_rows >= self.content_lines:
            return False
        self.scroll_to(y=top + self.page_rows, animate=False)
        return True

    def on_click(self, event: events.Click) -> None:
        if not self.show_cursor:
            return
        row = self._row_at(event.x, int(self.scroll_offset.y) + event.y - 1) if event.y >= 1 else None
        if row is not None and 0 <= row < len(self.rows) and self.rows[row][0] == "probe":
            if row == self.cursor:
                self.action_select()
            else:
                self.move_to(row)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if round(old_value) != round(new_value):
            self.post_message(self.Scrolled())

    def _row_at(self, x: int, line: int) -> int | None:
        if not self.shape.cards:
            return line
        if not 0 <= line < len(self._band_of_line):
            return None
        members = self._bands[self._band_of_line[line]][2]
        col = x // (self.shape.card_w + tiles.GAP)
        return members[col] if col < len(members) else None

    # --- painting -------------------------------------------------------------------------------
    def on_resize(self, event: events.Resize) -> None:
        self._reshape()
        self.post_message(self.Scrolled())

    def _fit_virtual_size(self) -> None:
        """Width 0: rows are drawn to whatever width is left, so there is never anything to scroll
        sideways. (The widget's width used to count the vertical scrollbar: a horizontal scrollbar
        appeared and covered the last row of every page.)"""
        self.virtual_size = Size(0, self.content_lines + 1)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
