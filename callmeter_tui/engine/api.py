"""What the views (TUI, web) may ask of the running monitor. The engine implements it in monitor.py.

Views read ``probe_views()`` (an in-memory snapshot kept current by the engine, no I/O) and react to
bus events; everything that touches the database goes through the async methods, which run off the
UI loop's tick in worker threads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from ..config.model import Config
from ..domain.probe import ProbeSpec, StatusPageSpec
from .events import EventBus


@dataclass(frozen=True)
class ProbeView:
    """A probe as the views show it: settings summary plus latest result. Immutable snapshot."""

    id: int
    name: str
    kind: str
    target: str
    enabled: bool
    agent: str
    source: str                       # "config" | "interactive"
    group: str
    position: int
    interval_s: float
    state: str                        # confirmed HealthState value
    state_since: float | None
    last_execution_at: float | None
    last_execution_id: int | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    breaches: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    sip_code: int | None = None
    thresholds: dict[str, dict[str, float | None]] = field(default_factory=dict)
    mos_history: tuple[float, ...] = ()   # recent MOS values, oldest first (sparkline)


class MonitorAPI(Protocol):
    config: Config
    bus: EventBus

    def probe_views(self) -> list[ProbeView]: ...
    def web_url(self) -> str | None: ...

    async def run_now(self, probe_id: int) -> None: ...
    async def add_probe(self, spec: ProbeSpec) -> int: ...
    async def update_probe(self, probe_id: int, spec: ProbeSpec) -> None: ...
    async def set_enabled(self, probe_id: int, enabled: bool) -> None: ...
    async def delete_probe(self, probe_id: int) -> None: ...
    async def save_status_page(self, spec: StatusPageSpec, page_id: int | None = None) -> int: ...
    async def delete_status_page(self, page_id: int) -> None: ...
