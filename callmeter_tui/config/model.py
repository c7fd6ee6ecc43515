"""The validated configuration, as the rest of the app sees it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..domain.defaults import SIP_BIND
from ..domain.maintenance import MaintenanceSpec
from ..domain.probe import ProbeSpec, StatusPageSpec


@dataclass(frozen=True)
class WebSettings:
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 8080
    public_base_url: str = "http://localhost:8080"
    metrics_enabled: bool = False  # GET /metrics (Prometheus), off by default
    frame_ancestors: str = "*"  # CSP frame-ancestors for the public routes
    root_page: str = ""  # a page slug whose /api/v2/* is also served at the host root (Statuspage widgets)


@dataclass(frozen=True)
class WebhookSettings:
    allow_private_targets: bool = False
    ca_bundle: str = ""
    timeout_s: float = 10.0


@dataclass(frozen=True)
class RetentionSettings:
    executions_s: float = 30 * 86400.0
    history_s: float = 400 * 86400.0


@dataclass(frozen=True)
class EngineSettings:
    max_concurrency: int = 64  # probes running at once (all kinds)
    call_concurrency: int = 4  # concurrent sip_call probes (4 per pjsua2 worker process)
    sip_bind: str = SIP_BIND  # local address the prober's SIP/RTP transports bind to
    sip_traces: bool = True  # keep each run's SIP messages (costs ~0.3 ms of worker CPU per run)


@dataclass(frozen=True)
class DashboardSettings:
    theme: str = "dark"  # dark | light | high-contrast
    kiosk_cycle_s: float = 15.0  # --kiosk: seconds per status page / agent
    keys: dict[str, str] = field(default_factory=dict)  # action id -> key, e.g. {"run_now": "R"}


@dataclass(frozen=True)
class Config:
    path: Path | None = None
    project_name: str = "Default Project"
    database_url: str = ""  # "" = SQLite under the XDG data dir
    web: WebSettings = field(default_factory=WebSettings)
    webhooks: WebhookSettings = field(default_factory=WebhookSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    engine: EngineSettings = field(default_factory=EngineSettings)
    dashboard: DashboardSettings = field(default_factory=DashboardSettings)
    probes: tuple[ProbeSpec, ...] = ()
    status_pages: tuple[StatusPageSpec, ...] = ()
    maintenance: tuple[MaintenanceSpec, ...] = ()
    demo: bool = False  # start the built-in demo SIP target too
