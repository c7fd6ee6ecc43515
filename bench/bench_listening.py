"""CPU seconds to score one call's received audio (MOS-LQO, ViSQOL speech mode), and what scoring costs the
engine's OPTIONS timing.

The received audio of a default 15 s call is simulated offline: the reference speech looped for 15 s from
the player's position, G.711 mu-law at 8 kHz, with a 40 ms delay. Each timed call starts at another player
position (as real calls do), so what the scorer remembers between calls is only what it would remember in
a worker (the reference's spectrogram columns), never the last call's received audio. Scored exactly as
after a real call (``listening.hear``: alignment, silence/clipping, ViSQOL on at most MAX_SCORED_S). The
first call of a worker (nothing remembered yet) and building the scorer (model load) are reported apart.

``--with-engine SECONDS``: runs bench_engine's 1,000-OPTIONS engine for SECONDS without, then with, another
process scoring calls back to back the way a prober worker does (its scoring child at nice 19), and prints
both schedule-lateness figures and their ratio (without: the mean of a run before and one after, after a
discarded warm-up run). Prints figures, asserts nothing; records them in
bench/results.json.

Run: .venv/bin/python bench/bench_listening.py [--runs N] [--with-engine SECONDS]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time

import numpy as np
from results import load_note, record  # bench/ is on sys.path when this file runs as a script

from callmeter_tui.domain.audio import Pcm, loop_slice, read_wav
from callmeter_tui.probes import listening
from callmeter_tui.probes.signal import REFERENCE_SPEECH

REF = str(REFERENCE_SPEECH)
PHASE_STEP = 40_009  # samples between the player positions of successive simulated calls
WARM_UP_S = 15.0


def received_call(start: int = 0, seconds: float = 15.0, delay_ms: float = 40.0) -> Pcm:
    """What comes back on a clean PCMU call whose audio connected at player position ``start``."""
    ref = read_wav(REF)
    sent = loop_slice(ref.samples, start, int(seconds * ref.rate))
    nb = listening.resample(sent, ref.rate, 8000)
    mu = 255.0
    y = np.round(np.sign(nb) * np.log1p(mu * np.abs(nb)) / np.log1p(mu) * 127.0) / 127.0
    back = listening.resample(np.sign(y) * ((1.0 + mu) ** np.abs(y) - 1.0) / mu, 8000, ref.rate)
    lag = int(delay_ms * ref.rate / 1000)
    return Pcm(np.concatenate([np.zeros(lag), back[: len(back) - lag]]), ref.rate)


def cpu_figures(runs: int) -> None:
    # In a worker the score runs in its scoring child process; here in this one, so process_time counts it.
    listening.visqol_score = listening.visqol_score_here  # type: ignore[assignment]
    size = len(read_wav(REF).samples)
    t = time.process_time()
    listening._visqol()
    build = time.process_time() - t
    cpu, heard = [], None
    for i in range(runs + 1):
        start = i * PHASE_STEP % size
        call = received_call(start)
        t = time.process_time()
        heard = listening.hear(REF, call, start)
        cpu.append(time.process_time() - t)
    assert heard is not None
    first, rest = cpu[0], cpu[1:]
    median = statistics.median(rest)
    print(f"scorer: ViSQOL speech mode, {listening.mapper()} mapper; built once per worker in {build:.2f} s CPU")
    print(
        f"one 15 s call (scored on {listening.MAX_SCORED_S:g} s): median {median:.2f} s CPU, "
        f"min {min(rest):.2f}, max {max(rest):.2f} over {runs} calls; a worker's first call {first:.2f} s"
    )
    print(f"last call: MOS-LQO {heard.mos_lqo}, audio delay {heard.audio_delay_ms} ms, silence {heard.silence_pct} %")
    record(
        "listening.cpu_s_per_call",
        round(median, 2),
        "s",
        label=(
            f"CPU to score one 15 s call's audio (ViSQOL speech mode, {listening.mapper()} mapper, "
            f"{listening.MAX_SCORED_S:g} s scored; a worker's first call {first:.2f} s; bench_listening.py)"
        ),
        higher_is_better=False,
        note=f"{load_note()}; median of {runs} calls at different player positions",
    )


def score_loop(seconds: float) -> None:
    """Score calls back to back for ``seconds`` as a prober worker does (scoring child at nice 19); one line
    per scored call on stdout."""
    size = len(read_wav(REF).samples)
    calls = [(received_call(i * PHASE_STEP % size), i * PHASE_STEP % size) for i in range(4)]
    rng = np.random.default_rng(0)
    end = time.monotonic() + seconds
    i = 0
    while time.monotonic() < end:
        call, start = calls[i % len(calls)]
        # a fresh call's received audio differs from the last one's: nothing of it is remembered
        fresh = Pcm(call.samples + 1e-5 * rng.standard_normal(len(call.samples)), call.rate)
        heard = listening.hear(REF, fresh, start)
        print(f"scored {heard.mos_lqo}", flush=True)
        i += 1


async def engine_figures(seconds: float) -> None:
    from bench_engine import demo_targets, run_scale

    with demo_targets(2) as ports:
        print("# warm-up run (discarded: the first engine start in a process is slower)")
        await run_scale(1000, WARM_UP_S, ports, keep=False)
        print(f"# 1,000 OPTIONS probes for {seconds:.0f} s without calls being scored")
        before = await run_scale(1000, seconds, ports, keep=False)
        loop = subprocess.Popen(
            [sys.executable, __file__, "--score-loop", str(seconds + 60)], stdout=subprocess.PIPE, text=True
        )
        try:
            time.sleep(5)  # the scoring child is spawned and has built its scorer
            print(f"# the same, for {seconds:.0f} s, while another process scores calls back to back")
            busy = await run_scale(1000, seconds, ports, keep=False)
        finally:
            loop.terminate()
            out, _ = loop.communicate(timeout=30)
        print(f"# again without calls being scored, {seconds:.0f} s")
        after = await run_scale(1000, seconds, ports, keep=False)
    quiet = ((before[0] + after[0]) / 2, (before[1] + after[1]) / 2)  # the machine's load drifts: both sides
    scored = sum(1 for line in out.splitlines() if line.startswith("scored"))
    ratio50, ratio99 = busy[0] / quiet[0], busy[1] / quiet[1]
    print(
        f"without scoring, before: p50 {before[0]:.1f} ms p99 {before[1]:.1f} ms; after: p50 {after[0]:.1f} ms "
        f"p99 {after[1]:.1f} ms"
    )
    print(
        f"lateness without scoring (mean of both) p50 {quiet[0]:.1f} ms p99 {quiet[1]:.1f} ms; while scoring ({scored} calls) "
        f"p50 {busy[0]:.1f} ms p99 {busy[1]:.1f} ms; ratio p50 {ratio50:.2f}, p99 {ratio99:.2f}"
    )
    record(
        "engine.lateness_p99_ms.1000.scoring",
        round(busy[1], 1),
        "ms",
        peer=round(quiet[1], 1),
        peer_name="the same engine, no calls scored",
        higher_is_better=False,
        label=(
            f"schedule lateness p99, 1,000 OPTIONS probes, while a worker scores calls back to back ({scored} "
            f"calls; p50 {busy[0]:.1f} ms vs {quiet[0]:.1f} ms without, ratio {ratio50:.2f}; without = mean of a "
            "run before and one after; bench_listening.py --with-engine)"
        ),
        note=f"{load_note()}; {seconds:.0f} s per run",
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="calls timed after a worker's first")
    ap.add_argument("--with-engine", type=float, metavar="SECONDS", help="also measure OPTIONS lateness")
    ap.add_argument("--score-loop", type=float, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.score_loop:
        score_loop(args.score_loop)
        return
    cpu_figures(args.runs)
    if args.with_engine:
        asyncio.run(engine_figures(args.with_engine))


if __name__ == "__main__":
    main()
