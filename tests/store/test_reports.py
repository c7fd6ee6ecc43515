"""The report's store side on SQLite and PostgreSQL: results recorded the way the engine records them
(spans, executions), read back as report inputs; the threshold rule and the spans then agree, second for
second, across a month edge and a gap."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from callmeter_tui.domain.sla import build_report
from callmeter_tui.domain.thresholds import Threshold, evaluate
from callmeter_tui.store.executions import record_execution
from callmeter_tui.store.incidents import ComponentChoice, open_incident, resolve_incident
from callmeter_tui.store.models import Component, StatusPage
from callmeter_tui.store.reports import ReportInputError, component_inputs, page_header, report_window

from .conftest import add_probe, result

NOV = datetime(2026, 11, 1, tzinfo=UTC).timestamp()


def test_recorded_month_edge_reads_back_as_the_report(session) -> None:  # type: ignore[no-untyped-def]
    pid = add_probe(session, name="trunk", thresholds={"mos": Threshold(3.5, 2.5)})
    page = StatusPage(slug="acme", name="Acme", updated_at=NOV)
    page.components.append(Component(probe_id=pid, name="Trunk", position=0, sla_target=99.0))
    session.add(page)
    thresholds = {"mos": Threshold(3.5, 2.5)}
    for minute in range(-60, 60):  # 23:00 to 00:59, one run a minute; silent 23:30-23:44
        if -30 <= minute < -15:
            continue
        at = NOV + 60 * minute
        mos = 2.0 if 10 <= minute < 20 else 4.2
        res, _ = result(at, metrics={"mos": mos})
        record_execution(session, pid, res, evaluate(res, thresholds))
    session.flush()
    now = NOV + 3600
    head = page_header(session, "acme")

    w_oct = report_window(head, "2026-10", now)
    (oct_,) = build_report("acme", "Acme", w_oct, component_inputs(session, head, w_oct), now).components
    assert (oct_.healthy_s, oct_.unhealthy_s, oct_.metrics_seen_s) == (2700.0, 0.0, 2700.0)
    assert oct_.no_data_s == w_oct.end - w_oct.start - 2700 and oct_.over_critical_s == {"mos": 0.0}
    assert (oct_.uptime_pct, oct_.verdict.value) == ("100.00", "pass")

    w_nov = report_window(head, "2026-11", now)
    (nov,) = build_report("acme", "Acme", w_nov, component_inputs(session, head, w_nov), now).components
    assert (nov.healthy_s, nov.unhealthy_s, nov.no_data_s) == (3000.0, 600.0, 0.0)
    assert nov.over_critical_s == {"mos": 600.0} and nov.metrics_seen_s == 3600.0  # the rule and the spans agree
    assert (nov.incidents, nov.longest_incident_s, nov.uptime_pct, nov.verdict.value) == (1, 600.0, "83.33", "fail")

    with pytest.raises(
        ReportInputError, match=r"^--component: no component 'x' on page 'acme' \(components: 'Trunk'\)"
    ):
        component_inputs(session, head, w_nov, ("x",))
    with pytest.raises(ReportInputError, match=r"^--page: no status page 'nope' \(pages: 'acme'\)"):
        page_header(session, "nope")


def test_operator_incidents_count_in_the_report_of_their_component(session) -> None:  # type: ignore[no-untyped-def]
    """An incident an operator opened (CLI, dashboard) counts for the components it names, and its length
    can be the longest; one on another component does not count here."""
    trunk = add_probe(session, name="trunk", thresholds={})
    ivr = add_probe(session, name="ivr", thresholds={})
    page = StatusPage(slug="acme", name="Acme", updated_at=NOV)
    page.components.append(Component(probe_id=trunk, name="Trunk", position=0))
    page.components.append(Component(probe_id=ivr, name="IVR", position=1))
    session.add(page)
    for minute in range(60):
        for pid in (trunk, ivr):
            res, _ = result(NOV + 60 * minute)
            record_execution(session, pid, res, evaluate(res, {}))
    session.flush()
    first = open_incident(
        session, slug="acme", title="Carrier", message="Looking.", now=NOV + 600, components=[ComponentChoice("Trunk")]
    )
    resolve_incident(session, first, now=NOV + 1500)
    open_incident(
        session, slug="acme", title="Still open", message="Hm.", now=NOV + 3000, components=[ComponentChoice("Trunk")]
    )
    session.flush()
    now = NOV + 3600
    head = page_header(session, "acme")
    w = report_window(head, "2026-11", now)
    trunk_r, ivr_r = build_report("acme", "Acme", w, component_inputs(session, head, w), now).components
    assert (trunk_r.incidents, trunk_r.operator_incidents, trunk_r.longest_incident_s) == (0, 2, 900.0)
    assert (ivr_r.operator_incidents, ivr_r.longest_incident_s) == (0, 0.0)
