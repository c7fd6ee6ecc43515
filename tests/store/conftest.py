"""Helpers for store tests: probes and results built the way the engine builds them."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from callmeter_tui.domain.health import HealthState
from callmeter_tui.domain.probe import ProbeKind, ProbeSpec
from callmeter_tui.domain.results import Evaluation, ProbeResult
from callmeter_tui.store.database import project_id
from callmeter_tui.store.models import HealthSpanRow, Probe, Transition
from callmeter_tui.store.sync import new_probe_row

T0 = 1_700_000_000.0  # 2023-11-14T22:13:20Z


def add_probe(
    session: Session,
    name: str = "edge",
    interval_s: float = 60.0,
    confirm: int = 1,
    kind: ProbeKind = ProbeKind.SIP_OPTIONS,
    **kw: Any,
) -> int:
    spec = ProbeSpec(name=name, kind=kind, target="sip:127.0.0.1:5060", interval_s=interval_s, confirm=confirm, **kw)
    probe = new_probe_row(spec, project_id(session), now=T0)
    session.add(probe)
    session.flush()
    return probe.id


def result(
    at: float, state: HealthState = HealthState.HEALTHY, metrics: dict[str, float] | None = None, **details: Any
) -> tuple[ProbeResult, Evaluation]:
    ok = state is not HealthState.UNHEALTHY
    r = ProbeResult(
        ok=ok,
        started_at=at,
        duration_ms=12.5,
        metrics=metrics or {},
        sip_code=200 if ok else None,
        error=None if ok else "timeout",
        details=details,
    )
    breaches = [] if state is HealthState.HEALTHY else [{"metric": "rtt_ms", "level": "warning"}]
    return r, Evaluation(state=state, breaches=breaches)


def span_rows(session: Session, probe_id: int) -> list[HealthSpanRow]:
    """The probe's stored spans, oldest first."""
    query = select(HealthSpanRow).where(HealthSpanRow.probe_id == probe_id)
    return list(session.scalars(query.order_by(HealthSpanRow.started_at, HealthSpanRow.id)))


def assert_timeline(session: Session, probe_id: int, newest: float) -> None:
    """The span timeline of evidence with no silence in it, whatever order it was recorded in: spans back to back
    (no overlap, no hole), the last one open in the probe's state up to the newest evidence, and each span opened
    by its own transition, at its start, in time order."""
    rows = span_rows(session, probe_id)
    probe = session.get(Probe, probe_id)
    assert probe is not None and rows
    assert [x.open for x in rows] == [False] * (len(rows) - 1) + [True]
    assert (rows[-1].state, rows[-1].started_at, rows[-1].ended_at) == (probe.state, probe.state_since, newest)
    for a, b in itertools.pairwise(rows):
        assert a.started_at <= a.ended_at == b.started_at
    trs = session.scalars(select(Transition).where(Transition.probe_id == probe_id).order_by(Transition.id)).all()
    assert [(t.at, t.previous_state, t.current_state) for t in trs] == [
        (x.started_at, before, x.state)
        for x, before in zip(rows, ["UNKNOWN", *(x.state for x in rows[:-1])], strict=True)
    ]


@pytest.fixture
def session(database):  # type: ignore[no-untyped-def]
    with database.session() as s:
        yield s
