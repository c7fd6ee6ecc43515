"""Events the engine publishes; the TUI, the web pages and the webhook dispatcher subscribe.

No subscriber polls the database on a timer for fresh state: they react to these.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..domain.health import HealthState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExecutionRecorded:
    """A probe run was stored. ``state`` is the probe's confirmed state after it (confirm=N applied)."""

    probe_id: int
    probe_name: str
    execution_id: int | None
    at: float
    state: HealthState
    execution_state: HealthState
    metrics: dict[str, float] = field(default_factory=dict)
    breaches: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    sip_code: int | None = None
    duration_ms: float = 0.0


@dataclass(frozen=True)
class StateChanged:
    """A probe's confirmed state changed (a Transition row exists; outbox rows were written with it)."""

    probe_id: int
    probe_name: str
    previous: HealthState
    current: HealthState
    at: float
    transition_id: int
    execution_id: int | None = None


@dataclass(frozen=True)
class ProbesChanged:
    """Probe settings changed (added, edited, paused, removed): views reload their probe list."""

    probe_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class PagesChanged:
    """Status page settings or components changed; ``slugs`` empty means "all"."""

    slugs: tuple[str, ...] = ()


@dataclass(frozen=True)
class NotificationRaised:
    notification_id: int
    level: str
    kind: str
    text: str
    at: float


@dataclass(frozen=True)
class DeliveriesQueued:
    """New outbox rows are due: wakes the webhook dispatcher early."""

    count: int = 1


Event = ExecutionRecorded | StateChanged | ProbesChanged | PagesChanged | NotificationRaised | DeliveriesQueued


class EventBus:
    """In-process fan-out. ``publish`` never blocks; a full subscriber queue drops its oldest event."""

    def __init__(self) -> None:
        self._queues: list[asyncio.Queue[Event]] = []
        self._callbacks: list[Callable[[Event], None]] = []

    def subscribe(self, maxsize: int = 10_000) -> asyncio.Queue[Event]:
        q: asyncio.Queue[Event] = asyncio.Queue(maxsize=maxsize)
        self._queues.append(q)
        return q

    def unsubscribe(self, q: asyncio.Queue[Event]) -> None:
        if q in self._queues:
            self._queues.remove(q)

    def on(self, callback: Callable[[Event], None]) -> None:
        """Call ``callback(event)`` synchronously on publish (same loop); exceptions are logged."""
        self._callbacks.append(callback)

    def publish(self, event: Event) -> None:
        for q in list(self._queues):
            if q.full():
                try:
                    q.get_nowait()
                except asyncio.QueueEmpty:
                    pass
            q.put_nowait(event)
        for cb in list(self._callbacks):
            try:
                cb(event)
            except Exception:  # a broken view must not stop the engine
                log.exception("event callback failed for %s", type(event).__name__)
