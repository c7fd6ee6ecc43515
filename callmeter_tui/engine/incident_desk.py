"""The running node's side of operator incidents: the dashboard's writes, and a watch for everyone else's.

Why a watch: ``callmeter-tui incident ...`` (or another node on the same PostgreSQL) writes straight to
the database, and the bus only carries this process's events. Every ``WATCH_S`` the desk reads the
incidents' revision (two aggregate queries, ``store.incidents.incident_revision``); when it moved, it
publishes ``PagesChanged`` so the page re-renders and the dashboard reloads, well within 5 s. Writes made
here publish at once (for the page's slug) and move the remembered revision, so they render only once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ..bus.events import EventBus, PagesChanged
from ..domain.incident_status import Impact, IncidentStatus, OperatorIncident
from ..store.database import Database, transaction
from ..store.incidents import (
    ComponentChoice,
    incident_page_slugs,
    incident_revision,
    load_incidents,
    open_incident,
    resolve_incident,
    update_incident,
)

log = logging.getLogger(__name__)

WATCH_S = 2.0  # how often the revision is read: changes by other processes show within ~2 s + a render
T = TypeVar("T")


class IncidentDesk:
    def __init__(
        self, db: Database, bus: EventBus, *, clock: Callable[[], float] = time.time, watch_s: float = WATCH_S
    ) -> None:
        self.db, self.bus, self.clock, self.watch_s = db, bus, clock, watch_s
        self._revision: tuple[int, int, float] | None = None
        self._task: asyncio.Task[None] | None = None

    # ---- the watch -------------------------------------------------------------------------------

    async def start(self) -> None:
        self._revision = await asyncio.to_thread(self._read_revision)
        self._task = asyncio.create_task(self._watch(), name="incident-watch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    def _read_revision(self) -> tuple[int, int, float]:
        with self.db.session() as s:
            return incident_revision(s)

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.watch_s)
            try:
                revision = await asyncio.to_thread(self._read_revision)
            except Exception as e:  # the database may be briefly away; the next round tries again
                log.warning("incident watch: cannot read the incidents' revision: %s", e)
                continue
            if revision != self._revision:
                self._revision = revision
                self.bus.publish(PagesChanged(()))

    # ---- reads and writes (off the loop) ---------------------------------------------------------

    async def _write(self, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
        def unit() -> tuple[T, tuple[int, int, float]]:
            with transaction(self.db.sessions) as s:
                result = fn(s, *args, **kw)
            return result, self._read_revision()

        result, self._revision = await asyncio.to_thread(unit)
        return result

    async def incidents(self, slug: str | None = None) -> list[OperatorIncident]:
        def read() -> list[OperatorIncident]:
            with self.db.session() as s:
                return load_incidents(s, slug=slug)

        return await asyncio.to_thread(read)

    async def open(
        self,
        *,
        slug: str,
        title: str,
        message: str,
        impact: Impact = Impact.NONE,
        components: Sequence[ComponentChoice] = (),
        auto: tuple[int, float] | None = None,
    ) -> int:
        """Open an incident (``auto`` = (probe id, start) adopts an automatic one); returns its id."""
        incident_id = await self._write(
            open_incident,
            slug=slug,
            title=title,
            message=message,
            now=self.clock(),
            impact=impact,
            components=components,
            auto=auto,
        )
        self.bus.publish(PagesChanged((slug,)))
        return incident_id

    async def update(self, incident_id: int, *, status: IncidentStatus, message: str) -> None:
        slugs = await self._write(_update_and_slugs, incident_id, status, message, self.clock())
        self.bus.publish(PagesChanged(slugs))

    async def resolve(self, incident_id: int, message: str | None = None) -> None:
        slugs = await self._write(_resolve_and_slugs, incident_id, message, self.clock())
        self.bus.publish(PagesChanged(slugs))


def _update_and_slugs(s: Any, incident_id: int, status: IncidentStatus, message: str, now: float) -> tuple[str, ...]:
    update_incident(s, incident_id, status=status, message=message, now=now)
    return incident_page_slugs(s, incident_id)


def _resolve_and_slugs(s: Any, incident_id: int, message: str | None, now: float) -> tuple[str, ...]:
    resolve_incident(s, incident_id, now=now, message=message)
    return incident_page_slugs(s, incident_id)
