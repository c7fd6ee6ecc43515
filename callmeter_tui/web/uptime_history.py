"""``/{slug}/uptime``: month-by-month uptime per component (Statuspage's "uptime history" view).

Each figure is the page's uptime rule over one calendar month in the page's zone, the current month cut
at now (``domain.sla.monthly_uptime``), so it reads like the monthly SLA report. Rendered on request and
kept briefly by the server (see ``server``), not with every page render: it reads a year of spans.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from ..domain.sla import month_window, monthly_uptime, recent_months
from ..store.maintenance import maintenance_intervals
from ..store.queries import load_spans
from ..store.reports import ReportInputError, page_components, page_header
from .page_html import environment

HISTORY_MONTHS = 12


@dataclass(frozen=True)
class HistoryRow:
    name: str
    figures: tuple[str | None, ...]  # one per month, oldest first; None: no monitored time that month


@dataclass(frozen=True)
class UptimeHistory:
    slug: str
    name: str
    timezone: str
    months: tuple[str, ...]  # "2026-10", oldest first, the current month last
    rows: tuple[HistoryRow, ...]


def load_history(session: Session, slug: str, now: float, months: int = HISTORY_MONTHS) -> UptimeHistory | None:
    """The page's last ``months`` months; None when there is no such page."""
    try:
        page = page_header(session, slug)
    except ReportInputError:
        return None
    names = recent_months(now, page.timezone, months)
    windows = [month_window(m, page.timezone, now) for m in names]
    comps = page_components(session, page.id)
    spans = load_spans(session, [c.id for c in comps], windows[0].start, now) if comps else {}
    maint = maintenance_intervals(session, [c.id for c in comps], windows[0].start, now) if comps else {}
    rows = tuple(
        HistoryRow(
            c.name,
            tuple(
                monthly_uptime(
                    spans.get(c.id, []),
                    windows,
                    [(m.start, m.end) for m in maint.get(c.id, ())],
                    page.maintenance_is_downtime,
                )
            ),
        )
        for c in comps
    )
    return UptimeHistory(page.slug, page.name, page.timezone, tuple(names), rows)


def _month_label(month: str) -> str:
    from datetime import date

    year, mon = (int(x) for x in month.split("-"))
    return f"{date(year, mon, 1):%b %Y}"


def render_history(history: UptimeHistory, css_version: str) -> bytes:
    """Autoescaped HTML: component names are the operator's text."""
    return (
        environment()
        .get_template("uptime.html")
        .render(h=history, months=[(m, _month_label(m)) for m in history.months], css_version=css_version)
        .encode()
    )
