"""What the views (TUI, web) may ask of the running monitor. The engine implements it in monitor.py.

Views read ``probe_views()`` (an in-memory snapshot kept current by the engine, no I/O) and react to
bus events; everything that touches the database goes through the async methods, which run off the
UI loop's tick in worker threads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from ..bus.events import EventBus, NotificationRaised
from ..config.model import Config
from ..domain.health import HealthState
from ..domain.probe import ProbeKind, ProbeSpec, StatusPageSpec, WebhookFormat
from ..domain.siptrace import SipTrace
from ..domain.spans import HealthSpan


@dataclass(frozen=True)
class ProbeView:
    """A probe as the views show it: settings summary plus latest result. Immutable snapshot."""

    id: int
    name: str
    kind: ProbeKind
    target: str
    enabled: bool
    agent: str
    source: str  # "config" | "interactive"
    group: str
    position: int
    interval_s: float
    state: HealthState  # confirmed state
    state_since: float | None
    last_execution_at: float | None
    last_execution_id: int | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    breaches: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    sip_code: int | None = None
    thresholds: dict[str, dict[str, float | None]] = field(default_factory=dict)
    mos_history: tuple[float, ...] = ()  # recent MOS values, oldest first (sparkline)
    spec: ProbeSpec | None = None  # full settings, so edit forms keep fields the summary lacks
    under_maintenance: bool = False  # inside a scheduled maintenance window now


@dataclass(frozen=True)
class HistoryView:
    """Uptime bar and percentage of one probe. ``segments`` are domain.bars.BarSegment, oldest first."""

    probe_id: int
    segments: tuple[Any, ...]
    uptime: str | None  # "99.86" (truncated, two decimals) or None with no monitored time


@dataclass(frozen=True)
class AttemptRow:
    """One HTTP attempt of a webhook delivery."""

    at: float
    http_status: int | None
    error: str | None
    duration_ms: float | None
    success: bool


@dataclass(frozen=True)
class DeliveryView:
    id: int
    created_at: float
    status: str  # pending | in_flight | succeeded | failed
    attempts: int
    last_error: str | None
    is_test: bool
    attempt_log: tuple[AttemptRow, ...] = ()


@dataclass(frozen=True)
class WebhookView:
    id: int
    probe_id: int
    url: str
    format: str
    enabled: bool
    disabled_reason: str | None
    masked_secret: str
    source: str
    deliveries: tuple[DeliveryView, ...] = ()


@dataclass(frozen=True)
class ExecutionRow:
    """One stored probe run, as the drill-down lists it."""

    id: int
    started_at: float
    state: HealthState
    ok: bool
    sip_code: int | None = None
    sip_reason: str | None = None
    error: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    breaches: list[dict[str, Any]] = field(default_factory=list)
    duration_ms: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RecentTransition:
    """A probe's confirmed state changed (``previous`` None: only known to hold since ``at``)."""

    at: float
    probe_id: int
    name: str
    previous: HealthState | None
    current: HealthState


@dataclass(frozen=True)
class TransitionRow:
    at: float
    previous_state: HealthState
    current_state: HealthState


@dataclass(frozen=True)
class ProbeDetail:
    view: ProbeView
    executions: tuple[ExecutionRow, ...]  # newest first
    transitions: tuple[TransitionRow, ...]  # newest first
    incidents: tuple[Any, ...]  # domain.incidents.Incident, newest first
    series: dict[str, tuple[tuple[float, float], ...]]  # metric -> ((t, value), ...) over [since, until], oldest first
    webhooks: tuple[WebhookView, ...]
    since: float = 0.0  # the charts' window
    until: float = 0.0
    means_before: float = 0.0  # points before this are hourly means (mid-hour), after it single runs
    spans: tuple[HealthSpan, ...] = ()  # health along the window, oldest first


@dataclass(frozen=True)
class TraceView:
    """One execution's SIP trace for the drill-down's Trace tab (``error``: why a run failed, or had none)."""

    execution_id: int
    started_at: float
    ok: bool
    error: str | None
    trace: SipTrace


@dataclass(frozen=True)
class StatusPageView:
    id: int
    spec: StatusPageSpec
    source: str


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
    async def list_status_pages(self) -> list[StatusPageView]: ...
    async def schedule_maintenance(
        self,
        page: str | None,
        component: str | None,
        title: str | None,
        start: str | None,
        end: str | None,
        rrule: str | None = None,
    ) -> int:
        """page, component, title, start, end, rrule -> window id; raises domain MaintenanceError (key)."""
        ...

    async def history(self, probe_ids: list[int], mode: str = "days") -> dict[int, HistoryView]:
        """mode "days": 90 daily segments; "hours": last 24 hours in hourly segments."""
        ...

    async def probe_detail(self, probe_id: int, range_s: float = 86400.0) -> ProbeDetail: ...

    async def execution_trace(self, probe_id: int, execution_id: int | None = None) -> TraceView | None: ...

    async def add_webhook(
        self,
        probe_id: int,
        url: str,
        format: WebhookFormat = WebhookFormat.GENERIC,
        routing_key_env: str | None = None,
    ) -> tuple[int, str]:
        """Returns (webhook id, the new secret in full: shown to the operator once)."""
        ...

    async def set_webhook_enabled(self, webhook_id: int, enabled: bool) -> None: ...
    async def rotate_webhook_secret(self, webhook_id: int) -> str: ...
    async def delete_webhook(self, webhook_id: int) -> None: ...
    async def redeliver(self, delivery_id: int) -> int: ...
    async def send_test_event(self, webhook_id: int) -> int: ...
    def recent_notifications(self) -> list[NotificationRaised]: ...
    async def recent_transitions(self, limit: int) -> list[RecentTransition]:
        """Every probe's newest ``limit`` transitions from the store, oldest first (the wall's events panel
        starts with what happened before the dashboard did)."""
        ...
