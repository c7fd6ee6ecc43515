"""Main-process CPU per UDP OPTIONS run: the shared ICMP watcher against a watch socket per run, same run.

The engine's scale limit at 10,000 probes is the main process (one core); this isolates the part of a run it
pays for, A/B in alternating rounds against one demo target (so machine load hits both alike). The pjsua2
worker's CPU is not counted. Prints both figures and records the ratio in bench/results.json.

    .venv/bin/python bench/bench_icmpwatch.py [--runs 400] [--rounds 3] [--in-flight 24]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_engine import free_port
from results import load_note, record

from callmeter_tui.domain.probe import ProbeKind, ProbeSpec
from callmeter_tui.probes import ProberPool


async def batch(pool: ProberPool, spec: ProbeSpec, runs: int, in_flight: int) -> float:
    """Main-process CPU microseconds per run for ``runs`` runs, ``in_flight`` at a time."""
    todo = iter(range(runs))

    async def lane() -> None:
        for _ in todo:
            res = await pool.run(spec)
            assert res.ok, res.error

    cpu0 = time.process_time()
    await asyncio.gather(*(lane() for _ in range(in_flight)))
    return (time.process_time() - cpu0) / runs * 1e6


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=400)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--in-flight", type=int, default=24)
    args = ap.parse_args()
    port = free_port()
    target = subprocess.Popen(
        [sys.executable, "-m", "callmeter_tui.cli", "demo-target", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    pool = ProberPool(4, sip_bind="127.0.0.1", sip_traces=False)
    spec = ProbeSpec(name="o", kind=ProbeKind.SIP_OPTIONS, target=f"sip:127.0.0.1:{port}", timeout_s=5.0)
    shared_watch = pool._icmp.watch
    try:
        await pool.start()
        deadline = time.monotonic() + 30
        while not (await pool.run(spec)).ok:  # the demo target is up
            assert time.monotonic() < deadline, "the demo target did not answer within 30 s"
            await asyncio.sleep(0.5)
        await batch(pool, spec, 50, args.in_flight)  # warm-up
        shared, own = [], []
        for _ in range(args.rounds):
            pool._icmp.watch = shared_watch  # type: ignore[method-assign]
            shared.append(await batch(pool, spec, args.runs, args.in_flight))
            pool._icmp.watch = lambda ip, port: None  # type: ignore[method-assign]  # the per-run socket
            own.append(await batch(pool, spec, args.runs, args.in_flight))
    finally:
        await pool.stop()
        target.terminate()
        target.wait()
    ours, peer = statistics.median(shared), statistics.median(own)
    print(
        f"main-process CPU per OPTIONS run ({args.rounds} rounds x {args.runs} runs, {args.in_flight} in flight): "
        f"shared ICMP watcher {ours:.0f} us, watch socket per run {peer:.0f} us (ratio {ours / peer:.2f}); "
        f"load {os.getloadavg()[0]:.1f}"
    )
    record(
        "engine.main_cpu_us_per_options_run",
        round(ours),
        "us",
        label="main-process CPU per UDP OPTIONS run (the engine's scale limit), median of rounds (bench_icmpwatch.py)",
        peer=round(peer),
        peer_name="the same runs with a watch socket per run (before)",
        higher_is_better=False,
        note=load_note(),
    )


if __name__ == "__main__":
    asyncio.run(main())
