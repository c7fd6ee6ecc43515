"""``[[maintenance]]`` tables: scheduled windows declared in the config file, checked like everything else
(``check`` names the key: maintenance[0].end, maintenance[1].rrule, ...)."""

from __future__ import annotations

from ..domain.maintenance import MaintenanceError, MaintenanceSpec
from ..domain.probe import StatusPageSpec
from .fields import Table, join
from .recurrence import make_rule


def read_maintenance(t: Table, pages: dict[str, StatusPageSpec]) -> MaintenanceSpec | None:
    """One window; None (with problems recorded) when anything is wrong."""
    if not t.ok:
        return None
    n_before = len(t.problems.items)
    page = t.str("page", required=True)
    component = t.name("component", required=True)
    title = t.name("title", required=True)
    start = t.str("start", required=True)
    end = t.str("end", required=True)
    rrule = t.str("rrule")
    t.done()
    spec = pages.get(page) if page is not None else None
    if page is not None and spec is None:
        known = ", ".join(repr(s) for s in pages) or "none"
        t.problems.add(join(t.path, "page"), f"no status page {page!r} (pages: {known})")
    if spec is not None and component is not None and component not in {c.name for c in spec.components}:
        known = ", ".join(repr(c.name) for c in spec.components) or "none"
        t.problems.add(join(t.path, "component"), f"no component {component!r} on page {page!r} (components: {known})")
    if start is not None and end is not None:
        try:
            make_rule(start, end, spec.timezone if spec is not None else "UTC", rrule)
        except MaintenanceError as exc:
            t.problems.add(join(t.path, exc.key), exc.message)
    if len(t.problems.items) > n_before or None in (page, component, title, start, end):
        return None
    assert page is not None and component is not None and title is not None and start is not None
    assert end is not None
    return MaintenanceSpec(page=page, component=component, title=title, start=start, end=end, rrule=rrule)
