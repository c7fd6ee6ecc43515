"""The in-memory snapshot the views read without I/O: one ProbeView per probe (with its recent MOS values) and
the recent operator notifications.

Why its own module: the Monitor schedules and runs probes; keeping the picture of them current is a separate
job with three sources, all here: the store when the probes are (re)loaded, the events of this node's runs
(``Snapshot.apply``), and the store again for the probes other nodes run (``remote_rows`` finds what changed,
``remote_events`` turns it into the same events). The Monitor decides when each happens and publishes.
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..bus.events import Event, ExecutionRecorded, NotificationRaised, StateChanged
from ..domain.health import HealthState
from ..domain.probe import ProbeSpec
from ..store import queries
from ..store.models import Execution, Probe
from ..store.sync import probe_spec_from_row
from . import reads
from .api import ProbeView

MOS_HISTORY = 30
Rows = dict[int, tuple[ProbeSpec, dict[str, Any]]]  # probe id -> (its spec, the row's meta for its view)


def load_rows(s: Session) -> tuple[Rows, dict[int, list[float]]]:
    """Every probe's spec and view meta (with its latest execution), and its recent MOS values."""
    probes = queries.all_probes(s)
    last_ids = [p.last_execution_id for p in probes if p.last_execution_id is not None]
    last: dict[int | None, Execution] = {}
    for chunk in range(0, len(last_ids), 500):
        last.update(
            {e.id: e for e in s.scalars(select(Execution).where(Execution.id.in_(last_ids[chunk : chunk + 500])))}
        )
    rows = {p.id: (probe_spec_from_row(p), reads.row_meta(p, last.get(p.last_execution_id))) for p in probes}
    mos = queries.recent_metric_values(s, list(rows), "mos", MOS_HISTORY)
    return rows, mos


def remote_rows(s: Session, remote: Mapping[int, ProbeView]) -> list[tuple[Probe, Execution | None]]:
    """The probes of ``remote`` whose latest execution or state in the store differs from their view, each with
    that latest execution."""
    rows = s.scalars(select(Probe).where(Probe.id.in_(list(remote)))).all()
    fresh = [p for p in rows if p.last_execution_id != remote[p.id].last_execution_id or p.state != remote[p.id].state]
    return [(p, s.get(Execution, p.last_execution_id) if p.last_execution_id else None) for p in fresh]


def remote_events(p: Probe, e: Execution | None, old: ProbeView, clock: Callable[[], float]) -> Iterator[Event]:
    """What a remote probe's row says happened since ``old``, its view: a new execution, then a new state.
    Lazy, so the caller handles each event before the next is made."""
    if e is not None and e.id != old.last_execution_id:
        yield ExecutionRecorded(
            p.id,
            p.name,
            e.id,
            e.started_at,
            HealthState.parse(p.state),
            HealthState.parse(e.state),
            dict(e.metrics or {}),
            list(e.breaches or []),
            e.error,
            e.sip_code,
            e.duration_ms,
        )
    if p.state != old.state:
        yield StateChanged(
            p.id,
            p.name,
            old.state,
            HealthState.parse(p.state),
            p.state_since or clock(),
            0,
            p.last_execution_id,
        )


class Snapshot:
    """Probe views by id: replaced whole by ``reset`` when the probes change, kept current by ``apply``."""

    def __init__(self) -> None:
        self.views: dict[int, ProbeView] = {}
        self._mos: dict[int, collections.deque[float]] = {}
        self._notifications: collections.deque[NotificationRaised] = collections.deque(maxlen=200)

    def reset(self, rows: Rows, mos: Mapping[int, list[float]], under_maintenance: frozenset[int]) -> None:
        """New views from ``load_rows``'s result (the MOS values of probes it has none for are kept)."""
        self.views = {pid: reads.probe_view(pid, spec, meta) for pid, (spec, meta) in rows.items()}
        for pid, values in mos.items():
            self._mos[pid] = collections.deque(values, maxlen=MOS_HISTORY)
            self.views[pid] = dataclasses.replace(self.views[pid], mos_history=tuple(values))
        self.mark_maintenance(under_maintenance)

    def mark_maintenance(self, active: frozenset[int]) -> None:
        """Views say which probes are inside a maintenance window now (the dashboard's own state)."""
        for pid, v in self.views.items():
            if v.under_maintenance != (pid in active):
                self.views[pid] = dataclasses.replace(v, under_maintenance=pid in active)

    def drop(self, probe_id: int) -> None:
        self.views.pop(probe_id, None)

    def sorted_views(self) -> list[ProbeView]:
        return sorted(self.views.values(), key=lambda v: (v.group, v.position, v.name.lower()))

    def notifications(self) -> list[NotificationRaised]:
        return list(self._notifications)

    def apply(self, event: object) -> None:
        if isinstance(event, ExecutionRecorded):
            v = self.views.get(event.probe_id)
            if v is None:
                return
            if "mos" in event.metrics:
                self._mos.setdefault(event.probe_id, collections.deque(maxlen=MOS_HISTORY)).append(event.metrics["mos"])
            since = v.state_since if v.state == event.state else event.at
            self.views[event.probe_id] = dataclasses.replace(
                v,
                state=event.state,
                state_since=since,
                last_execution_at=event.at,
                last_execution_id=event.execution_id,
                metrics=dict(event.metrics),
                breaches=list(event.breaches),
                error=event.error,
                sip_code=event.sip_code,
                mos_history=tuple(self._mos.get(event.probe_id, ())),
            )
        elif isinstance(event, StateChanged):
            v = self.views.get(event.probe_id)
            if v is not None and v.state != event.current:
                self.views[event.probe_id] = dataclasses.replace(v, state=event.current, state_since=event.at)
        elif isinstance(event, NotificationRaised):
            self._notifications.appendleft(event)
