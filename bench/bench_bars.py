"""Uptime-bar throughput: 1,000 components x 90 days, ~10 spans a day each (prints figures, asserts nothing).

Run: .venv/bin/python bench/bench_bars.py [components] [days] [spans_per_day]
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from results import load_note, record  # bench/ is on sys.path when this file runs as a script

from callmeter_tui.domain.bars import (
    bar_segments_many,
    day_boundaries,
    pack_spans,
    state_seconds_matrix,
    state_seconds_matrix_arrays,
)
from callmeter_tui.domain.health import STATE_ORDER
from callmeter_tui.domain.spans import HealthSpan

RUNS = 7


def build(components: int, days: int, per_day: float, now: float, seed: int = 7) -> list[list[HealthSpan]]:
    """Run-length timelines like the store writes: touching spans, mostly healthy, a few gaps."""
    rng = np.random.default_rng(seed)
    start = float(day_boundaries(now, days, "UTC")[0])
    n = int(days * per_day)
    states = np.array(STATE_ORDER, dtype=object)
    out = []
    for _ in range(components):
        cuts = np.sort(rng.uniform(start, now, n + 1))
        codes = rng.choice(4, size=n, p=[0.85, 0.08, 0.05, 0.02])
        ends = np.where(rng.random(n) < 0.03, (cuts[:-1] + cuts[1:]) / 2, cuts[1:])  # 3 % leave a gap
        out.append([HealthSpan(st, s, e) for st, s, e in zip(states[codes], cuts[:-1].tolist(), ends.tolist())])
    return out


def timed_ms(fn: Callable[[], Any]) -> tuple[float, float]:
    """(median, best) of RUNS runs in ms; the best shows the figure without other load on the box."""
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000, min(times) * 1000


def main() -> None:
    components = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    days = int(sys.argv[2]) if len(sys.argv) > 2 else 90
    per_day = float(sys.argv[3]) if len(sys.argv) > 3 else 10.0
    now = 1_780_000_000.0
    comps = build(components, days, per_day, now)
    spans = sum(map(len, comps))
    b = day_boundaries(now, days, "UTC")
    packed = pack_spans(comps)
    figures = {
        "pack_spans (objects -> arrays)": timed_ms(lambda: pack_spans(comps)),
        "state_seconds_matrix_arrays (numpy core)": timed_ms(lambda: state_seconds_matrix_arrays(packed, b, now)),
        "state_seconds_matrix (pack + core)": timed_ms(lambda: state_seconds_matrix(comps, b, now)),
        "bar_segments_many (all, BarSegment objects)": timed_ms(lambda: bar_segments_many(comps, b, now)),
    }
    print(
        f"{components} components x {days} days, {spans:,} spans, {components * days:,} segments; median of {RUNS} runs"
    )
    print(f"  {'':<46} {'median':>9}    {'best':>9}    {'spans/s (median)':>16}")
    for label, (ms, best) in figures.items():
        print(f"  {label:<46} {ms:9.1f} ms {best:9.1f} ms {spans / ms * 1000:16,.0f}")
    core_ms = figures["state_seconds_matrix_arrays (numpy core)"][0]
    record(
        "bars.segments_ms",
        round(figures["bar_segments_many (all, BarSegment objects)"][0], 1),
        "ms",
        label=(
            f"uptime bars, {components:,} components x {days} days at {per_day:g} spans/day, median of {RUNS} "
            f"(numpy core {core_ms:.1f} ms; bench_bars.py)"
        ),
        higher_is_better=False,
        note=load_note(),
    )


if __name__ == "__main__":
    main()
