"""Every user action with its default key (remappable by id), and the kiosk's cycle of views."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..engine.api import ProbeView, StatusPageView


@dataclass(frozen=True)
class Action:
    id: str
    key: str
    action: str
    title: str
    help: str


# Every user action: default key, palette title and help text. ``keys`` passed to the app remaps by id.
ACTIONS: tuple[Action, ...] = (
    Action("details", "enter", "details", "Probe details", "Open the selected probe's drill-down"),
    Action("run_now", "r", "run_now", "Run now", "Run the selected probe now"),
    Action("pause", "p", "toggle_pause", "Pause / resume", "Pause or resume the selected probe"),
    Action("add_probe", "a", "add_probe", "Add probe", "Create a probe"),
    Action("edit_probe", "e", "edit_probe", "Edit probe", "Edit the selected probe"),
    Action("delete_probe", "x", "delete_probe", "Delete probe", "Delete the selected probe (asks first)"),
    Action("pages", "s", "status_pages", "Status pages", "List, create, edit and delete status pages"),
    Action("history_mode", "h", "toggle_history", "Toggle history bars", "90 days / last 24 hours"),
    Action("toggle_log", "n", "toggle_log", "Notifications log", "Show or hide the notification log"),
    Action("theme", "t", "cycle_theme", "Cycle theme", "Dark, light, high contrast"),
    Action("help", "question_mark", "help", "Help", "Key bindings"),
    Action("quit_app", "q", "quit_app", "Quit", "Leave the dashboard"),
)


def kiosk_views(views: Iterable[ProbeView], pages: Iterable[StatusPageView]) -> list[tuple[str, set[int] | None]]:
    """What a wall display cycles through: all probes, then each status page (its component probes);
    with no pages, each agent when there are several."""
    views = list(views)
    by_name = {v.name: v.id for v in views}
    cycle: list[tuple[str, set[int] | None]] = [("All probes", None)]
    for p in pages:
        ids = {by_name[c.probe] for c in p.spec.components if c.probe in by_name}
        if ids:
            cycle.append((p.spec.name, ids))
    if len(cycle) == 1:
        agents = sorted({v.agent for v in views})
        if len(agents) > 1:
            cycle += [(f"Agent {a}", {v.id for v in views if v.agent == a}) for a in agents]
    return cycle
