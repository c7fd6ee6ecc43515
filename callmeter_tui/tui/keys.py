"""Every user action with its default key (remappable by id), and the kiosk's cycle of views."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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
    Action("sla_report", "u", "sla_report", "SLA report", "Write a status page's monthly SLA report to a file"),
    Action("incident", "i", "open_incident", "Open incident", "Open an operator incident on a status page"),
    Action(
        "maintenance",
        "m",
        "schedule_maintenance",
        "Schedule maintenance",
        "Schedule a maintenance window (selected probe)",
    ),
    Action("history_mode", "h", "toggle_history", "Toggle history bars", "90 days / last 24 hours"),
    Action("toggle_log", "n", "toggle_log", "Notifications log", "Show or hide the notification log"),
    Action("theme", "t", "cycle_theme", "Cycle theme", "Dark, light, high contrast"),
    Action(
        "chart_window", "c", "chart_window", "Chart window", "In a probe's details: charts over 1 h, 24 h, 7 d, 30 d"
    ),
    Action("help", "question_mark", "help", "Help", "Key bindings"),
    Action("quit_app", "q", "quit_app", "Quit", "Leave the dashboard"),
)


# Keys bound outside ACTIONS (list movement, palette, quit): a remap onto one of them would hide it.
RESERVED: dict[str, str] = {
    "up": "cursor up",
    "k": "cursor up",
    "down": "cursor down",
    "j": "cursor down",
    "pageup": "page up",
    "pagedown": "page down",
    "home": "first row",
    "end": "last row",
    "escape": "back",
    "tab": "focus next",
    "shift+tab": "focus previous",
    "ctrl+p": "command palette",
    "ctrl+q": "quit (the kiosk's only key)",
    "ctrl+c": "copy",
}


def keymap_problems(remaps: Mapping[str, str]) -> dict[str, str]:
    """action id -> one-line problem for each remap that names no action or collides with another
    binding (two actions on one key, or a key the dashboard already uses). Empty when all is well."""
    known = {a.id for a in ACTIONS}
    keys_of = {a.id: _keys(remaps.get(a.id, a.key)) for a in ACTIONS}
    problems: dict[str, str] = {}
    for action_id in remaps:
        if action_id not in known:
            problems[action_id] = f"unknown action (known: {', '.join(sorted(known))})"
            continue
        for key in keys_of[action_id]:
            other = next((o for o, ks in keys_of.items() if o != action_id and key in ks), None)
            if other is not None:
                problems[action_id] = f"key {key!r} is also bound to {other}: give one of them another key"
            elif key in RESERVED:
                problems[action_id] = f"key {key!r} is already the dashboard's {RESERVED[key]} key"
            else:
                continue
            break
    return problems


def _keys(spec: str) -> list[str]:
    return [k.strip() for k in spec.split(",") if k.strip()]


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
