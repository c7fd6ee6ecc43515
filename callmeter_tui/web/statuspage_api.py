"""Atlassian Statuspage's public API v2, as its consumers (exporters, widgets, aggregators) read it.

Routes below ``/{slug}/api/v2/``: summary.json, status.json, components.json, incidents.json (the newest
50, resolved ones too) and incidents/unresolved.json, with Statuspage's field names and types.

Rules, each written once in the domain and applied here:
- ``status.indicator`` is Statuspage's (``domain.incident_status.page_indicator``): the worst of the
  component blend and the unresolved incidents' impacts. ``status.description`` is our banner when the
  components decide (so a widget shows the words our page shows), Statuspage's wording when an incident
  raised the indicator above them.
- Ongoing automatic incidents are listed as incidents (impact from their health), so consumers that
  trust incidents over the indicator (statuspage-prometheus-exporter does) read what our page shows.
- A component's status is the worst of its probe's and what an unresolved incident's operator set; a
  component with no result yet and no operator status is left out: Statuspage has no "unknown", and
  any status we wrote would be a claim nobody observed.
"""

from __future__ import annotations

import json
from typing import Any

from ..domain.incident_status import (
    INDICATOR_DESCRIPTION,
    STATE_COMPONENT_STATUS,
    ComponentStatus,
    IncidentStatus,
    component_blend,
    page_indicator,
    worse_component_status,
)
from ..domain.public_incidents import PublicIncident
from .history import incident_link
from .maintenance_api import MAINTENANCE_ROUTES, maintenance_bodies, scheduled_maintenances
from .view import RECENT_INCIDENTS, ComponentView, PageView, iso

MAX_INCIDENTS = RECENT_INCIDENTS  # what Statuspage's incidents.json returns (50)
API_KEYS = frozenset(  # every document ``StatuspageApi.bodies`` writes (asset keys below /{slug}/)
    {
        "api/v2/summary.json",
        "api/v2/status.json",
        "api/v2/components.json",
        "api/v2/incidents.json",
        "api/v2/incidents/unresolved.json",
        *MAINTENANCE_ROUTES,
    }
)


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def sp_id(prefix: str, n: int) -> str:
    """Statuspage ids are opaque strings; ours are stable per row."""
    return f"{prefix}{n:011d}"


def page_url(view: PageView, base_url: str) -> str:
    return f"{base_url.rstrip('/')}/{view.data.slug}"


def sp_page(view: PageView, base_url: str) -> dict[str, Any]:
    data = view.data
    incidents = [] if view.incidents_updated_at is None else [view.incidents_updated_at]
    updated = max([data.updated_at, *(c.updated_at for c in view.components), *incidents])
    return {
        "id": sp_id("p", data.id),
        "name": data.name,
        "url": page_url(view, base_url),
        "time_zone": data.timezone,
        "updated_at": iso(updated),
    }


def _operator_statuses(view: PageView) -> dict[int, ComponentStatus]:
    """probe id -> the worst status an unresolved operator incident sets for it."""
    out: dict[int, ComponentStatus] = {}
    for inc in view.ongoing:
        if not inc.automatic:
            for c in inc.components:
                out[c.probe_id] = worse_component_status(c.status, out.get(c.probe_id))
    return out


def component_statuses(view: PageView) -> list[tuple[ComponentView, ComponentStatus]]:
    """The components Statuspage lists, with their status (see the module's rules)."""
    operator = _operator_statuses(view)
    listed = []
    for c in view.components:
        probe_id = view.data.components[c.index].probe_id
        own = ComponentStatus.UNDER_MAINTENANCE if c.under_maintenance else STATE_COMPONENT_STATUS.get(c.state)
        set_by_operator = operator.get(probe_id)
        if set_by_operator is not None:
            listed.append((c, worse_component_status(set_by_operator, own)))
        elif own is not None:
            listed.append((c, own))
    return listed


def sp_status(view: PageView) -> dict[str, str]:
    listed = component_statuses(view)
    unresolved = [i.impact for i in view.ongoing]
    indicator, by_incident = page_indicator((s for _, s in listed), unresolved)
    own = component_blend(
        STATE_COMPONENT_STATUS[c.state]
        for c in view.components
        if c.state in STATE_COMPONENT_STATUS and not c.under_maintenance
    )
    if by_incident or indicator is not own:
        return {"indicator": indicator.value, "description": INDICATOR_DESCRIPTION[indicator]}
    return {"indicator": indicator.value, "description": view.banner}


def sp_component(view: PageView, c: ComponentView, status: ComponentStatus) -> dict[str, Any]:
    return {
        "id": sp_id("c", view.data.id * 100000 + c.position),
        "name": c.name,
        "status": status.value,
        "created_at": iso(c.created_at),
        "updated_at": iso(c.updated_at),
        "position": c.position,
        "description": None,
        "showcase": True,
        "start_date": None,
        "group_id": None,
        "page_id": sp_id("p", view.data.id),
        "group": False,
        "only_show_if_degraded": False,
    }


