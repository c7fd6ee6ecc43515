"""Uptime bar markup: one element per run of equal consecutive days, not one per day.

Why: a bar is 90 days, and most days of most components look alike (healthy all day). One element per
day made a 50-component page 450 KB and a 1,000-component page 9 MB. A run of equal days is drawn as one
element whose tooltip names the date range and what each of those days held, so the per-day facts are
all still there, readable without JavaScript (CSS tooltip from ``aria-label``) and by screen readers
(``role="img"`` with that label). Runs never cross the narrow-screen edge (the last NARROW_DAYS days),
so phones can hide whole elements. Widths come from per-page ``.wN`` classes (theme.css): the CSP
forbids style attributes.

Keyboard: one tab stop per bar (the newest run carries ``tabindex="0"``); the served script moves
between runs with the arrow keys, Home and End.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
from markupsafe import Markup

from ..domain.health import HealthState
from .view import NARROW_DAYS, BarCell, PageBars

_SEG_CLASS = {
    HealthState.HEALTHY: "h",
    HealthState.DEGRADED: "d",
    HealthState.UNHEALTHY: "u",
    HealthState.UNKNOWN: "n",
}
NL = "&#10;"  # a line break inside an attribute (the tooltip is white-space: pre)


def human_duration(seconds: float) -> str:
    """ "2d 4h", "23h 59m", "45m", "30s": the resolution a visitor cares about."""
    s = round(seconds)
    return _minutes(s // 60) if s >= 60 else f"{s}s"


@lru_cache(maxsize=8192)  # keyed by whole minutes: a day has 1,440 of them, and seconds rarely repeat
def _minutes(minutes: int) -> str:
    d, rem = divmod(minutes, 1440)
    h, m = divmod(rem, 60)
    if d:
        return f"{d}d {h}h" if h else f"{d}d"
    if h:
        return f"{h}h {m}m" if m else f"{h}h"
    return f"{m}m"


def cell_text(cell: BarCell, whole_day: bool = True) -> str:
    """What one day held, one state per line (our own words and numbers only: nothing to escape).

    On a finished day fully accounted for, a bad day reads "Unhealthy 57m / Healthy the rest": the
    healthy figure is implied, and left out it keeps the page small (random minutes do not compress).
    """
    bad = [
        f"{label} {human_duration(secs)}"
        for label, secs in (("Degraded", cell.degraded_s), ("Unhealthy", cell.unhealthy_s))
        if secs >= 0.5
    ]
    healthy = f"Healthy {human_duration(cell.healthy_s)}" if cell.healthy_s >= 0.5 else ""
    maint = f"Maintenance {human_duration(cell.maintenance_s)}" if cell.maintenance_s >= 0.5 else ""
    if not bad and not healthy:
        return maint or "No data"
    unknown = f"No data {human_duration(cell.unknown_s)}" if cell.unknown_s >= 60 else ""
    if bad and healthy and whole_day and not unknown and not maint:
        return NL.join([*bad, "Healthy the rest"])
    return NL.join(part for part in (healthy, *bad, maint, unknown) if part)


def cell_texts(cells: Sequence[BarCell]) -> list[str]:
    """``cell_text`` of every cell, written once per wording: a text depends only on which figures pass
    their thresholds and on each one at the bar's resolution (whole minutes, or seconds under one), so
    cells alike at that resolution share it (a big page has thousands of distinct cells, few wordings)."""
    if len(cells) < 256:
        return [cell_text(c) for c in cells]
    x = np.array([(c.degraded_s, c.unhealthy_s, c.healthy_s, c.maintenance_s, c.unknown_s) for c in cells])
    r = np.round(x)  # half to even, like round()
    shown = np.where(r < 60, r, 100 + r // 60)  # the human_duration a figure reads as
    shown[x < np.array([0.5, 0.5, 0.5, 0.5, 60.0])] = -1  # cell_text leaves these out
    fields = shown.astype(np.int64) + 1
    if fields.max() >= 1 << 12:  # longer than a day's figures: word each cell
        return [cell_text(c) for c in cells]
    packed = (fields << (12 * np.arange(5, dtype=np.int64))).sum(axis=1)  # one int per wording
    _, first, inverse = np.unique(packed, return_index=True, return_inverse=True)
    texts = [cell_text(cells[i]) for i in first.tolist()]
    return [texts[k] for k in inverse.ravel().tolist()]


class DayNames:
    """Each day of the bar written once per page ("Sun 22 Nov 2026", "22 Nov 2026", "22 Nov", "22"):
    labels of runs are joined from these, not formatted per element (strftime is slow)."""

    def __init__(self, days: list[datetime]) -> None:
        self.full = [f"{d:%a} {d.day} {d:%b %Y}" for d in days]
        self.dmy = [f"{d.day} {d:%b %Y}" for d in days]
        self.dm = [f"{d.day} {d:%b}" for d in days]
        self.d = [str(d.day) for d in days]
        self._year = [d.year for d in days]
        self._month = [(d.year, d.month) for d in days]

    def label(self, first: int, last: int) -> str:
        """ "Sun 22 Nov 2026" for one day; "13 – 21 Nov 2026" for a run (its width tells how long it is).
        Month and day names are strftime's C-locale words: nothing to escape."""
        if first == last:
            return self.full[last]
        if self._year[first] != self._year[last]:
            start = self.dmy[first]
        elif self._month[first] != self._month[last]:
            start = self.dm[first]
        else:
            start = self.d[first]
        return f"{start} – {self.dmy[last]}"


