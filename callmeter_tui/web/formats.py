"""Machine-readable outputs of a PageView: status.json, Statuspage-shaped JSON, SVG badges, Atom feed."""

from __future__ import annotations

import json
import re
from typing import Any
from xml.sax.saxutils import escape

import numpy as np

from ..domain.health import STATE_ORDER, HealthState
from ..domain.palette import (
    MAINTENANCE_BADGE,
    MAINTENANCE_COLOR,
    ON_MAINTENANCE_COLOR,
    ON_STATE_COLOR,
    STATE_COLOR,
)
from .history import incident_link
from .maintenance_api import maintenance_entries, status_json_maintenances
from .verdana import text_width
from .view import PageBars, PageView, iso

BADGE_TEXT = {
    HealthState.HEALTHY: "operational",
    HealthState.DEGRADED: "degraded",
    HealthState.UNHEALTHY: "major outage",
    HealthState.UNKNOWN: "pending",
}


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def _seconds(x: float) -> str:
    return repr(round(float(x), 3))  # what json.dumps writes for a finite float, without its machinery


class _BarEncoder:
    """JSON of uptime bars, by hand: a page's bars share their day edges and a few distinct cells,
    so both are encoded once and reused."""

    def __init__(self, bars: PageBars) -> None:
        self._bars = bars
        self._heads = [f'{{"start":"{iso(a)}","end":"{iso(b)}",' for a, b in zip(bars.starts, bars.ends)]
        # From the cells' table (view.CELL_COLUMNS): a big page's thousands of BarCell objects are not needed,
        # and each distinct number is written once (whole days and zeros repeat a lot).
        table = bars.table
        values, inverse = np.unique(table[:, 1:], return_inverse=True)
        text = [_seconds(v) for v in values.tolist()]
        self._tails = [
            f'"status":"{STATE_ORDER[int(code)].value}","healthy_s":{text[h]},"degraded_s":{text[d]},'
            f'"unhealthy_s":{text[u]},"unknown_s":{text[n]},"maintenance_s":{text[m]}}}'
            for code, (h, d, u, n, m) in zip(table[:, 0].tolist(), inverse.reshape(-1, 5).tolist())
        ]

    def encode(self, component_index: int) -> str:
        heads, tails = self._heads, self._tails
        return "[" + ",".join([heads[i] + tails[k] for i, k in enumerate(self._bars.row(component_index))]) + "]"


def status_json(view: PageView) -> bytes:
    """Our own format: everything the page shows, times ISO 8601 UTC.

    Encoded one component at a time: a single json.dumps of a 1,000-component page would hold the
    GIL (and so the app's event loop) for a tenth of a second.
    """
    data = view.data
    bars = _BarEncoder(view.bars)
    parts = [
        _dumps({"name": data.name, "description": data.description, "status": view.state.value, "banner": view.banner})[
            :-1
        ].decode(),
        ',"components":[',
    ]
    for i, c in enumerate(view.components):
        head = _dumps(
            {
                "name": c.name,
                "status": c.state.value,
                "uptime_pct": c.uptime_pct,
                "uptime_window_days": view.window_days,
                "under_maintenance": c.under_maintenance,
            }
        )[:-1].decode()
        parts.append(
            f'{"," if i else ""}{head},"bars":{bars.encode(c.index)},"last_checked":{json.dumps(iso(c.last_checked))}}}'
        )
    incidents = [
        {
            "component": i.component,
            "status": i.state.value,
            "started_at": iso(i.started_at),
            "ended_at": iso(i.ended_at),
        }
        for i in view.incidents
    ]
    parts.append('],"incidents":' + _dumps(incidents).decode())
    parts.append(',"maintenances":' + _dumps(status_json_maintenances(view)).decode() + "}")
    return b"".join([part.encode() for part in parts])  # one str of it all would be one long GIL hold


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml(text: str, quote: bool = False) -> str:
    """Escaped XML text; characters XML 1.0 forbids (names stored before check refused them) become U+FFFD."""
    return escape(_XML_INVALID.sub("\ufffd", text), {'"': "&quot;"} if quote else {})


_PAD = 5  # shields.io's horizontal padding on each side of a badge's text


def _badge_text_width(text: str) -> int:
    """shields.io's rule: the Verdana width truncated, then rounded up to odd (pixel-grid alignment)."""
    w = int(text_width(text))
    return w if w % 2 else w + 1


def _badge_text(x_px: float, width: int, text: str, fill: str, shadow: str) -> str:
    """One text run at 10x scale like shields.io: a faint shadow under it, textLength pinning its width.

    shields.io starts the label 1 px in and the message 1 px before the boxes' edge; so do we.
    """
    x, length = round(x_px * 10), width * 10
    return (
        f'<text aria-hidden="true" x="{x}" y="150" fill="{shadow}" fill-opacity=".3" transform="scale(.1)" '
        f'textLength="{length}">{text}</text>'
        f'<text x="{x}" y="140" fill="{fill}" transform="scale(.1)" textLength="{length}">{text}</text>'
    )


