"""The impairment model of the demo target: which echoed packets to drop and how late to send them.

Loss: one drop in every window of ``100 / loss_pct`` packets, at a random (seeded) position
inside the window. The drop count after n packets is therefore within one packet of
``n * loss_pct / 100`` while the positions stay random, so a 250-packet call measures
2, 5 or 10 % loss to within half a percentage point, reproducibly.

Jitter: each echoed packet gets an independent extra delay drawn uniformly from
``[0, spread]``. The echo numbers packets in the order it sends them, so the caller sees no
reordering (pjmedia counts a reordered packet as a loss) and its RFC 3550 interarrival
jitter equals the mean |D| of consecutive transit differences of what we emit.
``spread_for`` finds the spread that makes that mean equal the requested jitter for the
caller's packet interval, by a seeded simulation of exactly this emission model
(about spread/3 while packets cannot overtake each other, a little more beyond). The simulation
takes ~0.3 s of CPU once per process: ``calibrate`` runs it when a target starts, never on the
first jittered packet (it stalled every call on the event loop for that long).
"""

from __future__ import annotations

import math
import random
from functools import lru_cache

import numpy as np


class LossPattern:
    """Seeded "one drop per window" pattern; the loss rate may change between packets."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._pct: float | None = None
        self._i = 0
        self._start = 0
        self._k = 0
        self._end = 0
        self._pos = -1

    def drop(self, pct: float) -> bool:
        """Decide for the next packet whether it is dropped."""
        i = self._i
        self._i += 1
        if pct <= 0:
            self._pct = None
            return False
        if pct >= 100:
            return True
        if pct != self._pct:
            self._pct, self._start, self._k = pct, i, 0
            self._plan()
        while i >= self._end:
            self._k += 1
            self._plan()
        return i == self._pos

    def _plan(self) -> None:
        assert self._pct is not None
        width = 100.0 / self._pct
        begin = self._start + math.floor(self._k * width)
        self._end = self._start + math.floor((self._k + 1) * width)
        self._pos = self._rng.randrange(begin, self._end) if self._end > begin else begin


@lru_cache(maxsize=1)
def _jitter_table() -> tuple[np.ndarray, np.ndarray]:
    """(spread / ptime, jitter / ptime) for the emission model, from a seeded simulation."""
    rng = np.random.default_rng(20240601)
    n = 20000
    t = np.arange(n, dtype=float)
    xs = np.arange(0.0, 40.01, 0.25)
    ys = []
    for x in xs:
        send = t + rng.uniform(0.0, x, n) if x else t
        order = np.argsort(send, kind="stable")
        transit = send[order] - t[order]
        ys.append(float(np.abs(np.diff(transit)).mean()))
    return xs, np.maximum.accumulate(np.asarray(ys))


def calibrate() -> None:
    """Build the spread/jitter table now (cached for the process); safe to call from any thread."""
    _jitter_table()


def spread_for(jitter_ms: float, ptime_ms: float = 20.0) -> float:
    """Width (ms) of the uniform extra delay that yields ``jitter_ms`` of RFC 3550 jitter."""
    if jitter_ms <= 0:
        return 0.0
    ptime_ms = ptime_ms if ptime_ms > 0 else 20.0
    xs, ys = _jitter_table()
    ratio = jitter_ms / ptime_ms
    if ratio > ys[-1]:  # beyond the table: the relation is linear there
        return float(xs[-1] * ratio / ys[-1] * ptime_ms)
    return float(np.interp(ratio, ys, xs) * ptime_ms)


class Rfc3550Jitter:
    """The RFC 3550 A.8 interarrival jitter estimator, in ms; ``mean`` is what pjmedia reports."""

    def __init__(self, skip_first: int = 25) -> None:
        self._skip = skip_first
        self._seen = 0
        self._last_transit: float | None = None
        self.value = 0.0
        self._sum = 0.0
        self._n = 0

    def update(self, arrival_ms: float, media_ms: float) -> None:
        transit = arrival_ms - media_ms
        self._seen += 1
        if self._last_transit is not None and self._seen > self._skip:
            self.value += (abs(transit - self._last_transit) - self.value) / 16.0
            self._sum += self.value
            self._n += 1
        self._last_transit = transit

    @property
    def mean(self) -> float:
        return self._sum / self._n if self._n else 0.0
