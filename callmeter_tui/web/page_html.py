"""The HTML status page (Jinja2, autoescaped) and its per-page theme stylesheet.

The uptime bars are the bulk of a page, so their markup is built in ``daybar`` (from our own words and
numbers only: nothing there comes from the operator) instead of a template loop.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from ..domain.defaults import ACCENT_COLOR
from ..domain.health import HealthState
from ..domain.palette import MAINTENANCE_LABEL
from .daybar import NARROW_DAYS, BarPainter, human_duration
from .view import ComponentView, PageView, iso

SHOWN_INCIDENTS = 8  # newest incidents listed; older ones fold into a <details>
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
DEFAULT_ACCENT = ACCENT_COLOR


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("callmeter_tui.web", "templates"),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True, default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _when(start: float, end: float | None, tz: ZoneInfo) -> tuple[str, str]:
    """("22 Nov 2026 14:03 – 14:21 CET", "18m") in the page's zone; end None means ongoing."""
    a = datetime.fromtimestamp(start, tz)
    head = f"{a.day} {a:%b %Y %H:%M}"
    if end is None:
        return f"Since {head} {a:%Z}", ""
    b = datetime.fromtimestamp(end, tz)
    tail = f"{b:%H:%M}" if b.date() == a.date() else f"{b.day} {b:%b %Y %H:%M}"
    return f"{head} – {tail} {b:%Z}", human_duration(end - start)


def paint_bars(view: PageView) -> tuple[list[Markup], set[int]]:
    """Each component's bar markup, and the run widths used (``theme_css`` gives them classes)."""
    painter = BarPainter(view.bars, ZoneInfo(view.data.timezone))
    painted = painter.paint_all()  # by row: a view's components are its bars' rows, in order
    return [painted[c.index] for c in view.components], painter.widths


def render_html(
    view: PageView,
    bars: list[Markup],
    *,
    css_version: str,
    js_version: str,
    theme_version: str,
    logo_version: str,
    ongoing: list[dict[str, object]] | None = None,
) -> bytes:
    """The full page; ``bars`` from ``paint_bars``, one per component; ``ongoing`` the incidents shown
    above the components (``history.incident_item`` each)."""
    data = view.data
    tz = ZoneInfo(data.timezone)
    days, narrow = data.bar_days, min(NARROW_DAYS, data.bar_days)
    components = [_article(c, bar, days, narrow) for c, bar in zip(view.components, bars)]
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
    maintenances = []
    for m in view.maintenances:
        if not (m.active or m.upcoming):
            continue
        when, length = _when(m.start, m.end, tz)
        maintenances.append(
            {
                "id": m.id,
                "title": m.title,
                "component": m.component,
                "active": m.active,
                "repeats": m.rrule is not None,
                "start_iso": iso(m.start),
                "when": when,
                "length": length,
            }
        )
    last = None
    if view.last_checked is not None:
        t = datetime.fromtimestamp(view.last_checked, tz)
        last = f"{t.day} {t:%b %Y, %H:%M:%S %Z}"
    # Streamed and encoded piece by piece: joining a 1,000-component page into one str and encoding it
    # would hold the GIL (and so the app's event loop) for several milliseconds at a time.
    pieces = (
        environment()
        .get_template("page.html")
        .generate(
            page=data,
            view=view,
            components=components,
            incidents=incidents,
            ongoing=ongoing or [],
            maintenances=maintenances,
            last_checked=last,
            shown_incidents=SHOWN_INCIDENTS,
            css_version=css_version,
            js_version=js_version,
            theme_version=theme_version,
            logo_version=logo_version,
        )
    )
    return b"".join([piece.encode() for piece in pieces])


_MAINTENANCE_STATE = Markup(
    '<span class="state is-maintenance"><svg class="ic" aria-hidden="true"><use href="#i-MAINTENANCE"/></svg>'
    f"{escape(MAINTENANCE_LABEL)}</span>"
)
_STATE = {
    s: Markup(
        f'<span class="state is-{s.value.lower()}"><svg class="ic" aria-hidden="true"><use href="#i-{s.value}"/></svg>'
        f"{escape(s.label)}</span>"
    )
    for s in HealthState
}


def _article(c: ComponentView, bar: Markup, days: int, narrow: int) -> Markup:
    """One component's card (a string, not a template loop: a big page has a thousand of them)."""
    name = escape(c.name)
    state = _MAINTENANCE_STATE if c.under_maintenance else _STATE[c.state]
    wide_pct = f"{escape(c.uptime_pct)}%" if c.uptime_pct else "—"
    narrow_pct = f"{escape(c.uptime_pct_narrow)}%" if c.uptime_pct_narrow else "—"
    return Markup(
        f'<article class="component" id="component-{c.position}">\n<div class="component-head">\n'
        f'<h3 class="component-name">{name}</h3>\n{state}\n</div>\n'
        f'<div class="bar" role="group" aria-label="{name}: daily status, last {days} days">{bar}</div>\n'
        f'<div class="component-foot">\n<span class="foot-edge"><span class="wide-only">{days} days ago</span>'
        f'<span class="narrow-only">{narrow} days ago</span></span>\n<span class="rule"></span>\n'
        f'<span class="uptime"><span class="wide-only">{wide_pct} uptime</span>'
        f'<span class="narrow-only">{narrow_pct} uptime</span></span>\n<span class="rule"></span>\n'
        f'<span class="foot-edge">Today</span>\n</div>\n</article>'
    )


def render_not_found(css_version: str) -> bytes:
    return environment().get_template("not_found.html").render(css_version=css_version).encode()


def theme_css(accent: str, widths: Iterable[int] = (), days: int = 90) -> bytes:
    """Per-page custom properties and bar geometry (the CSP allows stylesheets from 'self' only, not inline
    styles): ``--days`` (day separators), and one ``.wN`` class per run length the bars use."""
    color = accent if _COLOR.match(accent or "") else DEFAULT_ACCENT
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    lum = 0.2126 * r + 0.7152 * g + 0.0722 * b
    on = "#111827" if lum > 150 else "#ffffff"
    grow = "".join(f".bar>.w{n}{{flex-grow:{n}}}" for n in sorted(widths))
    narrow = min(days, NARROW_DAYS)
    return (
        f":root{{--accent:{color.lower()};--on-accent:{on}}}\n"
        f".bar{{--days:{days}}}@media (max-width:600px){{.bar{{--days:{narrow}}}}}\n{grow}\n"
    ).encode()
