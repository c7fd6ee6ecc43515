"""The dashboard's incident actions (a mixin of CallMeterApp, kept apart so the app stays small): the wall's
form and list of ongoing incidents, and "open incident for this component" from a probe's drill-down.

The list reloads when the bus says pages changed, which the engine's incident desk also says when another
process (the CLI, another node) wrote an incident: that is how the dashboard follows them within seconds.
"""

from __future__ import annotations

from typing import Any

from ..domain.incident_status import OperatorIncident
from ..domain.public_incidents import ADOPT_TOLERANCE_S
from .incident_form import IncidentDraft, IncidentForm, OngoingIncidents, draft_for_probe
from .plain import notify_plain


class IncidentActions:
    """Needs ``self.incident_desk`` (None: incidents unavailable), ``self.monitor``, ``self.wall``, ``self.clock``."""

    incident_desk: Any = None
    _incidents_dirty = True
    _incidents_busy = False

    def mount_incident_panel(self) -> None:
        wall: Any = self.wall  # type: ignore[attr-defined]
        wall.mount(OngoingIncidents(id="incidents"), after=wall.banner)

    def incidents_changed(self) -> None:
        self._incidents_dirty = True

    def refresh_incidents(self) -> None:
        """From the app's tick: reload the list when something changed (one load at a time)."""
        if self.incident_desk is None or not self._incidents_dirty or self._incidents_busy:
            return
        self._incidents_dirty, self._incidents_busy = False, True
        self.run_worker(self._load_incidents(), group="incidents", exit_on_error=False)  # type: ignore[attr-defined]

    async def _load_incidents(self) -> None:
        try:
            found = await self.incident_desk.incidents()
            panels = self.wall.query(OngoingIncidents)  # type: ignore[attr-defined]
            if panels:
                panels.first().show(found, self.clock())  # type: ignore[attr-defined]
        finally:
            self._incidents_busy = False

    async def _pages(self) -> list[Any]:
        return [p.spec for p in await self.monitor.list_status_pages()]  # type: ignore[attr-defined]

    def action_open_incident(self) -> None:
        if getattr(self, "kiosk", False):
            return
        self.run_worker(self._open_form(IncidentDraft()), exit_on_error=False)  # type: ignore[attr-defined]

    async def _open_form(self, draft: IncidentDraft | None, incident: OperatorIncident | None = None) -> None:
        if self.incident_desk is None:
            notify_plain(self, "Incidents are not available here", severity="warning", timeout=4)
            return
        pages = await self._pages()
        if not pages:
            notify_plain(self, "No status page yet: create one first (s)", severity="warning", timeout=4)
            return
        self.push_screen(IncidentForm(self.incident_desk, pages, draft or IncidentDraft(), incident))  # type: ignore[attr-defined]

    async def open_incident_for_probe(
        self, probe_id: int, probe_name: str, state_label: str, auto_start: float | None
    ) -> None:
        """Update the operator incident already about this run or probe, else a new one prefilled (adopting
        the automatic incident ``auto_start`` when given)."""
        if self.incident_desk is None:
            await self._open_form(None)
            return
        existing = _existing(await self.incident_desk.incidents(), probe_id, auto_start)
        if existing is not None:
            await self._open_form(None, existing)
            return
        draft = draft_for_probe(probe_id, probe_name, state_label, await self._pages(), auto_start)
        if draft is None:
            notify_plain(self, f"{probe_name} is on no status page", severity="warning", timeout=4)
            return
        await self._open_form(draft)


def _existing(incidents: list[OperatorIncident], probe_id: int, auto_start: float | None) -> OperatorIncident | None:
    for inc in incidents:
        if not inc.ongoing:
            continue
        if auto_start is not None and inc.auto_probe_id == probe_id and inc.auto_started_at is not None:
            if abs(inc.auto_started_at - auto_start) <= ADOPT_TOLERANCE_S:
                return inc
        if auto_start is None and any(c.probe_id == probe_id for c in inc.components):
            return inc
    return None
