"""A housekeeping job that overruns its interval skips turns quietly and never runs twice at once."""

from __future__ import annotations

import asyncio
import logging

import pytest

from callmeter_tui.engine.schedule import ProbeSchedule


async def _never_runs(_probe_id: int) -> None:  # no probe jobs in this test
    raise AssertionError


async def test_an_overrunning_periodic_job_skips_turns_without_warnings(caplog: pytest.LogCaptureFixture) -> None:
    running = 0
    most = 0
    turns = 0

    async def slow_poll() -> None:
        nonlocal running, most, turns
        running += 1
        turns += 1
        most = max(most, running)
        await asyncio.sleep(2.5)  # longer than its 1 s interval, as a poll on a loaded writer thread
        running -= 1

    schedule = ProbeSchedule(_never_runs)
    caplog.set_level(logging.DEBUG)
    schedule.add_periodic("maintenance", 1.0, slow_poll, first_in=0.0)
    schedule.start()
    try:
        await asyncio.sleep(4.2)
    finally:
        schedule.shutdown()
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == []
    assert most == 1 and turns == 2  # t=0 and the first turn after 2.5 s; the ones between were skipped
    assert any("turn(s) skipped" in r.getMessage() for r in caplog.records)
