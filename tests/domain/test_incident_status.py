"""Statuspage's indicator rule and the one merged list of public incidents (automatic + operator)."""

from __future__ import annotations

import pytest

from callmeter_tui.domain.health import HealthState
from callmeter_tui.domain.incident_status import (
    AffectedComponent,
    ComponentStatus,
    Impact,
    IncidentStatus,
    IncidentUpdate,
    OperatorIncident,
    component_blend,
    page_indicator,
    parse_choice,
    state_impact,
)
from callmeter_tui.domain.incidents import Incident
from callmeter_tui.domain.public_incidents import AutoRun, public_incidents

OP, DEG, PART, MAJ = (
    ComponentStatus.OPERATIONAL,
    ComponentStatus.DEGRADED_PERFORMANCE,
    ComponentStatus.PARTIAL_OUTAGE,
    ComponentStatus.MAJOR_OUTAGE,
)


@pytest.mark.parametrize(
    ("statuses", "blend"),
    [
        ([], Impact.NONE),
        ([OP, OP], Impact.NONE),
        ([OP, DEG], Impact.MINOR),
        ([OP, PART], Impact.MINOR),
        ([OP, MAJ], Impact.MAJOR),
        ([MAJ, MAJ], Impact.CRITICAL),
    ],
)
def test_component_blend(statuses: list[ComponentStatus], blend: Impact) -> None:
    assert component_blend(statuses) is blend


def test_indicator_is_the_worst_of_blend_and_unresolved_impacts() -> None:
    assert page_indicator([OP, DEG], []) == (Impact.MINOR, False)
    assert page_indicator([OP, DEG], [Impact.MAJOR]) == (Impact.MAJOR, True)
    assert page_indicator([OP, MAJ], [Impact.MINOR]) == (Impact.MAJOR, False)
    assert page_indicator([OP], [Impact.NONE]) == (Impact.NONE, False)


def test_automatic_impact_follows_health_and_a_page_wide_outage() -> None:
    assert state_impact(HealthState.DEGRADED, Impact.MAJOR) is Impact.MINOR
    assert state_impact(HealthState.UNHEALTHY, Impact.MAJOR) is Impact.MAJOR
    assert state_impact(HealthState.UNHEALTHY, Impact.CRITICAL) is Impact.CRITICAL


def test_parse_choice_names_the_key() -> None:
    assert parse_choice(Impact, "--impact", " Major ") is Impact.MAJOR
    with pytest.raises(ValueError, match=r"--impact: 'huge' is not one of none \| minor \| major \| critical"):
        parse_choice(Impact, "--impact", "huge")


def _op(
    incident_id: int, auto: tuple[int, float] | None, status: IncidentStatus = IncidentStatus.IDENTIFIED
) -> OperatorIncident:
    return OperatorIncident(
        id=incident_id,
        page_slug="voip",
        title="Fibre cut",
        impact=Impact.MAJOR,
        status=status,
        created_at=auto[1] if auto else 5000.0,
        updated_at=5100.0,
        resolved_at=None,
        components=(),
        updates=(
            IncidentUpdate(7, IncidentStatus.INVESTIGATING, "Looking.", 5000.0),
            IncidentUpdate(8, status, "Found.", 5100.0),
        ),
        auto_probe_id=auto[0] if auto else None,
        auto_started_at=auto[1] if auto else None,
    )


def test_an_adopted_automatic_incident_is_one_incident_with_the_operators_words() -> None:
    runs = [
        AutoRun(3, "Trunk", Incident(4000.0, None, HealthState.UNHEALTHY)),
        AutoRun(4, "IVR", Incident(1000.0, 2000.0, HealthState.DEGRADED)),
    ]
    found = public_incidents(runs, [_op(1, (3, 4000.4))])
    assert [i.key for i in found] == ["op-1", "auto-4-1000"]  # ongoing first; the adopted run is not listed twice
    adopted = found[0]
    assert (adopted.title, adopted.started_at, adopted.impact, adopted.ongoing) == (
        "Fibre cut",
        4000.0,
        Impact.MAJOR,
        True,
    )
    assert [u.key for u in adopted.updates] == ["start", "7", "8"]
    assert adopted.components == (AffectedComponent(3, "Trunk", MAJ),)
    resolved = found[1]
    assert (resolved.status, resolved.resolved_at, resolved.impact) == (IncidentStatus.RESOLVED, 2000.0, Impact.MINOR)
    assert [u.status for u in resolved.updates] == [IncidentStatus.INVESTIGATING, IncidentStatus.RESOLVED]


def test_operator_incidents_without_a_run_stand_alone() -> None:
    (only,) = public_incidents([], [_op(2, None)])
    assert (only.key, only.started_at, only.automatic, [u.key for u in only.updates]) == (
        "op-2",
        5000.0,
        False,
        ["7", "8"],
    )
