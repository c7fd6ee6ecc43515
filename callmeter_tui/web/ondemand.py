"""Answers built on request, off the loop, and kept a few seconds: /metrics and the uptime history.

Why apart from the page cache: these are not re-rendered on bus events (reading a year of spans or every
probe's metrics for nobody would be waste); the first request after ``max_age`` builds them again. One
mechanism for both, so the expiry, the bound on unknown keys and the "not found" answer are written once.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from .cache import Answers, answers, make_asset
from .metrics import CONTENT_TYPE as METRICS_TYPE
from .metrics import UPTIME_WINDOW_DAYS, prometheus_text
from .snapshot import load_probe_metrics
from .uptime_history import load_history, render_history

HISTORY_MAX_AGE = 10  # seconds an uptime history page is kept (it reads a year of spans)
METRICS_MAX_AGE = 1.0  # seconds /metrics is kept (a scrape storm reads the database once a second)


class OnDemand:
    """key -> (monotonic time built, answers or None for "no such thing"), kept ``max_age`` seconds."""

    def __init__(self, max_age: float, limit: Callable[[], int] = lambda: 64) -> None:
        self.max_age = max_age
        self._limit = limit  # unknown keys (e.g. made-up slugs) must not grow it forever
        self._kept: dict[str, tuple[float, Answers | None]] = {}

    def previous(self, key: str) -> Answers | None:
        kept = self._kept.get(key)
        return kept[1] if kept is not None else None

    def forget(self, keys: list[str] | tuple[str, ...] | None = None) -> None:
        for key in list(self._kept) if not keys else keys:
            self._kept.pop(key, None)

    async def get(self, key: str, build: Callable[[], Awaitable[Answers | None]]) -> Answers | None:
        kept = self._kept.get(key)
        if kept is None or time.monotonic() - kept[0] > self.max_age:
            kept = (time.monotonic(), await build())
            self._kept[key] = kept
            if len(self._kept) > self._limit():
                self._kept = {key: kept}
        return kept[1]


def metrics_answers(db: Any, now: float, fixed: Mapping[str, str]) -> Answers:
    """Prometheus text for every probe (blocking: run it off the loop)."""
    since = now - UPTIME_WINDOW_DAYS * 86400.0
    with db.session() as session:
        probes = load_probe_metrics(session, since, now)
    return answers(
        make_asset(prometheus_text(probes, since, now), METRICS_TYPE, 0, now), fixed, cache_control="no-store"
    )


def history_answers(
    db: Any, slug: str, now: float, css_version: str, fixed: Mapping[str, str], previous: Answers | None
) -> Answers | None:
    """The page's month-by-month uptime (blocking); None when there is no such page."""
    with db.session() as session:
        history = load_history(session, slug, now)
    if history is None:
        return None
    body = render_history(history, css_version)
    asset = make_asset(body, "text/html; charset=utf-8", HISTORY_MAX_AGE, now, previous.asset if previous else None)
    return answers(asset, fixed)
