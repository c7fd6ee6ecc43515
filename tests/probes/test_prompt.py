"""IVR greeting checks (issue 13): ``expect_prompt`` compares what the far end plays after answer with a
file; metric ``prompt_match`` (0-1). The demo target's ``--prompt FILE`` plays the greeting."""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

import pytest

from callmeter_tui.domain.health import HealthState
from callmeter_tui.domain.probe import ProbeKind, ProbeSpec
from callmeter_tui.domain.thresholds import Threshold, evaluate
from callmeter_tui.probes import run_once
from tests.fixtures.sip import HOST as LOOPBACK

pytestmark = pytest.mark.peers


def greeting(path: Path, seconds: float = 3.5, rate: int = 16000) -> Path:
    """A made-up greeting: gliding tone syllables (no speech of ours, so an echo cannot match it)."""
    frames = []
    for i in range(int(seconds * rate)):
        t = i / rate
        env = math.sin(math.pi * (t % 0.3) / 0.3) if (t % 0.3) < 0.3 else 0.0
        f = 300 + 900 * ((t * 1.7) % 1.0)
        frames.append(struct.pack("<h", int(9000 * env * math.sin(2 * math.pi * f * t))))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(frames))
    return path


def ivr_call(port: int, prompt: Path) -> ProbeSpec:
    return ProbeSpec(
        name="ivr",
        kind=ProbeKind.SIP_CALL,
        target=f"sip:ivr@{LOOPBACK}:{port}",
        timeout_s=5.0,
        call_duration_s=5.0,
        expect_prompt=str(prompt),
        thresholds={"prompt_match": Threshold(critical=0.6)},
    )


async def test_the_expected_greeting_matches_and_an_echo_does_not(make_demo_target, tmp_path: Path) -> None:
    prompt = greeting(tmp_path / "welcome.wav")
    ivr = make_demo_target(prompt=str(prompt))
    good = await run_once(ivr_call(ivr.port, prompt), sip_bind=LOOPBACK)
    assert good.ok, good.error
    assert good.metrics["prompt_match"] >= 0.8, good.metrics
    assert "mos_lqo" not in good.metrics
    assert evaluate(good, ivr_call(ivr.port, prompt).thresholds).state is HealthState.HEALTHY

    echo = make_demo_target()
    wrong = await run_once(ivr_call(echo.port, prompt), sip_bind=LOOPBACK)
    assert wrong.ok, wrong.error
    assert wrong.metrics["prompt_match"] < 0.5, wrong.metrics
    assert evaluate(wrong, ivr_call(echo.port, prompt).thresholds).state is HealthState.UNHEALTHY
