"""DTMF on a test call (issue 13): "159#" comes back exactly on a clean line, in RFC 4733 events, in-band tones and SIP
INFO, through the real prober and the demo target (which echoes both); missing, extra and wrong digits each
count one error."""

from __future__ import annotations

import pytest

from callmeter_tui.domain.dtmf import dtmf_errors
from callmeter_tui.domain.probe import DtmfMode, ProbeKind, ProbeSpec
from callmeter_tui.domain.thresholds import Threshold, evaluate
from callmeter_tui.probes import run_once
from tests.fixtures.sip import HOST as LOOPBACK

pytestmark = pytest.mark.peers


def call(port: int, mode: DtmfMode) -> ProbeSpec:
    return ProbeSpec(
        name=f"dtmf {mode}",
        kind=ProbeKind.SIP_CALL,
        target=f"sip:echo@{LOOPBACK}:{port}",
        timeout_s=5.0,
        call_duration_s=4.0,
        dtmf="159#",
        dtmf_mode=mode,
    )


@pytest.mark.parametrize("mode", [DtmfMode.RFC4733, DtmfMode.INBAND, DtmfMode.INFO])
async def test_digits_come_back_exactly_on_a_clean_line(demo_target, mode: DtmfMode) -> None:
    res = await run_once(call(demo_target.port, mode), sip_bind=LOOPBACK)
    assert res.ok, res.error
    assert res.details["dtmf_sent"] == "159#" and res.details["dtmf_received"] == "159#", res.details
    assert res.metrics["dtmf_errors"] == 0
    assert res.metrics["silence_pct"] < 5, "the digits go out after the speech that is judged"
    assert evaluate(res, {"dtmf_errors": Threshold(critical=0)}).breaches == []


def test_dtmf_errors_count_missing_extra_and_wrong_digits() -> None:
    assert dtmf_errors("159#", "159#") == 0
    assert dtmf_errors("159#", "19#") == 1
    assert dtmf_errors("159#", "1590#") == 1
    assert dtmf_errors("159#", "158#") == 1
    assert dtmf_errors("159#", "") == 4


def test_inband_detector_reads_tones_in_noise_and_ignores_speech() -> None:
    import numpy as np

    from callmeter_tui.domain.audio import read_wav
    from callmeter_tui.domain.dtmf import COLS, KEYPAD, ROWS, detect_inband
    from callmeter_tui.probes.signal import REFERENCE_SPEECH

    rate = 16000
    t = np.arange(int(0.1 * rate)) / rate

    def tone(d: str) -> np.ndarray:
        r = next(i for i, row in enumerate(KEYPAD) if d in row)
        return 0.2 * np.sin(2 * np.pi * ROWS[r] * t) + 0.2 * np.sin(2 * np.pi * COLS[KEYPAD[r].index(d)] * t)

    digits = np.concatenate([np.concatenate([tone(d), np.zeros(1600)]) for d in "1599#*0D"])
    noise = np.random.default_rng(1).normal(0, 0.01, len(digits))
    assert detect_inband(digits + noise, rate) == "1599#*0D"
    assert detect_inband(read_wav(str(REFERENCE_SPEECH)).samples, rate) == ""
