"""CPU seconds to score one call's received audio (MOS-LQO, ViSQOL speech mode) in a prober worker.

The received audio of a default 15 s call is simulated offline: the reference speech looped for 15 s,
G.711 mu-law at 8 kHz, with a 40 ms delay. Scored exactly as after a real call (``listening.hear``:
alignment, silence/clipping, ViSQOL on at most MAX_SCORED_S). Prints figures, asserts nothing; the
first score includes building the scorer once per worker (model load), reported apart.

Run: .venv/bin/python bench/bench_listening.py [runs]
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

from callmeter_tui.domain.audio import Pcm, loop_slice, read_wav
from callmeter_tui.probes import listening
from callmeter_tui.probes.signal import REFERENCE_SPEECH


def received_call(seconds: float = 15.0, delay_ms: float = 40.0) -> Pcm:
    ref = read_wav(str(REFERENCE_SPEECH))
    sent = loop_slice(ref.samples, 0, int(seconds * ref.rate))
    nb = listening.resample(sent, ref.rate, 8000)
    mu = 255.0
    y = np.round(np.sign(nb) * np.log1p(mu * np.abs(nb)) / np.log1p(mu) * 127.0) / 127.0
    back = listening.resample(np.sign(y) * ((1.0 + mu) ** np.abs(y) - 1.0) / mu, 8000, ref.rate)
    lag = int(delay_ms * ref.rate / 1000)
    return Pcm(np.concatenate([np.zeros(lag), back[: len(back) - lag]]), ref.rate)


def main(runs: int) -> None:
    # In a worker the score runs in its scoring child process; here in this one, so process_time counts it.
    listening.visqol_score = listening.visqol_score_here  # type: ignore[assignment]
    call = received_call()
    t = time.process_time()
    listening._visqol()
    build = time.process_time() - t
    cpu, heard = [], None
    for _ in range(runs):
        t = time.process_time()
        heard = listening.hear(str(REFERENCE_SPEECH), call, 0)
        cpu.append(time.process_time() - t)
    assert heard is not None
    print(f"scorer: ViSQOL speech mode, {listening.mapper()} mapper; built once per worker in {build:.2f} s CPU")
    print(
        f"one 15 s call (scored on {listening.MAX_SCORED_S:g} s): median {statistics.median(cpu):.2f} s CPU, "
        f"min {min(cpu):.2f}, max {max(cpu):.2f} over {runs} runs"
    )
    print(f"MOS-LQO {heard.mos_lqo}, audio delay {heard.audio_delay_ms} ms, silence {heard.silence_pct} %")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
