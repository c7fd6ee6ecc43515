"""The HTML status page (Jinja2, autoescaped) and its per-page theme stylesheet.

The uptime bars are the bulk of a page (days x components segments), so their markup is built here
with explicit escaping instead of a template loop: a 1,000-component page renders in well under a second.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from ..domain.defaults import ACCENT_COLOR
from ..domain.health import HealthState
from .view import NARROW_DAYS, BarCell, PageBars, PageView, iso

SHOWN_INCIDENTS = 8  # newest incidents listed; older ones fold into a <details>
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
DEFAULT_ACCENT = ACCENT_COLOR
_SEG_CLASS = {
    HealthState.HEALTHY: "h",
    HealthState.DEGRADED: "d",
    HealthState.UNHEALTHY: "u",
    HealthState.UNKNOWN: "n",
}


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("callmeter_tui.web", "templates"),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True, default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


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


def _day_label(start: float, tz: ZoneInfo) -> str:
    day = datetime.fromtimestamp(start, tz)
    return str(escape(f"{day:%a} {day.day} {day:%b %Y}"))


def _edge_classes(n: int) -> list[str]:
    """Tooltip anchoring (l/r near the bar's ends) and "o" for days hidden on narrow screens."""
    out = []
    for i in range(n):
        cls = " l" if i < n * 0.2 else " r" if i >= n * 0.8 else ""
        out.append(cls + (" o" if i < n - NARROW_DAYS else ""))
    return out


def _cell_text(cell: BarCell) -> str:
    """The tooltip body after the date (our own words and numbers only: nothing to escape)."""
    parts = [
        f"{label} {human_duration(secs)}"
        for label, secs in (("Healthy", cell.healthy_s), ("Degraded", cell.degraded_s), ("Unhealthy", cell.unhealthy_s))
        if secs >= 0.5
    ]
    if not parts:
        return "No data"
    if cell.unknown_s >= 60:
        parts.append(f"No data {human_duration(cell.unknown_s)}")
    return "&#10;".join(parts)


class BarPainter:
    """Uptime bar markup for one page: one focusable element per day whose aria-label is also the CSS
    tooltip (date in the page's zone, time per state). Day and cell parts are built once per page."""

    def __init__(self, bars: PageBars, tz: ZoneInfo) -> None:
        self._bars = bars
        edges = _edge_classes(len(bars.starts))
        days = [_day_label(s, tz) for s in bars.starts]
        # "<span class="seg h" ... aria-label="" is split as: class letter | edges + label head | text
        self._heads = [f'{edges[i]}" tabindex="0" role="img" aria-label="{days[i]}&#10;' for i in range(len(days))]
        self._cells = [(_SEG_CLASS[c.state], _cell_text(c)) for c in bars.cells]

    def paint(self, component_index: int) -> Markup:
        heads, cells = self._heads, self._cells
        out = []
        for i, k in enumerate(self._bars.row(component_index)):
            letter, text = cells[k]
            out.append(f'<span class="seg {letter}{heads[i]}{text}"></span>')
        return Markup("".join(out))


def _when(start: float, end: float | None, tz: ZoneInfo) -> tuple[str, str]:
    """("22 Nov 2026 14:03 – 14:21 CET", "18m") in the page's zone; end None means ongoing."""
    a = datetime.fromtimestamp(start, tz)
    head = f"{a.day} {a:%b %Y %H:%M}"
    if end is None:
        return f"Since {head} {a:%Z}", ""
    b = datetime.fromtimestamp(end, tz)
    tail = f"{b:%H:%M}" if b.date() == a.date() else f"{b.day} {b:%b %Y %H:%M}"
    return f"{head} – {tail} {b:%Z}", human_duration(end - start)


def render_html(view: PageView, *, css_version: str, js_version: str, theme_version: str, logo_version: str) -> bytes:
    """The full page."""
    data = view.data
    tz = ZoneInfo(data.timezone)
    painter = BarPainter(view.bars, tz)
    components = [
        {
            "position": c.position,
            "name": c.name,
            "state": c.state,
            "uptime_pct": c.uptime_pct,
            "uptime_pct_narrow": c.uptime_pct_narrow,
            "bar": painter.paint(c.index),
        }
        for c in view.components
    ]
    incidents = []
    for i in view.incidents:
        when, length = _when(i.started_at, i.ended_at, tz)
        incidents.append(
            {
                "component": i.component,
                "state": i.state,
                "ongoing": i.ended_at is None,
                "start_iso": iso(i.started_at),
                "when": when,
                "length": length,
            }
        )
    last = None
    if view.last_checked is not None:
        t = datetime.fromtimestamp(view.last_checked, tz)
        last = f"{t.day} {t:%b %Y, %H:%M:%S %Z}"
    html = (
        environment()
        .get_template("page.html")
        .render(
            page=data,
            view=view,
            components=components,
            incidents=incidents,
            last_checked=last,
            narrow_days=min(NARROW_DAYS, data.bar_days),
            shown_incidents=SHOWN_INCIDENTS,
            css_version=css_version,
            js_version=js_version,
            theme_version=theme_version,
            logo_version=logo_version,
        )
    )
    return html.encode()


def render_not_found(css_version: str) -> bytes:
    return environment().get_template("not_found.html").render(css_version=css_version).encode()


def theme_css(accent: str) -> bytes:
    """Per-page custom properties (the CSP allows stylesheets from 'self' only, not inline styles)."""
    color = accent if _COLOR.match(accent or "") else DEFAULT_ACCENT
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    lum = 0.2126 * r + 0.7152 * g + 0.0722 * b
    on = "#111827" if lum > 150 else "#ffffff"
    return f":root{{--accent:{color.lower()};--on-accent:{on}}}\n".encode()
