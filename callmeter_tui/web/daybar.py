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

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

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


@lru_cache(maxsize=4096)
def human_duration(seconds: float) -> str:
    """ "2d 4h", "23h 59m", "45m", "30s": the resolution a visitor cares about."""
    s = round(seconds)
    d, rem = divmod(s, 86400)
    h, rem = divmod(rem, 3600)
    m, sec = divmod(rem, 60)
    if d:
        return f"{d}d {h}h" if h else f"{d}d"
    if h:
        return f"{h}h {m}m" if m else f"{h}h"
    if m:
        return f"{m}m"
    return f"{sec}s"


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
        self._cells = [("m" if c.shows_maintenance else _SEG_CLASS[c.state], cell_text(c)) for c in bars.cells]
        # Cells that read the same (a 25-hour day without data, a 24-hour one) are one run.
        first: dict[tuple[str, str], int] = {}
        self._same = [first.setdefault(c, k) for k, c in enumerate(self._cells)]
        self._today: dict[int, str] = {}  # today is not over: its cells say every state explicitly
        self._painted: dict[tuple[int, ...], Markup] = {}
        self.widths: set[int] = set()  # run lengths used: theme.css gives each a .wN class

    @property
    def narrow_from(self) -> int:
        return max(0, len(self._bars.starts) - NARROW_DAYS)

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
        n, narrow = len(row), self.narrow_from
        found = runs(row, narrow)
        out = []
        for j, (first, count) in enumerate(found):
            letter, text = self._cells[row[first]]
            if first + count == n:
                text = self._today_text(row[first])
            middle = first + count / 2
            cls = letter
            if count > 1:
                cls += f" w{count}"
                self.widths.add(count)
            if first < narrow:
                cls += " o"
            if middle < n * 0.2:
                cls += " l"
            elif middle >= n * 0.8:
                cls += " r"
            label = self._days.label(first, first + count - 1)
            each = "Each day: " if count > 1 else ""
            stop = ' tabindex="0"' if j == len(found) - 1 else ""
            out.append(f'<i class="{cls}"{stop} role="img" aria-label="{label}{NL}{each}{text}"></i>')
        return out