def _update(inc: PublicIncident, i: int, affected: list[dict[str, Any]]) -> dict[str, Any]:
    u = inc.updates[i]
    at = iso(u.at)
    return {
        "id": f"{inc.key}-{u.key}",
        "status": u.status.value,
        "body": u.body,
        "incident_id": inc.key,
        "created_at": at,
        "updated_at": at,
        "display_at": at,
        "affected_components": affected if i == 0 else None,
        "deliver_notifications": True,
        "custom_tweet": None,
        "tweet_id": None,
    }


def _milestone(inc: PublicIncident, status: IncidentStatus) -> str | None:
    found = [u.at for u in inc.updates if u.status is status]
    return iso(found[-1]) if found else None


def sp_incident(
    view: PageView, inc: PublicIncident, base_url: str, objects: dict[int, dict[str, Any]]
) -> dict[str, Any]:
    """One incident; ``objects`` maps probe id -> its component object (Statuspage nests them)."""
    affected = [
        {"code": objects[c.probe_id]["id"] if c.probe_id in objects else f"probe-{c.probe_id}", "name": c.name}
        | {"old_status": ComponentStatus.OPERATIONAL.value, "new_status": c.status.value}
        for c in inc.components
    ]
    return {
        "id": inc.key,
        "name": inc.title,
        "status": inc.status.value,
        "created_at": iso(inc.started_at),
        "updated_at": iso(inc.updated_at),
        "monitoring_at": _milestone(inc, IncidentStatus.MONITORING),
        "resolved_at": iso(inc.resolved_at) if not inc.ongoing else None,
        "impact": inc.impact.value,
        "shortlink": f"{base_url.rstrip('/')}{incident_link(view, inc)}",
        "started_at": iso(inc.started_at),
        "page_id": sp_id("p", view.data.id),
        "incident_updates": [_update(inc, i, affected) for i in reversed(range(len(inc.updates)))],
        "components": [objects[c.probe_id] for c in inc.components if c.probe_id in objects],
        "postmortem_body": inc.postmortem,
    }


class StatuspageApi:
    """Every Statuspage document of one page view, sharing the component objects."""

    def __init__(self, view: PageView, base_url: str) -> None:
        self.view, self.base_url = view, base_url
        listed = component_statuses(view)
        self.components = [sp_component(view, c, s) for c, s in listed]
        self._objects = {view.data.components[c.index].probe_id: o for (c, _), o in zip(listed, self.components)}
        self.page = sp_page(view, base_url)
        self.status = sp_status(view)

    def incidents(self, ongoing_only: bool) -> list[dict[str, Any]]:
        chosen = self.view.ongoing if ongoing_only else self.view.recent
        return [sp_incident(self.view, i, self.base_url, self._objects) for i in chosen[:MAX_INCIDENTS]]

    def _component_object(self, view: PageView, c: ComponentView) -> dict[str, Any] | None:
        """The listed component's object; None for one with no result yet (not listed, see above)."""
        return self._objects.get(view.data.components[c.index].probe_id)

    def _page_object(self, view: PageView, base_url: str) -> dict[str, Any]:
        return self.page

    def bodies(self) -> dict[str, bytes]:
        """Asset key below /{slug}/ -> JSON body."""
        page = _dumps(self.page)
        # One component at a time: a single json.dumps of a 1,000-component page holds the GIL (and so the
        # app's event loop) for a tenth of a second.
        components = b"[" + b",".join([_dumps(c) for c in self.components]) + b"]"
        unresolved = _dumps(self.incidents(ongoing_only=True))
        status = _dumps(self.status)
        maintenances = _dumps(scheduled_maintenances(self.view, self.base_url, "summary", self._component_object))
        return {
            **maintenance_bodies(self.view, self.base_url, self._page_object, self._component_object),
            "api/v2/summary.json": b'{"page":'
            + page
            + (b',"components":' + components + b',"incidents":' + unresolved)
            + (b',"scheduled_maintenances":' + maintenances + b',"status":' + status + b"}"),
            "api/v2/status.json": b'{"page":' + page + b',"status":' + status + b"}",
            "api/v2/components.json": b'{"page":' + page + b',"components":' + components + b"}",
            "api/v2/incidents.json": b'{"page":' + page + b',"incidents":' + _dumps(self.incidents(False)) + b"}",
            "api/v2/incidents/unresolved.json": b'{"page":' + page + b',"incidents":' + unresolved + b"}",
        }


__all__ = ["API_KEYS", "StatuspageApi", "component_statuses", "sp_id", "sp_status"]
