"""Names reach the plain log quoted (%r): a name stored before check refused control characters cannot
forge a log line."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from tests.engine.test_monitor import PBX, Clock, _monitor, _pid, _steps


async def test_transition_log_lines_quote_names(database, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    name = "PBX\n2026-01-01 callmeter_tui: INFO all good: UNHEALTHY -> HEALTHY\x1b[2K"
    spec = dataclasses.replace(PBX, name=name, webhooks=())
    clock = Clock()
    m, prober = await _monitor(database, clock, spec)
    try:
        prober.script[name] = ["ok", "fail"]
        with caplog.at_level(logging.INFO):
            await _steps(m, clock, _pid(m, name), 3)
    finally:
        await m.stop()
    lines = [r.getMessage() for r in caplog.records if "PBX" in r.getMessage()]
    assert lines, "the transition was logged"
    assert all("\n" not in line and "\x1b" not in line for line in lines), lines
