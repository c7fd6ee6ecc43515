"""What a probe run returns, and what the threshold rule makes of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .health import HealthState


@dataclass
class ProbeResult:
    """One probe run as the prober saw it: plain data, no judgement on thresholds.

    ``ok`` is False when the probe itself failed (timeout, error, unexpected SIP final code);
    ``error`` then holds a one-line reason. ``metrics`` holds only what was measured.
    """

    ok: bool
    started_at: float
    duration_ms: float
    metrics: dict[str, float] = field(default_factory=dict)
    sip_code: int | None = None
    sip_reason: str = ""
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    trace: bytes | None = None  # the run's SIP messages, redacted and compressed (domain/siptrace.py)

    @classmethod
    def failure(cls, started_at: float, duration_ms: float, error: str, **kw: Any) -> ProbeResult:
        return cls(ok=False, started_at=started_at, duration_ms=duration_ms, error=error, **kw)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "started_at": self.started_at,
            "duration_ms": self.duration_ms,
            "metrics": dict(self.metrics),
            "sip_code": self.sip_code,
            "sip_reason": self.sip_reason,
            "error": self.error,
            "details": dict(self.details),
            "trace": self.trace,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ProbeResult:
        return cls(**d)


@dataclass
class Evaluation:
    """The threshold rule's verdict on one execution."""

    state: HealthState
    breaches: list[dict[str, Any]] = field(default_factory=list)
