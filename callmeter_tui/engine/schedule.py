"""APScheduler 3.11 jobs: one interval job per enabled probe, plus the watchdog and retention jobs.

The AsyncIOScheduler runs inside the app's running loop. Each probe job has a stable id, a start time
spread over the first 10% of its interval, or wider for very many probes (1,000 probes with one interval
never fire in one burst),
coalesce=True and max_instances=1 (a probe never overlaps itself).

A housekeeping job (watchdog, retention, maintenance and remote polls) that is still running when its next
turn comes simply skips that turn: on a loaded host the writer thread can hold a 2 s poll for longer, and
APScheduler's "maximum number of running instances reached" warning every two seconds told the operator
nothing they could act on. Skipped turns are counted and logged at debug level.
"""

from __future__ import annotations

import collections
import datetime as dt
import logging
import random
from collections.abc import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger("callmeter_tui.engine")


MAX_START_RATE = 200.0  # first runs per second when many probes share an interval


def spread_window(interval_s: float, count: int) -> float:
    """10% of the interval, widened (up to the whole interval) so that ``count`` first runs start at
    most MAX_START_RATE per second: 1,000 probes at 60 s start over 6 s, 10,000 over 50 s."""
    return min(interval_s, max(0.1 * interval_s, count / MAX_START_RATE))


def job_id(probe_id: int) -> str:
    return f"probe-{probe_id}"


class ProbeSchedule:
    """Keeps the scheduler's jobs equal to the set of probes this node should run."""

    def __init__(self, run: Callable[[int], Awaitable[object]], *, rng: random.Random | None = None) -> None:
        self._run = run
        self._rng = rng or random.Random()
        self.scheduler = AsyncIOScheduler(timezone=dt.UTC, job_defaults={"coalesce": True, "max_instances": 1})
        self._intervals: dict[int, float] = {}

    def start(self) -> None:
        self.scheduler.start()

    def pause(self) -> None:
        """No new runs start; running ones go on (graceful shutdown)."""
        if self.scheduler.running:
            self.scheduler.pause()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def add_periodic(
        self, name: str, seconds: float, fn: Callable[[], Awaitable[object]], first_in: float | None = None
    ) -> None:
        first = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=first_in if first_in is not None else seconds)
        self.scheduler.add_job(
            _skip_while_running(name, fn),
            IntervalTrigger(seconds=seconds),
            id=name,
            replace_existing=True,
            next_run_time=first,
            misfire_grace_time=max(1, int(seconds)),
            max_instances=2,  # the second instance only notices the first and returns
        )

    def upsert(self, probe_id: int, interval_s: float, window_s: float | None = None) -> None:
        """Add a probe's job, or reschedule it when its interval changed. The first run falls at a random
        point of ``window_s`` (default 10% of the interval), which fixes the probe's phase."""
        jid = job_id(probe_id)
        if self._intervals.get(probe_id) == interval_s and self.scheduler.get_job(jid):
            return
        spread = self._rng.uniform(0, 0.1 * interval_s if window_s is None else window_s)
        first = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=spread)
        self.scheduler.add_job(
            self._run,
            IntervalTrigger(seconds=interval_s, start_date=first),
            args=[probe_id],
            id=jid,
            replace_existing=True,
            next_run_time=first,
            misfire_grace_time=max(1, int(interval_s)),
        )
        self._intervals[probe_id] = interval_s

    def remove(self, probe_id: int) -> None:
        self._intervals.pop(probe_id, None)
        if self.scheduler.get_job(job_id(probe_id)):
            self.scheduler.remove_job(job_id(probe_id))

    def reconcile(self, wanted: dict[int, float]) -> None:
        """Make the jobs exactly ``{probe_id: interval_s}``."""
        for pid in list(self._intervals):
            if pid not in wanted:
                self.remove(pid)
        per_interval = collections.Counter(wanted.values())
        for pid, interval in wanted.items():
            self.upsert(pid, interval, spread_window(interval, per_interval[interval]))

    def planned(self) -> dict[int, dt.datetime | None]:
        out = {}
        for job in self.scheduler.get_jobs():
            if job.id.startswith("probe-"):
                out[int(job.id[6:])] = job.next_run_time
        return out


def _skip_while_running(name: str, fn: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[None]]:
    """A periodic job's body that returns at once while its previous turn still runs (see the module doc).
    A coroutine function, so APScheduler's asyncio executor runs it on the loop."""
    running = False
    skipped = 0

    async def turn() -> None:
        nonlocal running, skipped
        if running:
            skipped += 1
            log.debug("%s: previous turn still running, %d turn(s) skipped so far", name, skipped)
            return
        running = True
        try:
            await fn()
        finally:
            running = False

    return turn
