"""Hypothesis strategies for span timelines (shared by the spans and bars tests)."""

from __future__ import annotations

from hypothesis import strategies as st

from callmeter_tui.domain.health import STATE_ORDER
from callmeter_tui.domain.spans import HealthSpan

T0 = 1_780_000_000.0  # mid 2026, epoch seconds

states = st.sampled_from(STATE_ORDER)
offsets = st.floats(min_value=-2 * 86400, max_value=6 * 86400, allow_nan=False, allow_infinity=False)
lengths = st.one_of(st.floats(min_value=0, max_value=3 * 86400, allow_nan=False), st.integers(0, 86400).map(float))


@st.composite
def timelines(draw: st.DrawFn, max_spans: int = 12, overlapping: bool = True) -> list[HealthSpan]:
    """Spans around T0 .. T0 + 4 days; run-length (touching, gaps allowed) or arbitrary (overlaps, unsorted)."""
    n = draw(st.integers(0, max_spans))
    if overlapping:
        return [HealthSpan(draw(states), T0 + (s := draw(offsets)), T0 + s + draw(lengths)) for _ in range(n)]
    t = T0 + draw(offsets)
    spans = []
    for _ in range(n):
        t += draw(st.sampled_from([0.0, 0.0, 0.0, draw(lengths)]))  # mostly touching, sometimes a gap
        length = draw(lengths)
        spans.append(HealthSpan(draw(states), t, t + length))
        t += length
    return spans
