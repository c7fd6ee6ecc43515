"""Pure rendering of wall rows: column layout for a width, uptime bar cells, metric cells, sparkline.

No widget state here, so the virtualised list stays small and these rules are tested on their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style

from ..domain.health import HealthState, worst
from ..domain.metric_catalog import METRICS
from ..domain.palette import MAINTENANCE_LABEL, MAINTENANCE_SYMBOL
from ..engine.api import HistoryView, ProbeView
from .theme import SYMBOLS, Palette

SPARK = "▁▂▃▄▅▆▇█"
MOS_RANGE = (1.0, 5.0)  # fixed scale: sparklines of different probes compare by eye


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    width: int  # cells, without the one-cell gap after it


# Optional columns in the order they are given up when the terminal gets narrow (last goes first).
OPTIONAL: tuple[Column, ...] = (
    Column("uptime", "Uptime", 7),
    Column("ago", "Checked", 8),
    Column("mos", "MOS", 4),
    Column("loss", "Loss", 6),
    Column("jitter", "Jitter", 7),
    Column("rtt", "RTT", 7),
    Column("reason", "Why", 18),
    Column("setup", "Setup", 7),
    Column("spark", "MOS trend", 10),
)
NAME_MIN, NAME_MAX, NAME_LIMIT, BAR_MIN = 20, 36, 48, 20


def layout(width: int, bar_segments: int = 90, name_need: int = 0) -> list[Column]:
    """Columns that fit ``width``: state, name and bar always; the name gets the cells it needs first
    (``name_need``, up to NAME_LIMIT and a third of the width), then optional columns by priority."""
    need = max(NAME_MIN, min(name_need, NAME_LIMIT, width // 3))
    chosen: list[Column] = []
    fixed = 2  # state symbol + gap
    for col in OPTIONAL:
        if fixed + col.width + 1 + need + 1 + BAR_MIN + 1 <= width:
            chosen.append(col)
            fixed += col.width + 1
    rest = max(width - fixed - 2, need + BAR_MIN)
    name_w = max(need, min(NAME_MAX, rest * 2 // 5))
    bar_w = rest - name_w
    if bar_w > bar_segments:  # whole cells per segment; the rest goes to the name
        per = bar_w // bar_segments
        bar_w = per * bar_segments
        name_w = min(max(NAME_MAX + 20, need), rest - bar_w)
    cols = [Column("state", "", 1), Column("name", "Probe", name_w), Column("bar", "History", bar_w)]
    order = {c.key: i for i, c in enumerate(OPTIONAL)}
    return cols + sorted(chosen, key=lambda c: (c.key == "reason", c.key != "uptime", order[c.key]))


def name_text(view: ProbeView) -> str:
    return view.name if view.enabled else f"‖ {view.name}"


def name_cells(view: ProbeView) -> int:
    return cell_len(name_text(view))


def reason(view: ProbeView) -> str:
    """Why a probe is not healthy, in one line: the last error, else the breached thresholds."""
    if view.under_maintenance:
        return MAINTENANCE_LABEL
    if HealthState.parse(view.state) is HealthState.HEALTHY:
        return ""
    if view.error:
        code = str(view.sip_code or "")
        return view.error if code in view.error else f"{code} {view.error}"
    ranked = sorted(view.breaches, key=lambda b: b.get("level") != "critical")  # critical ones first
    labels = [METRICS[m].label if (m := str(b.get("metric"))) in METRICS else m for b in ranked]
    return ", ".join(dict.fromkeys(labels))


MAINTENANCE_CELL = "maintenance"  # a bar cell of scheduled maintenance only (no monitored time)


@lru_cache(maxsize=512)
def style(color: str | None, bgcolor: Any = None, bold: bool = False) -> Style:
    """Styles are built once per (colour, background, bold): a row repaints every second."""
    return Style(color=color, bgcolor=bgcolor, bold=bold or None)


def _cell_look(cell: HealthState | str, pal: Palette) -> tuple[str, str]:
    if isinstance(cell, HealthState):
        return pal.bar_glyph[cell], pal.state[cell]
    return pal.maintenance_glyph, pal.maintenance


def bar_segments(cells: Sequence[HealthState | str], per: int, pal: Palette, bg: str | None) -> list[Segment]:
    """Bar cells as segments, one per run of equal cells (fewer segments: cheaper lines)."""
    out: list[Segment] = []
    i, n = 0, len(cells)
    while i < n:
        j = i
        while j < n and cells[j] == cells[i]:
            j += 1
        glyph, color = _cell_look(cells[i], pal)
        out.append(Segment(glyph * (per * (j - i)), style(color, bg)))
        i = j
    return out


def bar_cells(segments: Sequence[Any], width: int) -> list[HealthState | str]:
    """One state per cell: segments are spread over ``width`` cells; a cell covering several
    segments shows the worst of them (a bad day never disappears on a narrow terminal); a cell with
    nothing but maintenance shows MAINTENANCE_CELL."""
    n = len(segments)
    if width <= 0:
        return []
    if n == 0:
        return [HealthState.UNKNOWN] * width
    states = [HealthState.parse(getattr(s, "state", HealthState.UNKNOWN)) for s in segments]
    maint = [bool(getattr(s, "shows_maintenance", False)) for s in segments]
    out: list[HealthState | str] = []
    for i in range(width):
        lo, hi = i * n // width, max((i + 1) * n // width, i * n // width + 1)
        state = worst(states[lo:hi])
        out.append(MAINTENANCE_CELL if state is HealthState.UNKNOWN and any(maint[lo:hi]) else state)
    return out


def sparkline(values: Sequence[float], width: int, lo: float = MOS_RANGE[0], hi: float = MOS_RANGE[1]) -> str:
    """Last ``width`` values as block characters on a fixed scale."""
    vals = list(values)[-width:]
    top = len(SPARK) - 1
    chars = [SPARK[max(0, min(top, round((v - lo) / (hi - lo) * top)))] for v in vals]
    return "".join(chars).rjust(width)


def ago(now: float, at: float | None) -> str:
    """'12s ago', '5m ago', '2h ago', '3d ago' or 'never'."""
    if at is None:
        return "never"
    d = max(0, int(now - at))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if d >= size:
            return f"{d // size}{unit} ago"
    return f"{d}s ago"


def fmt_metric(metric: str, value: float | None) -> str:
    if value is None:
        return "—"
    if metric == "mos":
        return f"{value:.2f}"
    if metric.endswith("_pct"):
        return f"{value:.1f}%"
    if value >= 10000:
        return f"{value / 1000:.1f}s"
    return f"{value:.0f}ms" if value >= 100 else f"{value:.1f}ms"


METRIC_OF = {
    "mos": ("mos",),
    "loss": ("packet_loss_pct",),
    "jitter": ("jitter_ms",),
    "rtt": ("rtt_ms", "response_time_ms"),
    "setup": ("setup_time_ms",),
}


@lru_cache(maxsize=64)
def breach_style(level: str | None, warning: str, critical: str, bg: Any, text_on: Any = None) -> Style | None:
    """A breached value: underlined (warning) or reversed (critical), so it reads on monochrome too.
    ``text_on``: the colour a reversed value's digits take (the widget's background; None: the caller's
    own style fills it in)."""
    if level == "warning":
        return Style(color=warning, bold=True, underline=True, bgcolor=bg)
    if level == "critical":
        return Style(color=critical, bold=True, reverse=True, bgcolor=text_on)
    return None


def breach_levels(view: ProbeView) -> dict[str, str]:
    return {str(b.get("metric")): str(b.get("level")) for b in view.breaches}


def mid_cell(text: str, width: int, style: Style) -> Segment:
    """Names: cut in the middle, so "Demo Call (clean line)" and "Demo Call (failing trunk)" still differ."""
    if cell_len(text) > width > 2:
        tail = (width - 1) // 2
        text = set_cell_size(text, width - 1 - tail) + "…" + text[-tail:]
        while cell_len(text) > width:  # wide characters in the tail
            text = text[: width - 1 - tail] + "…" + text[len(text) - tail + 1 :]
            tail -= 1
    return _cell(text, width, style)


_mid_cell = mid_cell  # the name the row tests use


def _cell(text: str, width: int, style: Style, right: bool = False) -> Segment:
    if cell_len(text) > width:
        text = set_cell_size(text, width - 1) + "…" if width > 1 else set_cell_size(text, width)
    pad = width - cell_len(text)
    return Segment((" " * pad + text) if right else (text + " " * pad), style)


def probe_row(
    view: ProbeView,
    hist: HistoryView | None,
    cols: list[Column],
    pal: Palette,
    now: float,
    n_segments: int,
    cursor: bool = False,
    background: Any = None,
) -> list[Segment]:
    """The segments of one probe row, exactly ``sum(widths + gaps)`` cells wide. ``background`` (the
    widget's) is set on every cell, so the line needs no second styling pass. Only the moving cells
    ("checked … ago", the MOS trend) are drawn each time; the rest is kept per probe until it changes."""
    bg = pal.cursor_bg if cursor else background
    out: list[Segment] = []
    for part in _still_parts(view, hist, cols, pal, n_segments, bg, background):
        if isinstance(part, Column):
            out += [_moving_cell(part, view, now, pal, bg), Segment(" ", style(pal.fg, bg))]
        else:
            out += part
    return merged(out)


MOVING = ("ago", "spark")  # the cells that change with every run, or every second
_STILL: dict[int, tuple[tuple[Any, ...], list[Any]]] = {}  # probe id -> (what the rest shows, its parts)


def _still_parts(
    view: ProbeView, hist: HistoryView | None, cols: list[Column], pal: Palette, n: int, bg: Any, background: Any
) -> list[Any]:
    """The row as runs of finished segments, with each moving column left as its Column."""
    key = (still_key(view), n, bg, background)
    hit = _STILL.get(view.id)
    if hit is not None and hit[0] == key and hit[1][0] is hist and hit[1][1] is cols and hit[1][2] is pal:
        return hit[1][3]
    parts: list[Any] = []
    run: list[Segment] = []
    for col in cols:
        if col.key in MOVING:
            parts += [merged(run), col]
            run = []
        else:
            run += [*_still_cell(col, view, hist, pal, n, bg, background), Segment(" ", style(pal.fg, bg))]
    parts.append(merged(run))
    if len(_STILL) > 20_000:
        _STILL.clear()
    _STILL[view.id] = (key, [hist, cols, pal, parts])
    return parts


def _moving_cell(col: Column, view: ProbeView, now: float, pal: Palette, bg: Any) -> Segment:
    if col.key == "ago":
        return _cell(
            ago(now, view.last_execution_at) if view.enabled else "paused", col.width, style(pal.dim, bg), True
        )
    return _cell(sparkline(view.mos_history, col.width), col.width, style(pal.group_fg, bg))


def _still_cell(
    col: Column, view: ProbeView, hist: HistoryView | None, pal: Palette, n: int, bg: Any, background: Any
) -> list[Segment]:
    """One cell that changes only with the probe's state, values or history."""
    state = HealthState.parse(view.state)
    base = style(pal.fg, bg)
    k, w = col.key, col.width
    if k == "state" and view.under_maintenance:
        return [_cell(MAINTENANCE_SYMBOL, w, style(pal.maintenance, bg, bold=True))]
    if k == "state":
        return [_cell(SYMBOLS[state], w, style(pal.state[state], bg, bold=True))]
    if k == "name":
        return [mid_cell(name_text(view), w, base if view.enabled else style(pal.dim, bg))]
    if k == "reason":
        color = pal.maintenance if view.under_maintenance else pal.state[state]
        return [_cell(reason(view), w, style(color, bg))]
    if k == "bar":
        return bar(hist, w, n, pal, bg)
    if k == "uptime":
        return [_cell(f"{hist.uptime}%" if hist and hist.uptime is not None else "—", w, base, right=True)]
    metric = next((m for m in METRIC_OF[k] if m in view.metrics), METRIC_OF[k][0])
    text = fmt_metric(metric, view.metrics.get(metric))[:w]
    level = breach_levels(view).get(metric)
    value = Segment(text, breach_style(level, pal.warning, pal.critical, bg, background) or base)
    # padding stays plain: the underline marks the value only
    return [Segment(" " * (w - cell_len(text)), base), value] if w > cell_len(text) else [value]


def merged(segments: list[Segment]) -> list[Segment]:
    """Adjacent segments of the very same style (styles come from ``style``'s cache) joined into one: a
    row's ~36 segments become ~18, and every later step (strip, filters, compositor) works per segment."""
    out: list[Segment] = []
    for seg in segments:
        if out and seg.style is out[-1].style:
            out[-1] = Segment(out[-1].text + seg.text, seg.style)
        else:
            out.append(seg)
    return out


def row_key(view: ProbeView, now: float, cols: Sequence[Column]) -> tuple[Any, ...]:
    """Everything ``probe_row`` reads from a view, for ``now`` and these columns: equal keys draw equal
    rows, so a new snapshot with the same values (or an "ago" text that did not move) needs no repaint.
    Keep in step with probe_row (test_render checks each field it reads)."""
    spark = next((c.width for c in cols if c.key == "spark"), 0)
    return (
        *still_key(view),
        view.mos_history[-spark:] if spark else (),
        ago(now, view.last_execution_at) if view.enabled else "paused",
    )


def still_key(view: ProbeView) -> tuple[Any, ...]:
    """What a row's cells other than the MOVING ones read from a view."""
    return (
        view.state,
        view.under_maintenance,
        view.name,
        view.enabled,
        view.error,
        view.sip_code,
        view.metrics,
        view.breaches,
    )


_BARS: dict[tuple[int, int, int, int, str | None], tuple[HistoryView | None, list[Segment]]] = {}


def bar(hist: HistoryView | None, w: int, n_segments: int, pal: Palette, bg: str | None) -> list[Segment]:
    """The uptime bar, exactly ``w`` cells: whole cells per segment when wide, worst-of-merged when narrow.
    Kept per history snapshot: rows repaint every second, a probe's history changes far less often."""
    key = (id(hist), w, n_segments, id(pal), bg)
    hit = _BARS.get(key)
    if hit is not None and hit[0] is hist:
        return hit[1]
    if len(_BARS) > 8192:
        _BARS.clear()
    out = _draw_bar(hist, w, n_segments, pal, bg)
    _BARS[key] = (hist, out)
    return out


def _draw_bar(hist: HistoryView | None, w: int, n_segments: int, pal: Palette, bg: str | None) -> list[Segment]:
    segs = hist.segments if hist else ()
    per = max(1, w // max(1, n_segments)) if w >= n_segments else 1
    drawn = bar_cells(segs, n_segments if w >= n_segments else w)
    out = bar_segments(drawn, per, pal, bg)
    used = per * len(drawn)
    if used < w:
        out.append(Segment(" " * (w - used), style(pal.fg, bg)))
    return out


def header_row(cols: list[Column], pal: Palette, bar_title: str) -> list[Segment]:
    style = Style(color=pal.dim, bold=True)
    out: list[Segment] = []
    for col in cols:
        title = bar_title if col.key == "bar" else col.title
        right = col.key not in ("state", "name", "bar", "spark", "reason")
        out += [_cell(title, col.width, style, right=right), Segment(" ", style)]
    return out


def group_row(name: str, count: int, width: int, pal: Palette, states: Sequence[HealthState] = ()) -> list[Segment]:
    """A group's title line: name and size, a rule, then how many of its probes are in each state."""
    title = f"▾ {name or 'Ungrouped'} ({count}) "
    tally = [
        (s, n)
        for s in (HealthState.UNHEALTHY, HealthState.DEGRADED, HealthState.UNKNOWN, HealthState.HEALTHY)
        if (n := sum(1 for x in states if x is s))
    ]
    tail: list[Segment] = []
    for s, n in tally:
        tail += [Segment(" "), Segment(f"{SYMBOLS[s]} {n}", style(pal.state[s], None, bold=True))]
    tail_w = sum(cell_len(t.text) for t in tail) + (1 if tail else 0)
    rule_w = max(0, width - cell_len(title) - tail_w)
    head = _cell(title, min(width, cell_len(title)), style(pal.group_fg, None, bold=True))
    return [head, Segment("─" * rule_w, style(pal.dim)), *tail, Segment(" ")]
