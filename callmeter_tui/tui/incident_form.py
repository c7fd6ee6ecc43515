"""Operator incidents in the dashboard: the form (new incident, or an update to one), and the wall's list
of ongoing incidents.

The rules are the store's (``store.incidents``, via the engine's ``IncidentDesk``): the form only collects
text; an error comes back as the same one line the CLI prints, and is shown under its field.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Input, Label, Select, Static

from ..domain.incident_status import Impact, IncidentStatus, OperatorIncident
from ..domain.probe import StatusPageSpec
from ..store.incidents import ComponentChoice, IncidentError
from .forms import FormScreen
from .plain import notify_plain, plain

_FIELD_OF = {"--page": "page", "--title": "title", "--component": "components", "--message": "message"}


@dataclass(frozen=True)
class IncidentDraft:
    """What the form starts with: empty from the wall, prefilled from a probe's drill-down."""

    slug: str = ""
    title: str = ""
    impact: Impact = Impact.NONE
    components: str = ""  # comma-separated component names
    message: str = ""
    auto: tuple[int, float] | None = None  # (probe id, start) of the automatic incident to adopt


def error_field(message: str) -> tuple[str, str]:
    """'--title: must not be empty' -> ('title', 'must not be empty')."""
    head, _, rest = message.partition(": ")
    return _FIELD_OF.get(head.split(" ")[0], "form"), rest or message


class IncidentForm(FormScreen):
    """New incident (``incident`` None) or an update to ``incident``; dismisses with the incident id."""

    def __init__(
        self, desk: Any, pages: list[StatusPageSpec], draft: IncidentDraft, incident: OperatorIncident | None = None
    ) -> None:
        super().__init__()
        self.desk, self.pages, self.draft, self.incident = desk, pages, draft, incident

    def compose(self) -> ComposeResult:
        inc = self.incident
        title = "New incident" if inc is None else f"Update incident {inc.id}: {inc.title}"
        yield Static(plain(title), classes="form-title")
        yield Label("", id="form-error")
        with Vertical(id="form-body"):
            if inc is None:
                slugs = [p.slug for p in self.pages]
                yield from self._select("page", "Status page", [(s, s) for s in slugs], self.draft.slug or slugs[0])
                yield from self.field_row("title", "Title", self.draft.title, "Calls to the US trunk fail")
                impacts = [(i.value, i.value) for i in Impact]
                yield from self._select("impact", "Impact", impacts, self.draft.impact.value)
                yield from self.field_row("components", "Components", self.draft.components, "Name, Name=major_outage")
            else:
                statuses = [(s.value, s.value) for s in IncidentStatus]
                yield from self._select("status", "Status", statuses, inc.status.value)
            yield from self.field_row("message", "Message", self.draft.message, "What is happening, what is done")
            yield from self.buttons()
        yield Footer()

    def _select(self, key: str, label: str, options: list[tuple[str, str]], value: str) -> ComposeResult:
        with Horizontal(classes="form-row"):
            yield Label(label, classes="form-label")
            yield Select(options, value=value, allow_blank=False, id=f"f-{key}", compact=True)
        yield Label("", id=f"err-{key}", classes="field-error")

    def on_mount(self) -> None:
        first = "#f-title" if self.incident is None else "#f-message"
        self.query_one(first, Input).focus()

    def choice(self, key: str) -> str:
        return str(self.query_one(f"#f-{key}", Select).value)

    def action_save(self) -> None:
        self.clear_errors()
        self.run_worker(self._save(), exclusive=True, exit_on_error=False)

    async def _save(self) -> None:
        try:
            incident_id = await self._write()
        except IncidentError as e:
            field, text = error_field(str(e))
            self.show_errors({field: text})
            return
        except Exception as e:
            self.form_error(f"Not saved: {e}")
            return
        notify_plain(self, f"Incident {incident_id} saved", timeout=3)
        self.dismiss(incident_id)

    async def _write(self) -> int:
        message = self.value("message")
        if self.incident is not None:
            status = IncidentStatus(self.choice("status"))
            if status is IncidentStatus.RESOLVED:
                await self.desk.resolve(self.incident.id, message or None)
            else:
                await self.desk.update(self.incident.id, status=status, message=message)
            return self.incident.id
        comps = [ComponentChoice.parse(c) for c in self.value("components").split(",") if c.strip()]
        return int(
            await self.desk.open(
                slug=self.choice("page"),
                title=self.value("title"),
                message=message,
                impact=Impact(self.choice("impact")),
                components=comps,
                auto=self.draft.auto,
            )
        )


class OngoingIncidents(Static):
    """The wall's list of ongoing operator incidents (hidden when there are none)."""

    DEFAULT_CSS = """
    OngoingIncidents { height: auto; max-height: 6; padding: 0 1; display: none; border-bottom: solid $panel-lighten-2; }
    OngoingIncidents.shown { display: block; }
    """

    def show(self, incidents: list[OperatorIncident], now: float | None = None) -> None:
        now = time.time() if now is None else now
        ongoing = [i for i in incidents if i.ongoing]
        lines = []
        for inc in ongoing:
            latest = inc.latest.body.splitlines()[0] if inc.latest and inc.latest.body else ""
            age = int(max(0.0, now - inc.created_at) // 60)
            lines.append(f"⚑ #{inc.id} [{inc.impact.value}] {inc.title} · {inc.status.value} · {age} min · {latest}")
        self.update(Text("\n".join(lines)))  # Text, not markup: operator words are shown as written
        self.set_class(bool(ongoing), "shown")


def draft_for_probe(
    probe_id: int, probe_name: str, state_label: str, pages: list[StatusPageSpec], auto_start: float | None
) -> IncidentDraft | None:
    """The drill-down's prefilled form: the first page showing this probe, its component name there."""
    for page in pages:
        for comp in page.components:
            if comp.probe == probe_name:
                name = comp.name or probe_name
                impact = Impact.MAJOR if state_label == "Unhealthy" else Impact.MINOR
                return IncidentDraft(
                    slug=page.slug,
                    title=f"{name}: {state_label.lower()}",
                    impact=impact,
                    components=name,
                    auto=(probe_id, auto_start) if auto_start is not None else None,
                )
    return None
