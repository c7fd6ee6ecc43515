"""Loading the wall's history bars: only for the probes on screen, kept out of app.py.

Why: with 1,000 probes the dashboard read the bars of every probe at start and again after each state
change (seconds of CPU at first paint). Now the probes on screen get theirs: missing ones at once (start,
scroll, a page turn, the list growing), stale ones (a state change, the periodic refresh) at most every
5 s. A mixin of CallMeterApp: it uses its ``wall``, ``monitor`` and ``history_refresh_s``.
"""

from __future__ import annotations

import time
from typing import Any

from .plain import notify_plain


class HistoryMixin:
    wall: Any
    monitor: Any
    history_refresh_s: float
    _history_at: float
    _history_loaded: float
    _history_busy: bool
    run_worker: Any

    def _load_history_due(self) -> None:
        """Bars are loaded for the probes on screen: missing ones at once, stale ones (a state change, the
        periodic refresh) at most every 5 s. A slow load is never cancelled by the next one: it finishes first."""
        plist = self.wall.probes
        mono = time.monotonic()
        if mono - self._history_at >= self.history_refresh_s:
            self._history_at = mono
            plist.stale.update(plist.views)
        wanted = plist.wanted_history()
        missing = any(pid not in plist.history for pid in wanted)
        if not wanted or self._history_busy or not (missing or mono - self._history_loaded >= 5):
            return
        self._history_busy, self._history_loaded = True, mono
        self.run_worker(self._load_history(plist.mode, wanted), group="history", exit_on_error=False)

    async def _load_history(self, mode: str, ids: list[int]) -> None:
        try:
            hist = await self.monitor.history(ids, mode)
        except Exception as e:
            notify_plain(self, f"Could not load history: {e}", severity="warning")
            return
        finally:
            self._history_busy = False
        if self.wall.ready:
            self.wall.probes.set_history(hist, mode, ids)
        if self.wall.ready and mode == self.wall.probes.mode:
            self._load_history_due()  # scrolled or paged while loading: the rest of the screen now
        elif self.wall.ready:  # toggled while loading: load the other mode now
            self._history_loaded = -1e9
            self._load_history_due()

    def on_probe_list_scrolled(self, message) -> None:
        if self.wall.ready:
            self._load_history_due()
