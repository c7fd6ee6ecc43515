"""Incidents: maximal runs of degraded or unhealthy time, for the page's timeline and the drill-down.

Spans that touch (or overlap) merge into one incident; a gap with no data or a HEALTHY/UNKNOWN span
ends it, because we cannot claim the trouble went on while nobody was looking.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .health import BAD_STATES, HealthState
from .spans import HealthSpan


@dataclass(frozen=True)
class Incident:
    started_at: float
    ended_at: float | None  # None while ongoing
    worst: HealthState

    @property
    def ongoing(self) -> bool:
        return self.ended_at is None

    def duration(self, now: float) -> float:
        """Seconds so far (an ongoing incident runs until ``now``)."""
        end = now if self.ended_at is None else self.ended_at
        return max(0.0, end - self.started_at)


def incidents(spans: Iterable[HealthSpan], ongoing: bool = True) -> list[Incident]:
    """Runs of DEGRADED/UNHEALTHY spans, newest first. When ``ongoing`` and the latest span is bad,
    the newest incident has ``ended_at=None``. A zero-length HEALTHY/UNKNOWN span does not split a run
    (it covers no time), but as the latest span it does end the ongoing incident."""
    ordered = sorted(spans, key=lambda sp: (sp.started_at, sp.ended_at))
    runs: list[list[float | HealthState]] = []  # [start, end, worst]
    open_run = False
    for span in ordered:
        state = HealthState.parse(span.state)
        if state not in BAD_STATES:
            if span.ended_at > span.started_at:  # a zero-length span covers no time: it ends nothing
                open_run = False
            continue
        start, end = span.started_at, max(span.ended_at, span.started_at)
        if open_run and start <= runs[-1][1]:  # type: ignore[operator]
            run = runs[-1]
            run[1] = max(run[1], end)
            if state is HealthState.UNHEALTHY:
                run[2] = HealthState.UNHEALTHY
        else:
            runs.append([start, end, state])
            open_run = True
    found = [Incident(float(s), float(e), w) for s, e, w in runs]  # type: ignore[arg-type]
    if found and ongoing and ordered and HealthState.parse(ordered[-1].state) in BAD_STATES:
        last = found[-1]
        found[-1] = Incident(last.started_at, None, last.worst)
    found.reverse()
    return found
