"""Spans kept as packed arrays (``bars.SpanArrays``) and read as HealthSpan objects only where needed.

Why: a 1,000-component page reads ~16,000 spans per render, and building one frozen HealthSpan per span
was a sixth of a cold render, although the page itself is drawn from the arrays (bars, uptime, incidents
in numpy). ``ComponentSpans`` is a component's spans as a read-only sequence: its length comes from the
offsets, and the objects are made the first time someone iterates or indexes it (status.json, the API,
a component under maintenance). The arrays themselves may come later too: a function giving them, called
the first time a component's spans are read (see web.snapshot: a page's older history).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import overload

import numpy as np

from .bars import SpanArrays
from .health import STATE_ORDER
from .spans import HealthSpan


class ComponentSpans(Sequence[HealthSpan]):
    """Row ``row`` of ``packed`` as a sequence of HealthSpan, oldest first (made on first read).
    ``packed`` may be a function that gives the arrays, called on first read (it may be shared by rows)."""

    __slots__ = ("_items", "_packed", "_row")

    def __init__(self, packed: SpanArrays | Callable[[], SpanArrays], row: int) -> None:
        self._packed, self._row = packed, row
        self._items: tuple[HealthSpan, ...] | None = None

    def _arrays(self) -> SpanArrays:
        if not isinstance(self._packed, SpanArrays):
            self._packed = self._packed()
        return self._packed

    def __len__(self) -> int:
        offsets = self._arrays().offsets
        return int(offsets[self._row + 1] - offsets[self._row])

    def _all(self) -> tuple[HealthSpan, ...]:
        if self._items is None:
            p = self._arrays()
            lo, hi = int(p.offsets[self._row]), int(p.offsets[self._row + 1])
            order = STATE_ORDER
            self._items = tuple(
                HealthSpan(order[k], s, e)
                for k, s, e in zip(p.codes[lo:hi].tolist(), p.starts[lo:hi].tolist(), p.ends[lo:hi].tolist())
            )
        return self._items

    @overload
    def __getitem__(self, i: int) -> HealthSpan: ...
    @overload
    def __getitem__(self, i: slice) -> tuple[HealthSpan, ...]: ...
    def __getitem__(self, i: int | slice) -> HealthSpan | tuple[HealthSpan, ...]:
        return self._all()[i]

    def __iter__(self) -> Iterator[HealthSpan]:
        return iter(self._all())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return self._all() == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._all())

    def __repr__(self) -> str:
        return f"ComponentSpans({list(self._all())!r})"


def rows(packed: SpanArrays, lo: int, hi: int) -> SpanArrays:
    """Components ``lo`` .. ``hi - 1`` of ``packed`` (views of its arrays, offsets from 0)."""
    a, b = int(packed.offsets[lo]), int(packed.offsets[hi])
    offsets = packed.offsets[lo : hi + 1] - a
    return SpanArrays(packed.starts[a:b], packed.ends[a:b], packed.codes[a:b], offsets)


def take(packed: SpanArrays, picked: Sequence[int]) -> SpanArrays:
    """The components ``picked`` (rows of ``packed``, in that order, repeats allowed) as new arrays."""
    idx = np.asarray(picked, dtype=np.int64)
    lo, counts = packed.offsets[idx], np.diff(packed.offsets)[idx]
    offsets = np.zeros(len(idx) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    spans = np.repeat(lo - offsets[:-1], counts) + np.arange(int(offsets[-1]), dtype=np.int64)
    return SpanArrays(packed.starts[spans], packed.ends[spans], packed.codes[spans], offsets)


def latest_codes(packed: SpanArrays) -> np.ndarray:
    """Per component, the ``STATE_ORDER`` index of its latest span (greatest start, then end; of equal
    ones the first, like ``max``), -1 when it has none."""
    n = packed.components
    out = np.full(n, -1, dtype=np.int64)
    counts = np.diff(packed.offsets)
    if not len(packed.starts):
        return out
    comp = np.repeat(np.arange(n, dtype=np.int64), counts)
    order = np.lexsort((-np.arange(len(comp)), packed.ends, packed.starts, comp))
    has = counts > 0
    out[has] = packed.codes[order][packed.offsets[1:][has] - 1]
    return out
