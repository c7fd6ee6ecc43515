"""Turning what pjsip reports into a ProbeResult with a one-line reason (worker and main share it)."""

from __future__ import annotations

import time

from callmeter_tui.domain.results import ProbeResult

# pjsip's own reasons when no response came from the far end (local timeout / transport failure).
LOCAL_EVENT_TIMER = "timer"
LOCAL_EVENT_TRANSPORT = "transport"


class Clock:
    """Wall-clock start for the record, monotonic perf counter for every measured interval."""

    def __init__(self) -> None:
        self.started_at = time.time()
        self.t0 = time.perf_counter()

    def ms(self, since: float | None = None, until: float | None = None) -> float:
        return (
            (until if until is not None else time.perf_counter()) - (since if since is not None else self.t0)
        ) * 1000.0

    def fail(self, error: str, **kw: object) -> ProbeResult:
        return ProbeResult.failure(self.started_at, self.ms(), one_line(error), **kw)

    def answered(self, rt_ms: float, code: int, reason: str, **details: object) -> ProbeResult:
        """A success: the final response ``code`` ``reason`` after ``rt_ms`` (OPTIONS, REGISTER)."""
        return ProbeResult(
            ok=True,
            started_at=self.started_at,
            duration_ms=self.ms(),
            metrics={"response_time_ms": rt_ms},
            sip_code=code,
            sip_reason=reason,
            details=dict(details),
        )


def one_line(text: str, limit: int = 200) -> str:
    """Reasons end up in tables, webhooks and status lines: one line, bounded."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def sip_failure_text(code: int, reason: str) -> str:
    return one_line(f"SIP {code} {reason}".strip())


def pj_error_text(exc: BaseException) -> str:
    """pj.Error carries status/reason/title; keep the human part only."""
    reason = getattr(exc, "reason", None) or str(exc)
    status = getattr(exc, "status", None)
    text = str(reason)
    # pjsua2 reasons look like "Invalid URI (PJSIP_EINVALIDURI) [status=171039]"; drop the tail.
    if "[status=" in text:
        text = text.split("[status=")[0].strip()
    return one_line(f"{text} ({status})" if status and str(status) not in text else text)


def transport_failure(target: str, reason: str) -> str:
    """pjsip's local transport error, saying TLS when the handshake/connection was TLS."""
    low = target.lower()
    tls = low.startswith("sips:") or ";transport=tls" in low
    return one_line(f"transport: {reason}{' (TLS)' if tls else ''}")
