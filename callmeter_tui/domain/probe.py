"""What a probe, a webhook and a status page are, independent of where they are declared.

The config loader, the TUI forms and the store all build these; the engine and probes consume them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from .defaults import (
    ACCENT_COLOR,
    BAR_DAYS,
    CALL_DURATION_S,
    LISTENING_BUDGET_S,
    PAGE_REFRESH_S,
    PROBE_INTERVAL_S,
    PROBE_TIMEOUT_S,
)
from .thresholds import Threshold


class ProbeKind(enum.StrEnum):
    """What a probe does. What each kind *means* to the rest of the code is answered here, once."""

    SIP_OPTIONS = "sip_options"
    SIP_REGISTER = "sip_register"
    SIP_CALL = "sip_call"

    @property
    def places_call(self) -> bool:
        """A test call: holds media for ``call_duration_s`` after set-up, takes a worker's call slot and
        records the call, and has an answer-seizure ratio (ASR) over its recent attempts."""
        return self is ProbeKind.SIP_CALL

    @property
    def registers(self) -> bool:
        """REGISTER always needs its own account (username); a call needs one only with credentials or a proxy."""
        return self is ProbeKind.SIP_REGISTER


class DtmfMode(enum.StrEnum):
    """How a test call sends its DTMF digits."""

    RFC4733 = "rfc4733"  # RTP telephone-event packets
    INBAND = "inband"  # tones in the audio
    INFO = "info"  # SIP INFO (application/dtmf-relay)


DTMF_DIGITS = "0123456789*#ABCD"


class WebhookFormat(enum.StrEnum):
    GENERIC = "generic"
    SLACK = "slack"
    PAGERDUTY = "pagerduty"
    TEAMS = "teams"


@dataclass(frozen=True)
class WebhookSpec:
    url: str
    format: WebhookFormat = WebhookFormat.GENERIC
    secret_env: str | None = None
    routing_key_env: str | None = None
    enabled: bool = True
    notify_during_maintenance: bool = False  # false: held during maintenance, one catch-up when it ends


@dataclass(frozen=True)
class ProbeSpec:
    """A probe's settings. Secrets are never held here, only the env var names."""

    name: str
    kind: ProbeKind
    target: str
    interval_s: float = PROBE_INTERVAL_S
    timeout_s: float = PROBE_TIMEOUT_S
    enabled: bool = True
    agent: str = "local"
    username: str | None = None
    password_env: str | None = None
    thresholds: dict[str, Threshold] = field(default_factory=dict)
    confirm: int = 1
    expect_codes: tuple[int, ...] = ()  # sip_options: empty means any 2xx
    codec: str = "PCMU"  # sip_call
    call_duration_s: float = CALL_DURATION_S  # sip_call
    outbound_proxy: str | None = None  # sip_call
    audio_file: str | None = None  # sip_call: WAV to play and score against; None = bundled reference speech
    dtmf: str | None = None  # sip_call: digits sent after answer, e.g. "159#"
    dtmf_mode: DtmfMode = DtmfMode.RFC4733  # sip_call
    expect_prompt: str | None = None  # sip_call: WAV the far end should play after answer (IVR greeting)
    asr_window: int = 20  # sip_call
    webhooks: tuple[WebhookSpec, ...] = ()
    source: str = "config"  # "config" or "interactive"
    group: str = ""  # dashboard grouping

    @property
    def run_budget_s(self) -> float:
        """How long one run may take before its own timeout fires: set-up timeout, plus the held call and the
        scoring of what came back (after hangup, in the worker)."""
        if not ProbeKind(self.kind).places_call:
            return float(self.timeout_s)
        return float(self.timeout_s) + float(self.call_duration_s) + LISTENING_BUDGET_S


@dataclass(frozen=True)
class ComponentSpec:
    probe: str  # probe name
    name: str  # customer-facing name
    sla_target: float | None = None  # monthly uptime target in percent (99.9); None = no target (domain.sla)


@dataclass(frozen=True)
class StatusPageSpec:
    slug: str
    name: str
    description: str = ""
    accent_color: str = ACCENT_COLOR
    logo: str | None = None
    timezone: str = "UTC"
    bar_days: int = BAR_DAYS
    refresh_s: int = PAGE_REFRESH_S
    components: tuple[ComponentSpec, ...] = ()
    count_maintenance_as_downtime: bool = False  # uptime counts maintenance as down instead of leaving it out
