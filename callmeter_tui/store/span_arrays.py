"""Spans read straight into packed arrays (``domain.bars.SpanArrays``): the status page's bulk read.

Why: a 1,000-component page reads ~16,000 spans per render. Clipping them and ending the open ones one
row at a time in Python, and making an object of each, was a third of a cold render; here the rows
come back as plain tuples, are split into columns at C speed, and the rules run over whole columns.
``queries.load_spans`` reads through this too, so both apply one open-span rule. NO_DATA_INTERVALS:
evidence more than this many intervals after the open span's end is a gap (no data); recording.py applies
the same rule when it stores, so a silent probe reads the same before and after it returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import compress
from typing import Any

import numpy as np
from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from ..domain.bars import SpanArrays
from ..domain.defaults import NO_DATA_INTERVALS
from ..domain.health import BAD_STATES, STATE_ORDER
from ..domain.packed_spans import take
from .models import HealthSpanRow, Probe

_CODES = {state.value: i for i, state in enumerate(STATE_ORDER)}
BATCH_ROWS = 4000  # rows per fetch: one fetch of a big page's rows holds the GIL (a render thread shares it)


# The state as its STATE_ORDER index, worked out by the database (an int per row reads faster than a
# string); any spelling HealthState.parse takes (it upper-cases). A state no rule knows reads as NULL.
_STATE_CODE = case(_CODES, value=func.upper(HealthSpanRow.state), else_=None)


def _codes(states: list[object]) -> np.ndarray:
    """The CASE's codes as int8; NULL (a state no rule knows) refused naming the column. Read as floats
    first (None becomes NaN at C speed): a Python check per row was a tenth of the read."""
    codes = np.array(states, dtype=np.float64)
    if np.isnan(codes).any():
        raise ValueError("health_span.state: a state the store should not hold (not one of STATE_ORDER)")
    return codes.astype(np.int8)


def open_span_ends(ended_at: np.ndarray, interval_s: np.ndarray, until: float) -> np.ndarray:
    """Where each open span ends as seen at ``until``: there if the probe is fresh, else one interval on.

    The second case is exactly what the recorder stores when the probe comes back after the gap. Within
    the grace of ``NO_DATA_INTERVALS`` intervals the span is shown up to ``until``; if the probe then stays
    silent past the grace, that tail becomes no data (one interval after the last result), as it is stored.
    """
    fresh = until - ended_at <= NO_DATA_INTERVALS * interval_s
    ends: np.ndarray = np.where(fresh, np.maximum(until, ended_at), ended_at + interval_s)
    return ends


def load_span_arrays(
    session: Session,
    probe_ids: Iterable[int],
    since: float,
    until: float,
    *,
    intervals: Mapping[int, float] | None = None,
    among: Select[Any] | None = None,
) -> SpanArrays:
    """Spans overlapping ``[since, until)``, clipped to it, oldest first; component c is ``probe_ids[c]``
    (an id asked twice gets its spans twice). ``intervals``: the probes' intervals when the caller has
    read them already; ``among``: a query of (at least) those probe ids to select by, instead of a list
    of a thousand bound ids."""
    asked = list(probe_ids)
    ids = list(dict.fromkeys(asked))
    if ids and intervals is None:
        intervals = dict(session.execute(select(Probe.id, Probe.interval_s).where(Probe.id.in_(ids))).all())
    query = select(
        HealthSpanRow.probe_id,
        _STATE_CODE,
        HealthSpanRow.started_at,
        HealthSpanRow.ended_at,
        case((HealthSpanRow.open.is_(True), 1), else_=0),
    ).where(
        HealthSpanRow.probe_id.in_(ids if among is None else among),
        HealthSpanRow.started_at < until,
        # An open span may reach past its stored end: filter it after extending.
        (HealthSpanRow.ended_at > since) | HealthSpanRow.open.is_(True),
    )
    row, columns = _read(session, query, ids, among is not None)
    codes, starts, ends = _codes(columns[0]), _floats(columns[1]), _floats(columns[2])
    is_open = np.fromiter(columns[3], dtype=bool, count=len(starts))
    if is_open.any():
        every = intervals or {}
        interval = np.array([float(every.get(pid) or 60.0) for pid in ids], dtype=np.float64)[row]
        ends = np.where(is_open, open_span_ends(ends, interval, until), ends)
    starts = np.maximum(starts, since)
    ends = np.minimum(ends, until)
    keep = ends > starts
    return _pack(row[keep], codes[keep], starts[keep], ends[keep], ids, asked)


def load_bad_span_arrays(
    session: Session, probe_ids: Iterable[int], until: float, *, among: Select[Any] | None = None
) -> SpanArrays:
    """Degraded and unhealthy spans that started before ``until``, ended at ``until`` at the latest: a
    page's history older than its bars (only bad spans make automatic incidents, and they are few next to
    the healthy ones). Packed like ``load_span_arrays``: with the 400 days the store keeps by default, a
    1,000-component page has ~26,000 of them, and one object per row took 57 ms to read, packed 26 ms
    (most of it the database's); the objects are made where the history, feed and API read them
    (``ComponentSpans``). No open-span rule: the part of a span past ``until`` is the bars'."""
    asked = list(probe_ids)
    ids = list(dict.fromkeys(asked))
    query = select(HealthSpanRow.probe_id, _STATE_CODE, HealthSpanRow.started_at, HealthSpanRow.ended_at).where(
        HealthSpanRow.probe_id.in_(ids if among is None else among),
        HealthSpanRow.started_at < until,
        HealthSpanRow.state.in_([state.value for state in BAD_STATES]),
    )
    row, (codes, starts, ends) = _read(session, query, ids, among is not None)
    return _pack(row, _codes(codes), _floats(starts), np.minimum(_floats(ends), until), ids, asked)


def _read(session: Session, query: Select[Any], ids: list[int], among: bool) -> tuple[np.ndarray, list[list[object]]]:
    """The query's rows (probe id first, then the other columns) ordered by probe and start: each row's
    component (its probe's index in ``ids``) and the other columns as lists. ``among``: the query may
    hold probes not in ``ids``; their rows are dropped."""
    width = len(query.selected_columns)
    columns: list[list[object]] = [[] for _ in range(width)]
    if ids:
        # Ties (a zero-length span and the next) in the order they were stored, on every database: in
        # SQLite the index on (probe_id, started_at) gives that order as it is (the rowid ends each key).
        order = (HealthSpanRow.probe_id, HealthSpanRow.started_at, HealthSpanRow.id)
        result = session.connection().execute(query.order_by(*order))
        # The driver's cursor itself: its rows are plain tuples of ints and floats already, and making a
        # Row of each (then buffering them one by one) was a fifth of this read. No column here needs a
        # result processor.
        cursor = result.cursor
        try:
            while part := cursor.fetchmany(BATCH_ROWS):
                for column, values in zip(columns, zip(*part)):
                    column.extend(values)
        finally:
            result.close()
    n = len(columns[0])
    row_of = {pid: i for i, pid in enumerate(ids)}
    probe = np.fromiter(columns[0], dtype=np.int64, count=n)
    if among:  # the query may hold more probes than asked
        asked_only = np.isin(probe, np.fromiter(row_of, dtype=np.int64, count=len(row_of)))
        if not asked_only.all():
            probe = probe[asked_only]
            columns = [list(compress(c, asked_only.tolist())) for c in columns]
    known = np.array(sorted(row_of), dtype=np.int64)
    row = np.array([row_of[pid] for pid in known.tolist()], dtype=np.int64)[np.searchsorted(known, probe)]
    return row, columns[1:]


def _floats(values: list[object]) -> np.ndarray:
    return np.fromiter(values, dtype=np.float64, count=len(values))


def _pack(
    row: np.ndarray, codes: np.ndarray, starts: np.ndarray, ends: np.ndarray, ids: list[int], asked: list[int]
) -> SpanArrays:
    """Rows (each a component of ``ids``, oldest first within it) as SpanArrays in the ``asked`` order."""
    order = np.argsort(row, kind="stable")  # by the asked order; each probe's rows stay oldest first
    offsets = np.zeros(len(ids) + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, minlength=len(ids)), out=offsets[1:])
    packed = SpanArrays(starts[order], ends[order], codes[order], offsets)
    if len(ids) == len(asked):
        return packed
    row_of = {pid: i for i, pid in enumerate(ids)}
    return take(packed, [row_of[pid] for pid in asked])
