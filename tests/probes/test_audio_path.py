"""Audio-path verdicts with the real prober against the demo target's audio modes (issue 13, section 2/4).

``--mute`` answers and sends RTP carrying silence: the call is UNHEALTHY "one-way audio"; ``--no-rtp``
answers and sends nothing: "no audio received" as before; ``--prompt FILE`` plays a file instead of
echoing, and what comes back is that file, not our own reference.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from callmeter_tui.domain.health import HealthState
from callmeter_tui.domain.probe import ProbeKind, ProbeSpec
from callmeter_tui.domain.thresholds import evaluate
from callmeter_tui.probes import run_once
from tests.fixtures.sip import HOST as LOOPBACK

pytestmark = pytest.mark.peers


def call(port: int, seconds: float = 3.0) -> ProbeSpec:
    return ProbeSpec(
        name="path",
        kind=ProbeKind.SIP_CALL,
        target=f"sip:echo@{LOOPBACK}:{port}",
        timeout_s=5.0,
        call_duration_s=seconds,
    )


async def test_muted_far_end_is_one_way_audio_and_unhealthy(make_demo_target) -> None:
    res = await run_once(call(make_demo_target(mute=True).port), sip_bind=LOOPBACK)
    assert not res.ok
    assert res.error == "one-way audio: no speech received"
    assert res.details["packets_received"] > 50, "RTP did come back"
    assert evaluate(res, {}).state is HealthState.UNHEALTHY
    assert "mos_lqo" not in res.metrics and res.details["mos_lqo_unavailable"] == "no speech received"
    picture = res.details["audio_envelope"]  # the drill-down's picture: speech sent, a flat line back
    assert max(picture["sent"]) > -30 and max(picture["received"]) < -50, picture


async def test_no_rtp_far_end_is_no_audio_received(make_demo_target) -> None:
    res = await run_once(call(make_demo_target(no_rtp=True).port, 2.0), sip_bind=LOOPBACK)
    assert not res.ok and res.error == "no audio received"
    assert res.details["call_answered"] is True


async def test_clean_echo_is_heard_with_its_delay(make_demo_target) -> None:
    """The same line with 150 ms added on the return path: audio_delay_ms grows by those 150 ms."""
    plain = await run_once(call(make_demo_target().port, 4.0), sip_bind=LOOPBACK)
    late = await run_once(call(make_demo_target(delay_ms=150).port, 4.0), sip_bind=LOOPBACK)
    assert plain.ok and late.ok, (plain.error, late.error)
    assert plain.metrics["silence_pct"] < 10
    assert 130 <= late.metrics["audio_delay_ms"] - plain.metrics["audio_delay_ms"] <= 190, (plain.metrics, late.metrics)


def test_demo_target_help_lists_the_audio_modes() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "callmeter_tui.cli", "demo-target", "--help"], capture_output=True, text=True, timeout=60
    ).stdout
    for flag in ("--mute", "--no-rtp", "--prompt FILE"):
        assert flag in out, out


def test_demo_target_refuses_an_unreadable_prompt(tmp_path) -> None:
    bad = tmp_path / "prompt.wav"
    bad.write_text("not audio")
    res = subprocess.run(
        [sys.executable, "-m", "callmeter_tui.cli", "demo-target", "--port", "0", "--prompt", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 2
    assert res.stderr.startswith("demo-target: --prompt: not a readable WAV file"), res.stderr
