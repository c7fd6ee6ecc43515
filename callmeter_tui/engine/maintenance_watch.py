"""Maintenance windows seen by a running serve or dashboard: scheduled or cancelled by another process (the
CLI, another node), starting, ending; and the webhook catch-ups due when one ends.

Why a poll: the CLI is another process writing straight to the database, so no event reaches this one.
One cheap query every POLL_S (row count and latest change, plus which probes are inside a window now)
keeps the page and the dashboard within a few seconds of the truth, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.orm import Session

from ..bus.events import DeliveriesQueued, Event, PagesChanged, ProbesChanged
from ..store.maintenance import active_probe_ids, signature
from ..webhooks.maintenance import catch_up

log = logging.getLogger(__name__)

POLL_S = 2.0  # a change made elsewhere shows within this (plus one page render)


class MaintenanceWatch:
    def __init__(
        self,
        unit_of_work: Callable[[Callable[[Session], Any]], Awaitable[Any]],
        publish: Callable[[Event], None],
        clock: Callable[[], float],
        on_active: Callable[[frozenset[int]], None],
    ) -> None:
        self._uow = unit_of_work
        self._publish = publish
        self._clock = clock
        self._on_active = on_active
        self._signature: tuple[int, float] | None = None
        self.active: frozenset[int] = frozenset()

    def _read(self, s: Session) -> tuple[tuple[int, float], frozenset[int], int]:
        now = self._clock()
        return signature(s), active_probe_ids(s, now), catch_up(s, now)

    async def tick(self) -> None:
        try:
            sig, active, queued = await self._uow(self._read)
        except Exception:
            log.exception("maintenance watch failed")
            return
        moved = active ^ self.active
        if moved:
            self.active = active
            self._on_active(active)
            self._publish(ProbesChanged(tuple(sorted(moved))))
        if sig != self._signature or moved:
            first = self._signature is None
            self._signature = sig
            if not first or moved:
                self._publish(PagesChanged(()))
        if queued:
            log.info("maintenance over: %d webhook catch-up deliveries queued", queued)
            self._publish(DeliveriesQueued(queued))