def badge_svg(label: str, state: HealthState, maintenance: bool = False) -> bytes:
    """A flat two-part badge laid out as shields.io's "flat" style: label on grey, state on its colour
    (the maintenance colour and word while the component is under maintenance)."""
    value = MAINTENANCE_BADGE if maintenance else BADGE_TEXT[state]
    ltw, vtw = _badge_text_width(label), _badge_text_width(value)
    lw, vw = ltw + 2 * _PAD, vtw + 2 * _PAD
    w = lw + vw
    color, on_color = STATE_COLOR[state], ON_STATE_COLOR[state]
    if maintenance:
        color, on_color = MAINTENANCE_COLOR, ON_MAINTENANCE_COLOR
    shadow = "#010101" if on_color == "#ffffff" else "#ccc"
    el, ev = _xml(label, quote=True), _xml(value)
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="20" role="img" aria-label="{el}: {ev}">'
        f"<title>{el}: {ev}</title>"
        f'<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/>'
        f'<stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{w}" height="20" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r)"><rect width="{lw}" height="20" fill="#555"/>'
        f'<rect x="{lw}" width="{vw}" height="20" fill="{color}"/>'
        f'<rect width="{w}" height="20" fill="url(#s)"/></g>'
        f'<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" '
        f'text-rendering="geometricPrecision" font-size="110">'
        f"{_badge_text(1 + _PAD + ltw / 2, ltw, el, '#fff', '#010101')}"
        f"{_badge_text(lw - 1 + _PAD + vtw / 2, vtw, ev, on_color, shadow)}"
        f"</g></svg>"
    )
    return svg.encode()


def _entry(entry_id: str, title: str, published: float, updated: float, link: str, summary: str) -> list[str]:
    return [
        "<entry>",
        f"<id>{_xml(entry_id)}</id>",
        f"<title>{_xml(title)}</title>",
        f"<published>{iso(published)}</published>",
        f"<updated>{iso(updated)}</updated>",
        f'<link rel="alternate" type="text/html" href="{_xml(link, quote=True)}"/>',
        f"<summary>{_xml(summary)}</summary>",
        "</entry>",
    ]


def _operator_entries(view: PageView, page_url: str, base: str) -> list[tuple[float, list[str]]]:
    """One entry per operator update (their words, as text), id stable per update row."""
    out = []
    for inc in view.recent:  # every operator incident is there
        if inc.automatic:
            continue
        link = f"{base}{incident_link(view, inc)}"
        for u in inc.updates:
            if not u.key.isdigit():  # an adopted automatic incident's own start: its entry is below
                continue
            title = f"{inc.title}: {u.status.label}"
            entry_id = f"{page_url}/incidents/{inc.key}/updates/{u.key}"
            out.append((u.at, _entry(entry_id, title, u.at, u.at, link, u.body)))
    return out


def atom_feed(view: PageView, base_url: str) -> bytes:
    """Incidents as an Atom 1.0 feed (RFC 4287), newest first: automatic incidents one entry each, every
    operator update an entry of its own."""
    data = view.data
    base = base_url.rstrip("/")
    page_url = f"{base}/{data.slug}"
    entries = _operator_entries(view, page_url, base)
    for inc in view.incidents:
        ongoing = inc.ended_at is None
        title = f"{inc.component}: {inc.state.label}" + (" (ongoing)" if ongoing else " (resolved)")
        summary = f"{inc.component} was {inc.state.label.lower()} from {iso(inc.started_at)}" + (
            " and is still ongoing." if ongoing else f" to {iso(inc.ended_at)}."
        )
        entry_id = f"{page_url}/incidents/{inc.position}-{int(inc.started_at)}"
        updated = inc.ended_at or inc.started_at
        entries.append((updated, _entry(entry_id, title, inc.started_at, updated, page_url, summary)))
    entries.sort(key=lambda e: -e[0])
    times = [data.updated_at] + [t for t, _ in entries]
    times += [m.updated_at for m in view.maintenances]
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">',
        f"<id>{_xml(page_url)}</id>",
        f"<title>{_xml(data.name)}: incidents</title>",
        f"<updated>{iso(max(times))}</updated>",
        f'<link rel="alternate" type="text/html" href="{_xml(page_url, quote=True)}"/>',
        f'<link rel="self" type="application/atom+xml" href="{_xml(page_url, quote=True)}/feed.atom"/>',
        f"<author><name>{_xml(data.name)}</name></author>",
    ]
    for _, entry in entries:
        parts += entry
    parts += maintenance_entries(view, page_url, _xml)
    parts.append("</feed>\n")
    return "\n".join(parts).encode()
