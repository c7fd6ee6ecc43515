"""Adding many probes at once (start-up, a reload) wakes the running scheduler once, not once per job.

APScheduler's AsyncIOScheduler queues a wake-up (a self-pipe write, then a pass over the due jobs on the
loop) for every job added while it runs: at 10,000 probes that backlog held the loop for seconds, right
when the first runs fell due (bench_engine.py's worst lateness was there)."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from apscheduler.schedulers.base import STATE_PAUSED, STATE_RUNNING

from callmeter_tui.engine.schedule import ProbeSchedule


async def test_a_bulk_reconcile_wakes_the_running_scheduler_once() -> None:
    async def run(pid: int) -> None:
        return None

    sched = ProbeSchedule(run, rng=random.Random(3))
    sched.start()
    wakeups: list[float] = []
    real = sched.scheduler.wakeup

    def counted() -> Any:
        wakeups.append(0.0)
        return real()  # queues a pass over the due jobs on the loop

    sched.scheduler.wakeup = counted  # type: ignore[method-assign]
    try:
        sched.reconcile(dict.fromkeys(range(2000), 60.0))
        assert len(wakeups) == 1, f"{len(wakeups)} wake-ups queued for one reconcile"
        assert len(sched.planned()) == 2000 and sched.scheduler.state == STATE_RUNNING
        wakeups.clear()
        sched.reconcile(dict.fromkeys(range(1000), 60.0))  # 1,000 removed in one go
        assert len(wakeups) == 1 and len(sched.planned()) == 1000
        await asyncio.sleep(0.1)
        assert sched.scheduler.state == STATE_RUNNING
    finally:
        sched.shutdown()


async def test_reconcile_on_a_paused_scheduler_leaves_it_paused() -> None:
    """Shutdown pauses the scheduler first; a reload arriving then must not restart the runs."""

    async def run(pid: int) -> None:
        return None

    sched = ProbeSchedule(run)
    sched.start()
    try:
        sched.pause()
        sched.reconcile({1: 60.0})
        assert sched.scheduler.state == STATE_PAUSED and set(sched.planned()) == {1}
    finally:
        sched.shutdown()
