"""One probe, start to finish, for the CLI's ``callmeter-tui probe NAME`` and checks."""

from __future__ import annotations

from callmeter_tui.domain.defaults import SIP_BIND
from callmeter_tui.domain.probe import ProbeSpec
from callmeter_tui.domain.results import ProbeResult

from .pool import ProberPool


async def run_once(
    spec: ProbeSpec, password: str | None = None, *, sip_bind: str = SIP_BIND, sip_traces: bool = True
) -> ProbeResult:
    """Start a one-worker pool, run ``spec``, stop the pool. Never raises."""
    pool = ProberPool(call_concurrency=1, sip_bind=sip_bind, sip_traces=sip_traces)
    try:
        try:
            await pool.start()  # start-up outside the probe's own clock
        except Exception:
            pass
        return await pool.run(spec, password)
    finally:
        await pool.stop()
