"""A monitor with one OPTIONS probe whose response times have a known gap and a known health history.

Its drill-down data has the shape the engine's reads produce: single runs every interval within a day,
hourly means (mid-hour) beyond; the points, the gap and the spans are fixed so tests can name them.
"""

from __future__ import annotations

import dataclasses

from callmeter_tui.domain.chart import HOUR, hourly_means
from callmeter_tui.domain.health import HealthState
from callmeter_tui.domain.spans import HealthSpan
from callmeter_tui.engine.api import ProbeDetail
from tests.tui.fakes import T0, FakeMonitor

NAME = "OPTIONS edge proxy"
INTERVAL = 60.0
GAP = (T0 - 40 * 60, T0 - 25 * 60)  # the probe was silent (no results) for these 15 minutes
BAD_FROM = T0 - 25 * 60  # unhealthy since it came back
WARNING, CRITICAL = 150.0, 500.0


def response_ms(t: float) -> float:
    """A deterministic wave between ~60 and ~140 ms, over the critical line after the gap."""
    base = 100.0 + 40.0 * (((t // INTERVAL) % 9) - 4) / 4
    return base + 500.0 if t >= BAD_FROM else base


def points(since: float, until: float) -> tuple[tuple[float, float], ...]:
    """What the engine would read for the window: runs every minute (none in GAP), or hourly means beyond a day."""
    if hourly_means(until - since):
        start = (since // HOUR + 1) * HOUR
        return tuple(
            (h + HOUR / 2, response_ms(h)) for h in (start + i * HOUR for i in range(int((until - start) // HOUR)))
        )
    first = (since // INTERVAL + 1) * INTERVAL
    ts = (first + i * INTERVAL for i in range(int((until - first) // INTERVAL) + 1))
    return tuple((t, response_ms(t)) for t in ts if not GAP[0] <= t < GAP[1] and t <= until)


class ChartMonitor(FakeMonitor):
    def __init__(self) -> None:
        super().__init__()
        self.pid = self.add(NAME, "UNHEALTHY", kind="sip_options")
        v = self.views[self.pid]
        self.views[self.pid] = dataclasses.replace(
            v,
            interval_s=INTERVAL,
            metrics={"response_time_ms": response_ms(T0)},
            breaches=[{"metric": "response_time_ms", "level": "critical"}],
            thresholds={"response_time_ms": {"warning": WARNING, "critical": CRITICAL}},
        )
        self.ranges: list[float] = []

    async def probe_detail(self, probe_id: int, range_s: float = 86400.0) -> ProbeDetail:
        d = await super().probe_detail(probe_id, range_s)
        self.ranges.append(range_s)
        since = self.now - range_s
        spans = (
            HealthSpan(HealthState.HEALTHY, since - 3600, GAP[0]),
            HealthSpan(HealthState.UNHEALTHY, GAP[1], self.now),
        )
        means_before = self.now if hourly_means(range_s) else 0.0
        return dataclasses.replace(
            d,
            series={"response_time_ms": points(since, self.now)},
            since=since,
            until=self.now,
            means_before=means_before,
            spans=spans,
        )
