"""The listening judge without a call: alignment and delay on a known delayed signal, silence on a dropout,
and a scorer failure that leaves mos_lqo out with a one-line reason instead of failing."""

from __future__ import annotations

import numpy as np
import pytest

from callmeter_tui.domain.audio import Pcm, loop_slice, read_wav
from callmeter_tui.probes import listening
from callmeter_tui.probes.signal import REFERENCE_SPEECH

REF = str(REFERENCE_SPEECH)


def delayed(ms: float, seconds: float = 6.0, start: int = 0) -> Pcm:
    ref = read_wav(REF)
    sent = loop_slice(ref.samples, start, int(seconds * ref.rate))
    lag = int(ms * ref.rate / 1000)
    return Pcm(np.concatenate([np.zeros(lag), sent[: len(sent) - lag]]) * 0.8, ref.rate)


@pytest.fixture
def fake_scorer(monkeypatch):
    calls = []

    def score(sent, got):
        calls.append((sent, got))
        return 4.0

    monkeypatch.setattr(listening, "visqol_score", score)
    return calls


def test_delay_is_measured_to_the_millisecond_and_the_pair_is_aligned(fake_scorer) -> None:
    heard = listening.hear(REF, delayed(137.0, start=20000), 20000)
    assert heard.audio_delay_ms == pytest.approx(137.0, abs=1.0)
    assert heard.mos_lqo == 4.0 and heard.silence_pct == 0.0 and heard.clipping_pct == 0.0
    sent, got = fake_scorer[0]
    assert np.corrcoef(sent, got)[0, 1] > 0.99


def test_a_dropout_counts_as_silence(fake_scorer) -> None:
    pcm = delayed(40.0)
    samples = pcm.samples.copy()
    samples[2 * pcm.rate : 4 * pcm.rate] = 0.0  # two of six seconds lost
    heard = listening.hear(REF, Pcm(samples, pcm.rate), 0)
    assert 25 <= heard.silence_pct <= 45, heard


def test_a_scorer_failure_is_a_reason_not_a_failure(monkeypatch) -> None:
    def broken(sent, got):
        raise RuntimeError("model\nfile gone")

    monkeypatch.setattr(listening, "visqol_score", broken)
    details: dict = {}
    pcm = delayed(40.0)
    raw = (np.round(pcm.samples * 32767).astype("<i2")).tobytes()
    heard = listening.listen_to_call(REF, raw, pcm.rate, 0, details)
    assert heard.speech and heard.mos_lqo is None and heard.audio_delay_ms == pytest.approx(40.0, abs=1.0)
    assert details["mos_lqo_unavailable"] == "ViSQOL: RuntimeError: model file gone"
    assert "mos_lqo" not in heard.metrics()


def test_silence_back_is_no_speech() -> None:
    heard = listening.hear(REF, Pcm(np.zeros(16000 * 4), 16000), 0)
    assert not heard.speech and heard.reason == "no speech received"


def test_the_scoring_process_only_takes_cpu_nothing_else_wants() -> None:
    """nice 19 alone still let back-to-back scoring multiply OPTIONS lateness (bench_listening.py --with-engine)."""
    import os
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from callmeter_tui.probes.scorer_process import _child_init

    with ProcessPoolExecutor(1, mp_context=get_context("spawn"), initializer=_child_init) as pool:
        assert pool.submit(os.sched_getscheduler, 0).result(timeout=60) == os.SCHED_IDLE
        assert pool.submit(os.nice, 0).result(timeout=60) == 19
