"""Scheduled maintenance in Statuspage's public API v2 shape, plus our own status.json and Atom pieces.

Routes (under ``/{slug}/api/v2/``): ``scheduled-maintenances.json`` (all recent and upcoming),
``scheduled-maintenances/upcoming.json`` (status scheduled), ``scheduled-maintenances/active.json``
(in_progress); ``summary.json`` carries the active and upcoming ones as ``scheduled_maintenances``.
Field names and types follow Statuspage's: ids are opaque strings, times ISO 8601, ``impact`` is
"maintenance", each carries ``incident_updates`` and the affected ``components``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..domain.maintenance import COMPLETED
from .maintenance_view import MaintenanceView
from .view import ComponentView, PageView, iso

UPCOMING_SHOWN = 20  # windows listed on the page and in summary.json


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def _sp_id(prefix: str, n: int) -> str:
    return f"{prefix}{n:011d}"


def sp_maintenance(
    view: PageView, m: MaintenanceView, base_url: str, components: list[dict[str, Any]]
) -> dict[str, Any]:
    """One window as a Statuspage scheduled maintenance (an incident whose impact is "maintenance")."""
    data = view.data
    mid = _sp_id("m", m.id)
    resolved = iso(m.end) if m.status == COMPLETED else None
    update = {
        "id": _sp_id("u", m.id),
        "status": m.status,
        "body": m.title,
        "incident_id": mid,
        "created_at": iso(m.created_at),
        "updated_at": iso(m.updated_at),
        "display_at": iso(m.created_at),
        "affected_components": [
            {"code": c["id"], "name": c["name"], "old_status": "operational", "new_status": "under_maintenance"}
            for c in components
        ],
        "deliver_notifications": False,
        "custom_tweet": None,
        "tweet_id": None,
    }
    return {
        "id": mid,
        "name": m.title,
        "status": m.status,
        "created_at": iso(m.created_at),
        "updated_at": iso(m.updated_at),
        "monitoring_at": None,
        "resolved_at": resolved,
        "impact": "maintenance",
        "shortlink": f"{base_url.rstrip('/')}/{data.slug}#maintenance-{m.id}",
        "started_at": iso(m.start),
        "page_id": _sp_id("p", data.id),
        "incident_updates": [update],
        "components": components,
        "scheduled_for": iso(m.start),
        "scheduled_until": iso(m.end),
    }


def _list(view: PageView, base_url: str, which: str, sp_component: Any) -> list[dict[str, Any]]:
    by_probe: dict[int, ComponentView] = {}
    for c, data in zip(view.components, view.data.components):
        by_probe.setdefault(data.probe_id, c)
    out = []
    for m in view.maintenances:
        if (which == "upcoming" and not m.upcoming) or (which == "active" and not m.active):
            continue
        if which == "summary" and not (m.upcoming or m.active):
            continue
        comp = by_probe.get(m.probe_id)
        obj = sp_component(view, comp) if comp is not None else None
        comps = [obj] if obj is not None else []
        out.append(sp_maintenance(view, m, base_url, comps))
    return out


def scheduled_maintenances(view: PageView, base_url: str, which: str, sp_component: Any) -> list[dict[str, Any]]:
    """``which``: all | upcoming | active | summary (active and upcoming, at most UPCOMING_SHOWN)."""
    found = _list(view, base_url, which, sp_component)
    return found[:UPCOMING_SHOWN] if which == "summary" else found


MAINTENANCE_ROUTES = {  # asset key -> which windows it lists
    "api/v2/scheduled-maintenances.json": "all",
    "api/v2/scheduled-maintenances/upcoming.json": "upcoming",
    "api/v2/scheduled-maintenances/active.json": "active",
}


def maintenance_bodies(view: PageView, base_url: str, sp_page: Any, sp_component: Any) -> dict[str, bytes]:
    """Asset key -> body of the three scheduled-maintenance routes."""
    page = sp_page(view, base_url)
    return {
        key: _dumps(
            {"page": page, "scheduled_maintenances": scheduled_maintenances(view, base_url, which, sp_component)}
        )
        for key, which in MAINTENANCE_ROUTES.items()
    }


def status_json_maintenances(view: PageView) -> list[dict[str, Any]]:
    """Our status.json's ``maintenances``: active and upcoming first, then recently completed."""
    return [
        {
            "id": m.id,
            "title": m.title,
            "component": m.component,
            "status": m.status,
            "start": iso(m.start),
            "end": iso(m.end),
            "rrule": m.rrule,
        }
        for m in view.maintenances
    ]


_ATOM_STATUS = {"scheduled": "scheduled", "in_progress": "in progress", COMPLETED: "completed"}


def maintenance_entries(view: PageView, page_url: str, xml: Callable[..., str]) -> list[str]:
    """Atom entries, one per window occurrence shown (id stable per window and occurrence start)."""
    parts: list[str] = []
    for m in view.maintenances:
        title = f"{m.component}: maintenance {_ATOM_STATUS[m.status]}: {m.title}"
        summary = f"Scheduled maintenance of {m.component} from {iso(m.start)} to {iso(m.end)}: {m.title}"
        parts += [
            "<entry>",
            f"<id>{xml(page_url)}/maintenance/{m.id}-{int(m.start)}</id>",
            f"<title>{xml(title)}</title>",
            f"<published>{iso(m.created_at)}</published>",
            f"<updated>{iso(max(m.updated_at, m.start if m.status != 'scheduled' else m.created_at))}</updated>",
            f'<link rel="alternate" type="text/html" href="{xml(page_url, quote=True)}#maintenance-{m.id}"/>',
            f"<summary>{xml(summary)}</summary>",
            "</entry>",
        ]
    return parts
