"""The whole-page readings (domain.page_figures) agree exactly with the per-component rules they replace
(spans.uptime_ratio, incidents.incidents), and step aside (None) where they could not."""

from __future__ import annotations

import math
import random
from fractions import Fraction

from callmeter_tui.domain.bars import pack_spans
from callmeter_tui.domain.health import STATE_ORDER, HealthState
from callmeter_tui.domain.incidents import incidents
from callmeter_tui.domain.page_figures import incident_runs, uptime_sums
from callmeter_tui.domain.spans import HealthSpan, format_uptime, uptime_ratio, uptime_text

NOW = 1795000000.123456  # an epoch second with a fraction, like stored ones
DAY = 86400.0


def component(rng: random.Random, *, overlap: bool = False) -> list[HealthSpan]:
    spans, t = [], NOW - rng.uniform(2, 40) * DAY
    while t < NOW:
        state = rng.choice(STATE_ORDER)
        end = t + rng.choice([0.0, rng.uniform(1, 3 * DAY)])
        spans.append(HealthSpan(state, t, end))
        t = end + rng.choice([0.0, 0.0, rng.uniform(0, 3600)])
        if overlap and rng.random() < 0.2:
            t -= rng.uniform(0, 1800)
    return spans


def test_uptime_sums_are_the_exact_uptime_rule() -> None:
    rng = random.Random(3)
    comps = [component(rng) for _ in range(60)] + [[]]
    packed = pack_spans(comps)
    for start in (NOW - 30 * DAY, NOW - 5.5 * DAY):
        sums = uptime_sums(packed, start, NOW)
        assert sums is not None
        for spans, healthy, monitored in zip(comps, *sums):
            ratio = uptime_ratio(spans, start, NOW)
            if ratio is None:
                assert monitored == 0
            else:
                assert Fraction(healthy, monitored) == ratio.exact  # type: ignore[attr-defined]
                assert uptime_text(healthy, monitored) == format_uptime(ratio)


def test_uptime_sums_step_aside_when_bounds_are_finer_than_their_unit() -> None:
    packed = pack_spans([[HealthSpan(HealthState.HEALTHY, 0.1, 7.3)]])
    assert uptime_sums(packed, 0.0, 10.0) is None


def test_overlapping_spans_are_counted_first_started_wins_like_the_rule() -> None:
    rng = random.Random(5)
    comps = [component(rng, overlap=True) for _ in range(30)]
    sums = uptime_sums(pack_spans(comps), NOW - 20 * DAY, NOW)
    assert sums is not None
    for spans, healthy, monitored in zip(comps, *sums):
        ratio = uptime_ratio(spans, NOW - 20 * DAY, NOW)
        assert (ratio is None and monitored == 0) or Fraction(healthy, monitored) == ratio.exact  # type: ignore[union-attr]


def test_incident_runs_are_the_incident_rule() -> None:
    rng = random.Random(11)
    comps = [component(rng) for _ in range(80)] + [[]]
    runs = incident_runs(pack_spans(comps))
    assert runs is not None
    got: list[list[tuple[float, float | None, HealthState]]] = [[] for _ in comps]
    for c, s, e, w in zip(runs.comp.tolist(), runs.start.tolist(), runs.end.tolist(), runs.worst.tolist()):
        got[c].append((s, None if math.isnan(e) else e, STATE_ORDER[w]))
    ongoing = 0
    for spans, mine in zip(comps, got):
        expected = [(i.started_at, i.ended_at, i.worst) for i in reversed(incidents(spans))]
        assert mine == expected
        ongoing += bool(expected and expected[-1][1] is None)
    assert ongoing > 5 and sum(map(len, got)) > 200  # the generator makes both kinds


def test_incident_runs_step_aside_for_overlapping_spans() -> None:
    spans = [HealthSpan(HealthState.DEGRADED, NOW - 100, NOW - 10), HealthSpan(HealthState.HEALTHY, NOW - 50, NOW)]
    assert incident_runs(pack_spans([spans])) is None
