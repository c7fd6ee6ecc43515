"""Dashboard figures: time to first paint and steady CPU with 1,000 probes refreshing every second.

A FakeMonitor (in-memory MonitorAPI on a real EventBus) publishes 1,000 ExecutionRecorded per second
(a state change for most of them) while the app runs headless (``run_test``) at 200x60. The snapshots
and events of every second are built before the measured window: what the engine computes per run
(thresholds, the new ProbeView) is the engine's cost, not the dashboard's, so the steady figure is the
dashboard's own CPU (the bus publish included). The engine-side cost per 1,000 runs is printed apart.
Prints figures and records them in bench/results.json; asserts nothing about speed.
"""

from __future__ import annotations

import asyncio
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from results import load_note, record  # bench/ is on sys.path when this file runs as a script

from callmeter_tui.tui.app import CallMeterApp
from tests.tui.fakes import bulk_monitor

N = int(os.environ.get("BENCH_PROBES", "1000"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


STATES = ["HEALTHY"] * 18 + ["DEGRADED", "UNHEALTHY"]


def prebuilt(n: int, seconds: int, start: float) -> list[list[tuple[int, object, list[object]]]]:
    """Per second: (probe id, its new view, the events the engine publishes) for every probe, built by a
    shadow FakeMonitor whose bus nobody reads."""
    shadow = bulk_monitor(n, now=start)
    q = shadow.bus.subscribe()
    out = []
    for tick in range(seconds):
        second = []
        for i, pid in enumerate(list(shadow.views)):
            shadow.record(pid, STATES[(i + tick) % len(STATES)], at=start + tick)
            events = []
            while not q.empty():
                events.append(q.get_nowait())
            second.append((pid, shadow.views[pid], events))
        out.append(second)
    return out


async def main() -> None:
    m = bulk_monitor(N, now=time.time())
    ticks_planned = int(SECONDS) + 2
    t_build = cpu()
    plan = prebuilt(N, ticks_planned, time.time() + 1.0)
    engine_ms = (cpu() - t_build) / ticks_planned * 1000
    app = CallMeterApp(m, clock=time.time)
    t0, c_start = time.perf_counter(), cpu()
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        first_paint = time.perf_counter() - t0
        first_paint_cpu = cpu() - c_start
        published = 0
        c0, w0 = cpu(), time.perf_counter()
        ticks = 0
        while time.perf_counter() - w0 < SECONDS and ticks < len(plan):
            m.now = time.time()
            for pid, view, events in plan[ticks]:  # every probe reports once per second
                m.views[pid] = view  # type: ignore[assignment]
                for ev in events:
                    m.bus.publish(ev)
            published += len(plan[ticks])
            ticks += 1
            await asyncio.sleep(max(0.0, w0 + ticks - time.perf_counter()))
        wall = time.perf_counter() - w0
        used = cpu() - c0
        shown = app.wall.probes
        load = os.getloadavg()
        print(f"probes: {N}; rows in list: {len(shown.rows)}; terminal 200x60 headless; load average {load[0]:.1f}")
        print(f"time to first paint: {first_paint * 1000:.0f} ms ({first_paint_cpu * 1000:.0f} ms CPU)")
        print(f"events published: {published} in {wall:.1f} s ({published / wall:.0f}/s)")
        print(f"steady CPU (dashboard, events pre-built): {100 * used / wall:.1f} % of one core")
        print(
            f"engine-side cost of 1,000 runs (thresholds, views; not in the figure): {engine_ms * N / 1000:.0f} ms CPU"
        )
        print(f"history loads: {m.history_calls}")
        note = load_note()
        record(
            "tui.first_paint_ms",
            round(first_paint * 1000),
            "ms",
            label=f"dashboard first paint, {N:,} probes, 200x60 headless ({first_paint_cpu * 1000:.0f} ms CPU; bench_tui.py)",
            higher_is_better=False,
            note=note,
        )
        record(
            "tui.steady_cpu_pct",
            round(100 * used / wall, 1),
            "% of a core",
            label=f"dashboard CPU, {N:,} probes each updating every second, events pre-built (bench_tui.py)",
            higher_is_better=False,
            note=note,
        )


if __name__ == "__main__":
    asyncio.run(main())
