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

import numpy as np
from markupsafe import Markup

from ..domain.health import STATE_ORDER, HealthState
from .view import CELL_COLUMNS, NARROW_DAYS, BarCell, PageBars

_SEG_CLASS = {
    HealthState.HEALTHY: "h",
    HealthState.DEGRADED: "d",
    HealthState.UNHEALTHY: "u",
    HealthState.UNKNOWN: "n",
}
NL = "&#10;"  # a line break inside an attribute (the tooltip is white-space: pre)
_TAB_STOP = ' tabindex="0"'  # on a bar's newest run: one tab stop per bar


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


def cell_texts(bars: PageBars) -> list[str]:
    """``cell_text`` of every distinct cell of ``bars``, written once per wording: a text depends only on
    which figures pass their thresholds and on each one at the bar's resolution (whole minutes, or seconds
    under one), so cells alike at that resolution share it (a big page has thousands of distinct cells,
    few wordings). Read from the cells' table: no BarCell is made but for one per wording."""
    table = bars.table
    if len(table) < 256:
        return [cell_text(bars.cell(k)) for k in range(len(table))]
    x = table[:, [_COLUMN[name] for name in _WORDED]]
    r = np.round(x)  # half to even, like round()
    shown = np.where(r < 60, r, 100 + r // 60)  # the human_duration a figure reads as
    shown[x < np.array([0.5, 0.5, 0.5, 0.5, 60.0])] = -1  # cell_text leaves these out
    fields = shown.astype(np.int64) + 1
    if fields.max() >= 1 << 12:  # longer than a day's figures: word each cell
        return [cell_text(bars.cell(k)) for k in range(len(table))]
    packed = (fields << (12 * np.arange(5, dtype=np.int64))).sum(axis=1)  # one int per wording
    _, first, inverse = np.unique(packed, return_index=True, return_inverse=True)
    texts = [cell_text(bars.cell(i)) for i in first.tolist()]
    return [texts[k] for k in inverse.ravel().tolist()]


_COLUMN = {name: i for i, name in enumerate(CELL_COLUMNS)}
_WORDED = ("degraded_s", "unhealthy_s", "healthy_s", "maintenance_s", "unknown_s")  # cell_text's thresholds


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


class BarPainter:
    """Bar markup for one page. Day labels, class names and cell texts are written once per page, each
    run's element is joined from them with numpy (object arrays of str: the concatenation loops in C), and
    a row of cells that another component already has is painted once (all-healthy components look alike)."""

    def __init__(self, bars: PageBars, tz: ZoneInfo) -> None:
        self._bars = bars
        self._days = DayNames([datetime.fromtimestamp(s, tz) for s in bars.starts])
        codes = bars.table[:, 0].astype(np.int64)
        maintenance = (codes == STATE_ORDER.index(HealthState.UNKNOWN)) & (bars.table[:, _COLUMN["maintenance_s"]] > 0)
        letters = np.where(maintenance, "m", np.array([_SEG_CLASS[s] for s in STATE_ORDER])[codes]).tolist()
        self._letters = letters
        self._texts = cell_texts(bars)
        # Cells that read the same (a 25-hour day without data, a 24-hour one) are one run.
        first: dict[tuple[str, str], int] = {}
        self._same = [first.setdefault(c, k) for k, c in enumerate(zip(letters, self._texts))]
        self.widths: set[int] = set()  # run lengths used: theme.css gives each a .wN class

    @property
    def narrow_from(self) -> int:
        return max(0, len(self._bars.starts) - NARROW_DAYS)

    def paint_all(self) -> list[Markup]:
        """Every row's bar markup, in row order. Runs are found for all rows at once; a row equal to an
        earlier one reuses its markup."""
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
        last = np.append(comp[1:] != comp[:-1], True)  # a row's newest run: its tab stop
        elements = self._heads(same[comp, first], first, count, last, n) + self._labels(first, count)
        elements += self._run_texts(same[comp, first], first + count == n) + '"></i>'
        flat_elements = elements.tolist()
        ends = np.flatnonzero(last) + 1
        painted: list[Markup] = [Markup("")] * rows
        lo = 0
        for r, hi in zip(comp[ends - 1].tolist(), ends.tolist()):
            painted[r] = Markup("".join(flat_elements[lo:hi]))
            lo = hi
        return [painted[o] for o in original]

    def _heads(self, key: np.ndarray, first: np.ndarray, count: np.ndarray, stop: np.ndarray, n: int) -> np.ndarray:
        """Each run's element up to its label: class names (by letter, position, length) and tab stop."""
        letter_ids = np.unique(np.asarray(self._letters), return_inverse=True)
        letters, letter_of = letter_ids[0].tolist(), letter_ids[1]
        combined = ((letter_of[key] * (n + 1) + first) * (n + 1) + count) * 2 + stop
        distinct, inverse = np.unique(combined, return_inverse=True)
        heads = []
        for value in distinct.tolist():
            value, tab = divmod(value, 2)
            value, c = divmod(value, n + 1)
            li, f = divmod(value, n + 1)
            cls = self._class(letters[li], f, c, n)
            heads.append(f'<i class="{cls}"{_TAB_STOP if tab else ""} role="img" aria-label="')
        return np.array(heads, dtype=object)[inverse.ravel()]

    def _labels(self, first: np.ndarray, count: np.ndarray) -> np.ndarray:
        """Each run's dates and, for a run of several days, "Each day: "."""
        distinct, inverse = np.unique(first * (len(self._bars.starts) + 1) + count, return_inverse=True)
        labels = []
        for value in distinct.tolist():
            f, c = divmod(value, len(self._bars.starts) + 1)
            labels.append(f"{self._days.label(f, f + c - 1)}{NL}{'Each day: ' if c > 1 else ''}")
        return np.array(labels, dtype=object)[inverse.ravel()]

    def _run_texts(self, key: np.ndarray, today: np.ndarray) -> np.ndarray:
        """What each run's days held; a run ending today says every state explicitly (the day is not over)."""
        texts = np.array(self._texts, dtype=object)[key]
        if today.any():
            keys, inverse = np.unique(key[today], return_inverse=True)
            told = [cell_text(self._bars.cell(k), whole_day=False) for k in keys.tolist()]
            texts[today] = np.array(told, dtype=object)[inverse.ravel()]
        return texts

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
