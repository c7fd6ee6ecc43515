"""A run's SIP trace is stored with its execution (SQLite and PostgreSQL), read back only by the trace read,
and pruned with the execution."""

from __future__ import annotations

from sqlalchemy import select

from callmeter_tui.config.model import RetentionSettings
from callmeter_tui.domain.siptrace import Direction, SipMessage, decode_trace, trace_blob
from callmeter_tui.store.executions import record_execution
from callmeter_tui.store.models import Execution
from callmeter_tui.store.retention import hour_floor, prune, rollup_hours
from callmeter_tui.store.traces import execution_trace

from .conftest import T0, add_probe, result

DAY = 86400.0


def _blob(tag: str) -> bytes:
    text = f"OPTIONS sip:x SIP/2.0\r\nCall-ID: {tag}\r\nCSeq: 1 OPTIONS\r\n\r\n"
    return trace_blob([SipMessage(1, Direction.TX, "UDP", "127.0.0.1:1", "127.0.0.1:2", text)])


def test_trace_round_trips_and_latest_is_the_default(session) -> None:  # type: ignore[no-untyped-def]
    pid = add_probe(session)
    ids = []
    for i, tag in enumerate(("first", "second")):
        r, ev = result(T0 + i)
        r.trace = _blob(tag)
        ids.append(record_execution(session, pid, r, ev).execution_id)
    session.flush()
    session.expunge_all()
    latest = execution_trace(session, pid)
    assert latest is not None and latest.execution_id == ids[1]
    assert decode_trace(latest.blob).messages[0].call_id == "second"
    first = execution_trace(session, pid, ids[0])
    assert first is not None and decode_trace(first.blob).messages[0].call_id == "first"
    assert execution_trace(session, pid, 10_000) is None
    assert execution_trace(session, add_probe(session, name="other"), ids[0]) is None  # not that probe's


def test_traces_go_with_pruned_executions(session) -> None:  # type: ignore[no-untyped-def]
    pid = add_probe(session)
    old, ev = result(hour_floor(T0))
    old.trace = _blob("old")
    record_execution(session, pid, old, ev)
    session.flush()
    now = hour_floor(T0) + 40 * DAY
    rollup_hours(session, now)
    prune(session, RetentionSettings(executions_s=30 * DAY, history_s=400 * DAY), now)
    assert session.scalars(select(Execution.sip_trace)).all() == []
