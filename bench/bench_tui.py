"""Dashboard figures: time to first paint and steady CPU with 1,000 probes refreshing every second.

A FakeMonitor (in-memory MonitorAPI on a real EventBus) publishes 1,000 ExecutionRecorded per second
while the app runs headless (``run_test``) at 200x60. Prints figures; asserts nothing about speed.
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


async def main() -> None:
    m = bulk_monitor(N, now=time.time())
    app = CallMeterApp(m, clock=time.time)
    t0 = time.perf_counter()
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        first_paint = time.perf_counter() - t0
        ids = list(m.views)
        states = ["HEALTHY"] * 18 + ["DEGRADED", "UNHEALTHY"]
        published = 0
        c0, w0 = cpu(), time.perf_counter()
        ticks = 0
        while time.perf_counter() - w0 < SECONDS:
            m.now = time.time()
            for i, pid in enumerate(ids):  # every probe reports once per second
                m.record(pid, states[(i + ticks) % len(states)], at=m.now)
            published += len(ids)
            ticks += 1
            await asyncio.sleep(max(0.0, w0 + ticks - time.perf_counter()))
        wall = time.perf_counter() - w0
        used = cpu() - c0
        shown = app.wall.probes
        print(f"probes: {N}; rows in list: {len(shown.rows)}; terminal 200x60 headless")
        print(f"time to first paint: {first_paint * 1000:.0f} ms")
        print(f"events published: {published} in {wall:.1f} s ({published / wall:.0f}/s)")
        print(f"steady CPU (app + publisher, one process): {100 * used / wall:.1f} % of one core")
        print(f"history loads: {m.history_calls}")
        note = load_note()
        record(
            "tui.first_paint_ms",
            round(first_paint * 1000),
            "ms",
            label=f"dashboard first paint, {N:,} probes, 200x60 headless (bench_tui.py)",
            higher_is_better=False,
            note=note,
        )
        record(
            "tui.steady_cpu_pct",
            round(100 * used / wall, 1),
            "% of a core",
            label=f"dashboard + publisher CPU, {N:,} probes each updating every second (bench_tui.py)",
            higher_is_better=False,
            note=note,
        )
    c1 = cpu()
    # the publisher's own share, measured without the app, to separate the dashboard's cost
    m2 = bulk_monitor(N, now=time.time())
    q = m2.bus.subscribe()
    t = time.perf_counter()
    for _ in range(3):
        for i, pid in enumerate(m2.views):
            m2.record(pid, states[i % len(states)])
        while not q.empty():
            q.get_nowait()
    pub = (cpu() - c1) / 3
    print(
        f"publisher alone: {pub * 1000:.0f} ms CPU per 1,000 events "
        f"-> dashboard share ~{100 * used / wall - 100 * pub:.1f} % of one core "
        f"({time.perf_counter() - t:.2f} s)"
    )


if __name__ == "__main__":
    asyncio.run(main())
