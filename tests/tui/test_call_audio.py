"""The drill-down's last-call audio (issue 13): MOS-LQO beside the E-model MOS, audio delay, the DTMF result,
and sent/received envelopes on one time axis, where a one-way call is seen at a glance."""

from __future__ import annotations

import dataclasses

from callmeter_tui.tui.app import CallMeterApp
from callmeter_tui.tui.audio import bar, picture_lines
from tests.tui.fakes import T0, mixed_monitor
from tests.tui.helpers import screen_text
from tests.tui.test_detail import open_detail

SPEECH = [-60.0, -20.0, -12.0, -20.0, -60.0] * 8
SILENT = [-70.0] * 40


def with_last_call(monitor, details: dict, metrics: dict) -> None:
    real = monitor.probe_detail

    async def probe_detail(probe_id: int, range_s: float = 86400.0):
        d = await real(probe_id, range_s)
        first = dataclasses.replace(d.executions[0], details=details, metrics={**d.executions[0].metrics, **metrics})
        return dataclasses.replace(d, executions=(first, *d.executions[1:]))

    monitor.probe_detail = probe_detail


async def test_drill_down_shows_the_last_calls_scores_and_a_one_way_picture() -> None:
    m = mixed_monitor("healthy")
    details = {
        "call_answered": True,
        "dtmf_sent": "159#",
        "dtmf_received": "19#",
        "dtmf_mode": "rfc4733",
        "audio_envelope": {"seconds": 15.0, "sent": SPEECH, "received": SILENT},
    }
    with_last_call(m, details, {"mos": 4.38, "mos_lqo": 3.21, "audio_delay_ms": 33.2, "dtmf_errors": 1.0})
    app = CallMeterApp(m, clock=lambda: T0)
    async with app.run_test(size=(140, 50)) as pilot:
        await pilot.pause()
        await open_detail(pilot, app, "Primary SIP Trunk (US East)")
        text = screen_text(app)
    assert "MOS-LQO 3.21  ·  E-model MOS 4.38  ·  audio delay 33 ms" in text, text
    assert "DTMF (rfc4733): sent 159# → got 19# (1 error)" in text
    lines = text.splitlines()
    sent = next(line for line in lines if line.startswith("sent "))
    received = next(line for line in lines if line.startswith("received"))
    assert "▇" in sent, "speech was sent"
    assert received.strip() == "received", "nothing came back: a flat line on the same axis"
    assert "15.0 s" in text


def test_bars_scale_levels_and_keep_one_time_axis() -> None:
    assert bar([-60.0, -6.0], 4) == "  ██"
    lines = picture_lines({"seconds": 2.0, "sent": [-6.0] * 5, "received": [-60.0] * 5}, 40)
    assert len(lines[0]) == len(lines[1]), "sent and received share the axis"
    assert picture_lines(None, 40) == ["(no audio picture for this call)"]
