"""Probe cards for a wall with room to spare: big state symbol, metrics, why, a mini MOS chart, the uptime bar.

Why: five probes on a 160x45 wall used seven lines and left the rest empty. When the probes fit with
at least ``CARD_MIN_H`` lines each, the list draws cards instead of one-line rows (``choose_shape``),
in as few columns as give each card a comfortable height. Pure functions (no widget state), so the
layout rule and the card contents are tested on their own, and painting stays line by line.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from rich.segment import Segment

from ..domain.health import HealthState
from ..domain.palette import MAINTENANCE_LABEL, MAINTENANCE_SYMBOL
from ..engine.api import HistoryView, ProbeView
from . import rows as render
from .theme import SYMBOLS, Palette

CARD_MIN_W, CARD_MIN_H, CARD_GOOD_H, CARD_MAX_H, MAX_COLS = 38, 4, 6, 12, 6
GAP = 2  # cells between card columns
GLYPH_W = 5

# Large state symbols (3 lines): a distinct shape per state, so they read without colour and from afar.
BIG: dict[HealthState, tuple[str, str, str]] = {
    HealthState.HEALTHY: ("▄███▄", "█████", "▀███▀"),
    HealthState.DEGRADED: ("  ▄  ", " ▟█▙ ", "▟███▙"),
    HealthState.UNHEALTHY: ("█▄ ▄█", " ▐█▌ ", "█▀ ▀█"),
    HealthState.UNKNOWN: ("▄▀▀▀▄", "  ▄▀ ", "  ▄  "),
}
BIG_MAINTENANCE = ("  ▄  ", "◀███▶", "  ▀  ")  # a diamond: scheduled maintenance, not a health state
CHART = " ▁▂▃▄▅▆▇█"
MOS_CHART_RANGE = (2.0, 4.5)  # the same scale on every card (compare by eye); below 2 is all bad anyway


@dataclass(frozen=True)
class Shape:
    """How the list is drawn: ``cols == 0`` is one dense row per probe, else cards of ``card_h`` lines."""

    cols: int = 0
    card_h: int = 1
    card_w: int = 0

    @property
    def cards(self) -> bool:
        return self.cols > 0


DENSE = Shape()


def choose_shape(group_sizes: list[int], width: int, height: int) -> Shape:
    """Cards when every probe gets ``CARD_MIN_H`` lines or more (one header line per group when there are
    several groups); the fewest columns that give ``CARD_GOOD_H`` lines, else the tallest cards."""
    headers = len(group_sizes) if len(group_sizes) > 1 else 0
    best = DENSE
    for cols in range(1, MAX_COLS + 1):
        card_w = (width - (cols - 1) * GAP) // cols
        if card_w < CARD_MIN_W or not group_sizes:
            break
        bands = sum(-(-g // cols) for g in group_sizes)
        h = min(CARD_MAX_H, (height - headers) // bands)
        if h >= CARD_MIN_H and h > best.card_h:
            best = Shape(cols, h, card_w)
        if best.card_h >= CARD_GOOD_H:
            break
    return best


def big_glyph(state: HealthState) -> tuple[str, str, str]:
    small = SYMBOLS.get(state, "?")
    return BIG.get(state, ("     ", f"  {small}  ", "     "))


def chart_rows(values: tuple[float, ...], width: int, height: int, lo: float, hi: float) -> list[str]:
    """A column chart of the last ``width`` values on a fixed scale, ``height`` lines, top line first."""
    vals = list(values)[-width:]
    per = max(1, width // max(1, len(vals)))  # few values: wider columns, the chart still spans its width
    steps = height * 8
    levels = [max(1, min(steps, round((v - lo) / (hi - lo) * steps))) for v in vals]
    out = []
    for row in range(height - 1, -1, -1):  # top line first
        line = "".join(CHART[max(0, min(8, lv - row * 8))] * per for lv in levels)
        out.append(line.rjust(width))
    return out


def _fit(segs: list[Segment], width: int, style) -> list[Segment]:
    """Cut or pad a line of segments to exactly ``width`` cells."""
    out: list[Segment] = []
    used = 0
    for seg in segs:
        n = cell_len(seg.text)
        if used + n > width:
            if width - used > 0:
                out.append(Segment(seg.text[: width - used], seg.style))
            used = width
            break
        out.append(seg)
        used += n
    if used < width:
        out.append(Segment(" " * (width - used), style))
    return out


def _metrics_line(view: ProbeView, pal: Palette, bg: str | None, width: int) -> list[Segment]:
    """Labelled metrics, breached ones styled; a metric that does not fit whole is left out."""
    base, dim = render.style(pal.fg, bg), render.style(pal.dim, bg)
    levels = render.breach_levels(view)
    out: list[Segment] = []
    used = 0
    for label, key in (("MOS", "mos"), ("Loss", "loss"), ("Jitter", "jitter"), ("RTT", "rtt"), ("Setup", "setup")):
        metric = next((m for m in render.METRIC_OF[key] if m in view.metrics), None)
        if metric is None:
            continue
        value = render.fmt_metric(metric, view.metrics[metric])
        if used + len(label) + 1 + len(value) > width:
            break
        breach = render.breach_style(levels.get(metric), pal.warning, pal.critical, bg)
        out += [Segment(f"{label} ", dim), Segment(value, breach or base), Segment("  ", base)]
        used += len(label) + len(value) + 3
    return out or [Segment("no measurements yet" if view.enabled else "paused", dim)]


def legend(probes: int, history_title: str, pal: Palette) -> list[Segment]:
    """The line above the cards: what the bar and the chart show."""
    text = f"{probes} probe{'s' * (probes != 1)} · bars: {history_title} (h toggles) · chart: MOS of the recent runs"
    return [Segment(text, render.style(pal.dim, None, bold=True))]


def card_lines(
    view: ProbeView,
    hist: HistoryView | None,
    width: int,
    height: int,
    pal: Palette,
    now: float,
    n_segments: int,
    history_title: str,
    cursor: bool = False,
) -> list[list[Segment]]:
    """The ``height`` lines of one card, each exactly ``width`` cells; the last line is the gap below."""
    state = HealthState.parse(view.state)
    bg = pal.cursor_bg if cursor else None
    base, dim = render.style(pal.fg, bg), render.style(pal.dim, bg)
    maint = view.under_maintenance
    colour = render.style(pal.maintenance if maint else pal.state[state], bg, bold=True)
    since = f" {render.ago(now, view.state_since).removesuffix(' ago')}" if view.state_since else ""
    label = "PAUSED" if not view.enabled else MAINTENANCE_LABEL.upper() if maint else f"{state.label.upper()}{since}"
    name_w = max(4, width - 3 - cell_len(label))
    head = [Segment(f"{MAINTENANCE_SYMBOL if maint else SYMBOLS[state]} ", colour)]
    head.append(render.mid_cell(render.name_text(view), name_w, render.style(pal.fg, bg, bold=True)))
    head += [Segment(" ", base), Segment(label.rjust(width - 3 - name_w), colour)]
    body_h = height - 1 - (1 if height >= 5 else 0)  # a blank line under cards that have room for it
    glyph = body_h >= 3 and width >= CARD_MIN_W
    text_w = width - (GLYPH_W + 1 if glyph else 2)
    why = render.reason(view)
    checked = render.ago(now, view.last_execution_at) if view.enabled else "paused"
    uptime = f"{hist.uptime}%" if hist and hist.uptime is not None else "—"
    tail = f" {uptime} · {checked}"
    bar_line = [*render.bar(hist, max(1, text_w - len(tail)), n_segments, pal, bg), Segment(tail, dim)]
    top: list[list[Segment]] = [_metrics_line(view, pal, bg, text_w)]
    if why:
        tone = pal.maintenance if maint else pal.state[state]
        top.append([Segment("Why: ", dim), Segment(why, render.style(tone, bg))])
    top = top[: max(0, body_h - 1)]
    room = body_h - len(top) - 1
    if room > 0:
        top.append([Segment(f"Checked {checked} · Uptime {uptime} ({history_title})", dim)])
        room -= 1
    chart_h = min(4, room)
    if chart_h > 0 and view.mos_history:
        spark = render.style(pal.group_fg, bg)
        chart_w = min(text_w, 90) - 4
        chart = chart_rows(view.mos_history, chart_w, chart_h, *MOS_CHART_RANGE)
        top += [[Segment("MOS " if i == 0 else "    ", dim), Segment(r, spark)] for i, r in enumerate(chart)]
    body = [*top, bar_line] if body_h > 0 else []
    lines = [_fit(head, width, base)]
    big = BIG_MAINTENANCE if maint else big_glyph(state)
    for i in range(body_h):
        left: list[Segment] = []
        if glyph:
            left = [Segment(big[i] if i < 3 else " " * GLYPH_W, colour), Segment(" ", base)]
        else:
            left = [Segment("  ", base)]
        lines.append(_fit(left + (body[i] if i < len(body) else []), width, base))
    while len(lines) < height:
        lines.append([Segment(" " * width)])
    return lines[:height]
