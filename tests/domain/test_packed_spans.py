"""Packed spans read per component: the same spans as the lists they were packed from, made on first read."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from callmeter_tui.domain.bars import pack_spans
from callmeter_tui.domain.health import STATE_ORDER, HealthState
from callmeter_tui.domain.packed_spans import ComponentSpans, latest_codes, rows, take
from callmeter_tui.domain.spans import HealthSpan

span = st.builds(
    HealthSpan,
    st.sampled_from(list(HealthState)),
    st.integers(0, 50).map(float),
    st.integers(0, 50).map(float),
)
pages = st.lists(st.lists(span, max_size=6), max_size=6)


@given(pages)
def test_each_component_reads_back_its_own_spans(comps: list[list[HealthSpan]]) -> None:
    packed = pack_spans(comps)
    for c, spans in enumerate(comps):
        view = ComponentSpans(packed, c)
        assert len(view) == len(spans) and bool(view) == bool(spans)
        assert list(view) == spans and view == spans and (not spans or view[-1] == spans[-1])


def test_the_objects_are_made_on_first_read_only() -> None:
    packed = pack_spans([[HealthSpan(HealthState.HEALTHY, 1.0, 2.0)] * 3])
    view = ComponentSpans(packed, 0)
    assert len(view) == 3 and view._items is None  # a length, a truth test: no objects
    first = list(view)
    assert view._items is not None and list(view) == first


@given(pages, st.data())
def test_rows_take_and_latest_agree_with_the_lists(comps: list[list[HealthSpan]], data: st.DataObject) -> None:
    packed = pack_spans(comps)
    n = len(comps)
    lo = data.draw(st.integers(0, n))
    hi = data.draw(st.integers(lo, n))
    part = rows(packed, lo, hi)
    assert [list(ComponentSpans(part, c)) for c in range(hi - lo)] == comps[lo:hi]
    picked = data.draw(st.lists(st.integers(0, max(0, n - 1)), max_size=8)) if n else []
    taken = take(packed, picked)
    assert [list(ComponentSpans(taken, c)) for c in range(len(picked))] == [comps[i] for i in picked]
    for c, spans in enumerate(comps):
        newest = max(spans, key=lambda s: (s.started_at, s.ended_at), default=None)
        expected = -1 if newest is None else STATE_ORDER.index(newest.state)
        assert int(latest_codes(packed)[c]) == expected
