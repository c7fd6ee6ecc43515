"""The drill-down's trace read through the monitor (what the Trace tab calls): a run's trace from the prober,
stored by the runner, read back decoded; the latest run by default; None for an unknown execution."""

from __future__ import annotations

import time

from callmeter_tui.config.model import Config
from callmeter_tui.domain.results import ProbeResult
from callmeter_tui.domain.siptrace import Direction, SipMessage, trace_blob
from callmeter_tui.engine.monitor import Monitor
from tests.engine.test_actions import PROBE
from tests.engine.test_monitor import Clock, ScriptedProber


class TracingProber(ScriptedProber):
    """Each run carries a one-message trace naming the run's number in its Call-ID."""

    async def run(self, spec, password=None) -> ProbeResult:  # type: ignore[no-untyped-def]
        result = await super().run(spec, password)
        text = f"OPTIONS sip:x SIP/2.0\r\nCall-ID: run-{len(self.calls)}\r\nCSeq: 1 OPTIONS\r\n\r\n"
        result.trace = trace_blob([SipMessage(1, Direction.TX, "UDP", "127.0.0.1:1", "127.0.0.1:5060", text)])
        return result


async def test_monitor_reads_back_the_trace_the_runner_stored(database) -> None:  # type: ignore[no-untyped-def]
    clock = Clock(time.time() - 3600)
    m = Monitor(
        Config(database_url=database.url, probes=(PROBE,)), database, TracingProber(clock), clock=clock, watchdog_s=3600
    )
    await m.start()
    try:
        pid = m.probe_views()[0].id
        for _ in range(2):
            clock.t += 60
            await m.run_now(pid)
        latest = await m.execution_trace(pid)
        assert latest is not None and latest.ok and latest.trace.messages[0].call_id == "run-2"
        detail = await m.probe_detail(pid)
        first = await m.execution_trace(pid, detail.executions[-1].id)
        assert first is not None and first.trace.messages[0].call_id == "run-1"
        assert await m.execution_trace(pid, 10_000) is None
    finally:
        await m.stop()