def runs(row: list[int], narrow_from: int) -> list[tuple[int, int]]:
    """(first day, day count) of each run of equal cell keys; a run never crosses ``narrow_from``."""
    out: list[tuple[int, int]] = []
    start = 0
    for i in range(1, len(row) + 1):
        if i == len(row) or row[i] != row[start] or i == narrow_from:
            out.append((start, i - start))
            start = i
    return out


class BarPainter:
    """Bar markup for one page. Day labels and cell texts are built once per page, and a row of cells
    that another component already has is painted once (all-healthy components all look alike)."""

    def __init__(self, bars: PageBars, tz: ZoneInfo) -> None:
        self._bars = bars
        self._days = DayNames([datetime.fromtimestamp(s, tz) for s in bars.starts])
        letters = ["m" if c.shows_maintenance else _SEG_CLASS[c.state] for c in bars.cells]
        self._cells = list(zip(letters, cell_texts(bars.cells)))
        # Cells that read the same (a 25-hour day without data, a 24-hour one) are one run.
        first: dict[tuple[str, str], int] = {}
        self._same = [first.setdefault(c, k) for k, c in enumerate(self._cells)]
        self._today: dict[int, str] = {}  # today is not over: its cells say every state explicitly
        self._painted: dict[tuple[int, ...], Markup] = {}
        self._classes: dict[tuple[str, int, int], str] = {}
        self.widths: set[int] = set()  # run lengths used: theme.css gives each a .wN class

    @property
    def narrow_from(self) -> int:
        return max(0, len(self._bars.starts) - NARROW_DAYS)

    def paint_all(self) -> list[Markup]:
        """Every row's bar markup, in row order. Runs are found for all rows at once (numpy); a row equal to
        an earlier one reuses its markup; class names, labels and texts are looked up, not rebuilt, per run."""
        keys = self._bars.keys
        if not len(keys):
            return []
        same = np.asarray(self._same, dtype=np.int64)[keys]
        rows, n = same.shape
        seen: dict[bytes, int] = {}
        original = [seen.setdefault(same[r].tobytes(), r) for r in range(rows)]
        unique = np.asarray(original) == np.arange(rows)
        start = np.ones_like(same, dtype=bool)
        start[:, 1:] = same[:, 1:] != same[:, :-1]
        if 0 < self.narrow_from < n:
            start[:, self.narrow_from] = True
        start &= unique[:, None]
        comp, first = np.nonzero(start)  # row by row, runs in order
        flat = comp * n + first
        count = np.minimum(np.append(flat[1:], rows * n), (comp + 1) * n) - flat
        last = np.append(comp[1:] != comp[:-1], True)
        pieces: list[list[str]] = [[] for _ in range(rows)]
        for r, f, k, c, stop in zip(
            comp.tolist(), first.tolist(), same[comp, first].tolist(), count.tolist(), last.tolist()
        ):
            pieces[r].append(self._segment(f, c, k, stop, n))
        painted = [Markup("".join(p)) for p in pieces]
        return [painted[o] for o in original]

    def paint(self, component_index: int) -> Markup:
        same = self._same
        row = [same[k] for k in self._bars.row(component_index)]
        key = tuple(row)
        done = self._painted.get(key)
        if done is None:
            done = self._painted[key] = Markup("".join(self._segments(row)))
        return done

    def _today_text(self, key: int) -> str:
        text = self._today.get(key)
        if text is None:
            text = self._today[key] = cell_text(self._bars.cells[key], whole_day=False)
        return text

    def _segments(self, row: list[int]) -> list[str]:
        found = runs(row, self.narrow_from)
        last = len(found) - 1
        return [self._segment(first, count, row[first], j == last, len(row)) for j, (first, count) in enumerate(found)]

    def _segment(self, first: int, count: int, key: int, stop: bool, n: int) -> str:
        """One run's element: ``count`` days from ``first`` of cell ``key``; ``stop``: the bar's tab stop."""
        letter, text = self._cells[key]
        if first + count == n:
            text = self._today_text(key)
        cls = self._classes.get((letter, first, count))
        if cls is None:
            cls = self._classes[(letter, first, count)] = self._class(letter, first, count, n)
        label = self._days.label(first, first + count - 1)
        each = "Each day: " if count > 1 else ""
        tab = ' tabindex="0"' if stop else ""
        return f'<i class="{cls}"{tab} role="img" aria-label="{label}{NL}{each}{text}"></i>'

    def _class(self, letter: str, first: int, count: int, n: int) -> str:
        middle = first + count / 2
        cls = letter
        if count > 1:
            cls += f" w{count}"
            self.widths.add(count)
        if first < self.narrow_from:
            cls += " o"
        if middle < n * 0.2:
            cls += " l"
        elif middle >= n * 0.8:
            cls += " r"
        return cls
