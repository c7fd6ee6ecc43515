"""Engine at scale: 1,000 and 10,000 OPTIONS probes (60 s interval) from one process against local
demo targets (separate processes). Prints schedule lateness (actual prober start minus the planned
start, p50/p99), executions per second, CPU and memory of the node (main process + pjsua2 workers).

Usage: python bench/bench_engine.py [--probes 1000 10000] [--seconds 75]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from apscheduler.events import EVENT_JOB_SUBMITTED
from results import load_note, record  # bench/ is on sys.path when this file runs as a script

from callmeter_tui.commands.runtime import Runtime
from callmeter_tui.config.model import Config, EngineSettings
from callmeter_tui.domain.probe import ProbeKind, ProbeSpec

TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children_of(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


async def run_scale(
    n: int, seconds: float, ports: list[int], sip_traces: bool = True, *, keep: bool = True
) -> tuple[float, float]:
    """Run ``n`` OPTIONS probes for ``seconds``; print and (``keep``) record the figures; (p50, p99) lateness, ms."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-engine-"))
    probes = tuple(
        ProbeSpec(
            name=f"p{i:05d}",
            kind=ProbeKind.SIP_OPTIONS,
            target=f"sip:127.0.0.1:{ports[i % len(ports)]}",
            interval_s=60.0,
            timeout_s=5.0,
        )
        for i in range(n)
    )
    config = Config(
        project_name="bench",
        database_url=f"sqlite:///{tmp / 'bench.db'}",
        probes=probes,
        engine=EngineSettings(max_concurrency=256, call_concurrency=4, sip_traces=sip_traces),
    )
    rt = Runtime(config, start_web=False, start_dispatcher=False)
    planned: dict[str, float] = {}
    lateness: list[float] = []
    at: list[float] = []  # when each lateness was seen (wall clock): where in the run the late ones fall
    ok = [0, 0]
    name_to_job: dict[str, str] = {}
    real_run = rt.prober.run

    async def timed_run(spec, password=None):  # type: ignore[no-untyped-def]
        if not name_to_job:
            name_to_job.update({sp.name: f"probe-{pid}" for pid, sp in rt.monitor._specs.items()})
        jid = name_to_job.get(spec.name)
        if jid in planned:
            now = time.time()
            lateness.append((now - planned.pop(jid)) * 1000)
            at.append(now)
        result = await real_run(spec, password)
        ok[0 if result.ok else 1] += 1
        return result

    rt.prober.run = timed_run  # type: ignore[method-assign]
    rt.monitor.runner.prober = rt.prober

    def on_submit(event) -> None:  # type: ignore[no-untyped-def]
        if event.job_id.startswith("probe-"):
            planned[event.job_id] = event.scheduled_run_times[-1].timestamp()

    rt.monitor.schedule.scheduler.add_listener(on_submit, EVENT_JOB_SUBMITTED)
    t_start, wall_start = time.perf_counter(), time.time()
    await rt.start()
    t_started = time.perf_counter() - t_start
    lags: list[float] = []
    lag_task = asyncio.create_task(loop_lag(lags))
    me = os.getpid()
    cpu0 = cpu_s(me) + sum(cpu_s(c) for c in children_of(me))
    w0 = time.perf_counter()
    await asyncio.sleep(seconds)
    wall = time.perf_counter() - w0
    kids = children_of(me)
    cpu1 = cpu_s(me) + sum(cpu_s(c) for c in kids)
    rss = rss_mb(me) + sum(rss_mb(c) for c in kids)
    lag_task.cancel()
    await rt.stop()
    done = ok[0] + ok[1]
    p50, p99 = pct(lateness, 0.5), pct(lateness, 0.99)
    print(
        f"probes={n:>6}  start-up {t_started:5.1f}s  runs={done} ({done / wall:.1f}/s, {ok[1]} failed)  "
        f"lateness p50={p50:.1f}ms p99={p99:.1f}ms max={max(lateness or [0]):.0f}ms  "
        f"CPU={100 * (cpu1 - cpu0) / wall:.0f}% of one core  RSS={rss:.0f}MB (main+{len(kids)} workers)  "
        f"peak main RSS={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}MB"
    )
    print(f"  event loop lag (a 10 ms sleep's overshoot): p99 {pct(lags, 0.99):.1f} ms, max {max(lags or [0]):.0f} ms")
    print(f"  p99 per 10 s of the run (from the start of start-up): {timeline(at, lateness, wall_start)}")
    if not keep:
        return p50, p99
    record(
        f"engine.lateness_p99_ms.{n}" + ("" if sip_traces else ".no_sip_traces"),
        round(p99, 1),
        "ms",
        label=(
            f"schedule lateness p99, {n:,} OPTIONS probes at 60 s on one node"
            f"{'' if sip_traces else ', SIP traces off'} (p50 {p50:.1f} ms, "
            f"{done / wall:.0f} runs/s, {100 * (cpu1 - cpu0) / wall:.0f} % of a core, {rss:.0f} MB RSS; bench_engine.py)"
        ),
        higher_is_better=False,
        note=f"{load_note()}; {seconds:.0f} s run",
    )
    return p50, p99


async def loop_lag(out: list[float], period: float = 0.01) -> None:
    """How late the loop wakes a sleeper: what every callback on the loop (a scheduled run too) waits."""
    while True:
        t = time.perf_counter()
        await asyncio.sleep(period)
        out.append((time.perf_counter() - t - period) * 1000)


def timeline(at: list[float], lateness: list[float], t0: float, step: float = 10.0) -> str:
    """Lateness p99 per ``step`` seconds of the run: spikes at start-up read differently from steady ones."""
    windows: dict[int, list[float]] = {}
    for t, late in zip(at, lateness):
        windows.setdefault(int((t - t0) // step), []).append(late)
    return "  ".join(f"{int(k * step)}s:{pct(v, 0.99):.0f}ms" for k, v in sorted(windows.items()))


@contextlib.contextmanager
def demo_targets(count: int) -> Iterator[list[int]]:
    """``count`` demo-target processes on free local ports (their ports), ended on exit."""
    ports = [free_port() for _ in range(count)]
    targets = [
        subprocess.Popen(
            [sys.executable, "-m", "callmeter_tui.cli", "demo-target", "--port", str(p)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for p in ports
    ]
    time.sleep(2)
    try:
        yield ports
    finally:
        for t in targets:
            t.terminate()
            t.wait()


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--probes", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--seconds", type=float, default=75.0)
    ap.add_argument("--targets", type=int, default=2)
    ap.add_argument("--sip-traces", choices=("on", "off"), default="on", help="[engine] sip_traces for the run")
    args = ap.parse_args()
    with demo_targets(args.targets) as ports:
        print(
            f"# {os.cpu_count()} cores; {args.targets} demo-target processes; interval 60 s; run {args.seconds:.0f} s each"
        )
        for n in args.probes:
            await run_scale(n, args.seconds, ports, args.sip_traces == "on")


if __name__ == "__main__":
    asyncio.run(main())
