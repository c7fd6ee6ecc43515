"""``/{slug}/history``: past incidents (automatic and operator) by month, newest first, a few months a page.

Months are calendar months in the page's time zone, from the current one back to the month of the oldest
incident; empty months say so (as Statuspage's history does). Page 1 is ``/{slug}/history``, page N is
``/{slug}/history/N``; each is built on its own first request, from the incidents of its months only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from ..domain.incident_status import Impact
from ..domain.public_incidents import PublicIncident
from .daybar import human_duration
from .page_html import environment
from .view import PageView, iso

# The palette's colour (and symbol) an incident is drawn in: its impact while ongoing, healthy once resolved.
_TONE = {Impact.NONE: "UNKNOWN", Impact.MINOR: "DEGRADED", Impact.MAJOR: "UNHEALTHY", Impact.CRITICAL: "UNHEALTHY"}
MONTHS_PER_PAGE = 3
MAX_PAGES = 40  # ten years of months: a bound on what one render writes


@dataclass(frozen=True)
class Month:
    label: str  # "November 2026"
    incidents: tuple[dict[str, object], ...]


def _month_index(ts: float, tz: ZoneInfo) -> int:
    d = datetime.fromtimestamp(ts, tz)
    return d.year * 12 + d.month - 1


def history_page_of(view: PageView, started_at: float) -> int:
    """The history page (1-based) listing an incident that started at ``started_at``."""
    tz = ZoneInfo(view.data.timezone)
    back = _month_index(view.data.now, tz) - _month_index(started_at, tz)
    return min(MAX_PAGES, max(0, back) // MONTHS_PER_PAGE + 1)


def history_path(slug: str, page_no: int) -> str:
    return f"/{slug}/history" if page_no <= 1 else f"/{slug}/history/{page_no}"


def incident_link(view: PageView, inc: PublicIncident) -> str:
    """Where an incident is on the history (path + fragment), for links and Statuspage's ``shortlink``."""
    return f"{history_path(view.data.slug, history_page_of(view, inc.started_at))}#{inc.key}"


def _when(ts: float, tz: ZoneInfo) -> str:
    d = datetime.fromtimestamp(ts, tz)
    return f"{d.day} {d:%b %Y %H:%M %Z}"


def incident_item(inc: PublicIncident, tz: ZoneInfo, now: float) -> dict[str, object]:
    """What the page and the history show of one incident (all text escaped by the template)."""
    end = inc.resolved_at if inc.resolved_at is not None else now
    return {
        "key": inc.key,
        "tone": "HEALTHY" if not inc.ongoing else _TONE[inc.impact],
        "title": inc.title,
        "impact": inc.impact,
        "status": inc.status,
        "ongoing": inc.ongoing,
        "automatic": inc.automatic,
        "components": [c.name for c in inc.components],
        "start_iso": iso(inc.started_at),
        "started": _when(inc.started_at, tz),
        "age": human_duration(max(0.0, end - inc.started_at)),
        "latest": _update_item(inc.latest, tz) if inc.latest else None,
        "updates": [_update_item(u, tz) for u in reversed(inc.updates)],
        "postmortem": inc.postmortem,
    }


def _update_item(u: object, tz: ZoneInfo) -> dict[str, object]:
    return {
        "status": u.status,  # type: ignore[attr-defined]
        "body": u.body,  # type: ignore[attr-defined]
        "at_iso": iso(u.at),  # type: ignore[attr-defined]
        "at": _when(u.at, tz),  # type: ignore[attr-defined]
    }


def _months(view: PageView) -> tuple[ZoneInfo, int, int]:
    """(the page's zone, the current month, the oldest month listed): from now back to the month of the
    oldest incident, at most MAX_PAGES pages of months."""
    tz = ZoneInfo(view.data.timezone)
    now_month = _month_index(view.data.now, tz)
    first = view.incidents_started_at
    oldest_incident = now_month if first is None else min(now_month, _month_index(first, tz))
    return tz, now_month, max(now_month - MAX_PAGES * MONTHS_PER_PAGE + 1, oldest_incident)


def history_page_count(view: PageView) -> int:
    _, now_month, oldest = _months(view)
    return (now_month - oldest) // MONTHS_PER_PAGE + 1


def history_months(view: PageView, page_no: int) -> list[Month]:
    """The months of history page ``page_no`` (1-based), newest first, each with its incidents. Only that
    page's incidents are made: a 1,000-component page with a year of history has ~34,000, and building
    every page at once took 1.8 s on the first request after each render."""
    tz, now_month, oldest = _months(view)
    newest = now_month - (page_no - 1) * MONTHS_PER_PAGE
    last = max(oldest, newest - MONTHS_PER_PAGE + 1)
    # A day of slack each side, then the months as the zone's calendar has them (one rule: _month_index).
    lo, hi = _month_start(last, tz) - 86400.0, _month_start(newest + 1, tz) + 86400.0
    by_month: dict[int, list[PublicIncident]] = {}
    for inc in view.incidents_started(lo, hi):
        by_month.setdefault(_month_index(inc.started_at, tz), []).append(inc)
    months = []
    for m in range(newest, last - 1, -1):
        year, month = divmod(m, 12)
        found = sorted(by_month.get(m, []), key=lambda i: -i.started_at)
        label = datetime(year, month + 1, 1).strftime("%B %Y")
        months.append(Month(label, tuple(incident_item(i, tz, view.data.now) for i in found)))
    return months


def _month_start(month_index: int, tz: ZoneInfo) -> float:
    year, month = divmod(month_index, 12)
    return datetime(year, month + 1, 1, tzinfo=tz).timestamp()


def history_body(view: PageView, page_no: int, css_version: str, theme_version: str) -> bytes | None:
    """History page ``page_no`` (1-based) as HTML; None past the last page."""
    pages = history_page_count(view)
    if not 1 <= page_no <= pages:
        return None
    slug = view.data.slug
    return (
        environment()
        .get_template("history.html")
        .render(
            page=view.data,
            months=history_months(view, page_no),
            newer=history_path(slug, page_no - 1) if page_no > 1 else None,
            older=history_path(slug, page_no + 1) if page_no < pages else None,
            page_no=page_no,
            pages=pages,
            css_version=css_version,
            theme_version=theme_version,
        )
        .encode()
    )
