"""Prober figures on this machine (prints, asserts nothing): OPTIONS throughput of one worker and its
CPU, response_time_ms error against sipsak and a raw UDP socket, CPU/RSS per concurrent call, and the
most concurrent calls held cleanly (bounded at 32). Peers: kamailio and baresip on 127.0.0.1.

Run: .venv/bin/python bench/bench_probes.py   (about two minutes)
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from results import load_note, record  # bench/ is on sys.path when this file runs as a script

from callmeter_tui.domain.probe import ProbeKind, ProbeSpec
from callmeter_tui.probes import ProberPool
from tests.probes.conftest import baresip_peer, kamailio_peer, sipsak_options_ms

LOOPBACK = "127.0.0.1"  # the demo targets listen on loopback; so does the prober

TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def raw_options_ms(port: int, count: int) -> list[float]:
    """Reference RTT: a bare UDP socket, timestamps right around sendto/recv."""
    out = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(2)
        lport = s.getsockname()[1]
        for i in range(count):
            msg = (
                f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{lport};branch=z9hG4bKraw{i}{time.time_ns()}\r\n"
                f"From: <sip:raw@127.0.0.1>;tag={i}\r\nTo: <sip:127.0.0.1:{port}>\r\nCall-ID: raw{i}{time.time_ns()}\r\n"
                f"CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
            ).encode()
            t0 = time.perf_counter()
            s.sendto(msg, ("127.0.0.1", port))
            s.recv(4096)
            out.append((time.perf_counter() - t0) * 1000)
            time.sleep(0.01)
    return out


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


async def options_throughput(kam_uri: str, seconds: float = 8.0, in_flight: int = 24) -> None:
    pool = ProberPool(1, sip_bind=LOOPBACK)
    await pool.start()
    (worker,) = pool.workers
    spec = ProbeSpec(name="o", kind=ProbeKind.SIP_OPTIONS, target=kam_uri, timeout_s=2.0)
    done = failed = 0
    stop_at = time.monotonic() + seconds

    async def loop() -> None:
        nonlocal done, failed
        while time.monotonic() < stop_at:
            r = await pool.run(spec)
            done += 1
            failed += not r.ok

    c0w, c0m, t0 = cpu_s(worker.pid), time.process_time(), time.monotonic()
    await asyncio.gather(*(loop() for _ in range(in_flight)))
    dt = time.monotonic() - t0
    cw, cm = cpu_s(worker.pid) - c0w, time.process_time() - c0m
    rss = rss_mb(worker.pid)
    await pool.stop()
    record(
        f"probes.options_per_s.{in_flight}",
        round(done / dt),
        "probes/s",
        label=f"OPTIONS probes through one pjsua2 worker, {in_flight} in flight, to kamailio (bench_probes.py)",
        note=f"{load_note()}; worker CPU {100 * cw / dt:.0f} % of a core; {failed} failed",
    )
    print(
        f"OPTIONS throughput, 1 worker, {in_flight} in flight: {done / dt:.0f} probes/s "
        f"({failed} failed); worker CPU {100 * cw / dt:.0f}% of a core, main process CPU {100 * cm / dt:.0f}%; "
        f"worker RSS {rss:.0f} MB (pjsip keeps each finished UDP transaction ~5 s, Timer K)"
    )


async def timing_error(kam_uri: str, kam_port: int, n: int = 40) -> None:
    pool = ProberPool(1, sip_bind=LOOPBACK)
    await pool.start()
    spec = ProbeSpec(name="o", kind=ProbeKind.SIP_OPTIONS, target=kam_uri, timeout_s=2.0)
    ours = []
    for _ in range(n):
        ours.append((await pool.run(spec)).metrics["response_time_ms"])
        await asyncio.sleep(0.01)
    await pool.stop()
    ref_sipsak = [ms for _, ms in sipsak_options_ms(kam_uri, n)]
    ref_raw = raw_options_ms(kam_port, n)
    for name, xs in (("callmeter response_time_ms", ours), ("sipsak", ref_sipsak), ("raw UDP socket", ref_raw)):
        print(f"  {name:<28} median {statistics.median(xs):.3f} ms  p95 {pct(xs, 0.95):.3f} ms  (n={len(xs)})")
    print("  (sipsak prints sub-millisecond times coarsely, often 0.00x ms: the raw socket is the fair reference)")
    record(
        "probes.options_response_ms",
        round(statistics.median(ours), 3),
        "ms",
        label="OPTIONS response_time_ms to kamailio on 127.0.0.1, median (bench_probes.py)",
        peer=round(statistics.median(ref_raw), 3),
        peer_name="raw UDP socket, same requests",
        higher_is_better=False,
        note=load_note(),
    )
    print(
        f"OPTIONS timing error vs raw socket: median {statistics.median(ours) - statistics.median(ref_raw):+.3f} ms; "
        f"vs sipsak: {statistics.median(ours) - statistics.median(ref_sipsak):+.3f} ms"
    )


async def calls(echo_uri: str, n: int, seconds: float, peer_pid: int) -> tuple[int, list, float, float, float]:
    pool = ProberPool(n, sip_bind=LOOPBACK)
    await pool.start()
    pids = [w.pid for w in pool.workers]
    rss0 = sum(rss_mb(p) for p in pids)
    spec = [
        ProbeSpec(
            name=f"c{i}",
            kind=ProbeKind.SIP_CALL,
            target=echo_uri,
            timeout_s=5.0,
            call_duration_s=seconds,
            username=f"caller{i}",
        )
        for i in range(n)
    ]
    task = asyncio.gather(*(pool.run(s) for s in spec))
    await asyncio.sleep(2.0)  # calls up
    c0, p0, t0 = sum(cpu_s(p) for p in pids), cpu_s(peer_pid), time.monotonic()
    await asyncio.sleep(max(1.0, seconds - 3.0))
    dt = time.monotonic() - t0
    cpu = (sum(cpu_s(p) for p in pids) - c0) / dt
    peer_cpu = (cpu_s(peer_pid) - p0) / dt
    rss = sum(rss_mb(p) for p in pids)
    results = await task
    await pool.stop()
    print(f"  ({len(pids)} worker(s): {rss0 / len(pids):.0f} MB RSS each when idle)") if n == 4 else None
    return len(pids), results, cpu, rss - rss0, peer_cpu


def clean(r) -> bool:
    return r.ok and r.metrics.get("packet_loss_pct", 100) == 0 and r.metrics.get("mos", 0) > 4.0


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "k").mkdir()
        (Path(tmp) / "b").mkdir()
        with kamailio_peer(Path(tmp) / "k") as kam, baresip_peer(Path(tmp) / "b") as echo:
            print(f"machine: {os.cpu_count()} cores; peers kamailio :{kam.port}, baresip :{echo.port}")
            await timing_error(kam.uri(), kam.port)
            for in_flight in (24, 200):
                await options_throughput(kam.uri(), in_flight=in_flight)
            workers, res, cpu, rss_delta, peer_cpu = await calls(echo.uri("echo"), 4, 8.0, echo.pid)
            print(
                f"4 concurrent calls in 1 worker: worker CPU {100 * cpu:.1f}% of a core "
                f"({100 * cpu / 4:.2f}% per call), RSS +{rss_delta:.1f} MB ({rss_delta / 4:.1f} MB per call); "
                f"baresip echo CPU {100 * peer_cpu:.1f}%; clean {sum(map(clean, res))}/4"
            )
            best = 0
            for n in (8, 16, 24, 32):
                workers, res, cpu, rss_delta, peer_cpu = await calls(echo.uri("echo"), n, 8.0, echo.pid)
                ok = sum(map(clean, res))
                jit = max((r.metrics.get("jitter_ms", 0) for r in res if r.ok), default=0)
                errors = sorted({r.error for r in res if not r.ok})
                print(
                    f"{n:>2} concurrent calls on {workers} workers: {ok}/{n} clean (loss 0, MOS > 4), "
                    f"worst jitter {jit:.2f} ms, workers CPU {100 * cpu:.0f}%, baresip CPU {100 * peer_cpu:.0f}%"
                    + (f", errors {errors}" if errors else "")
                )
                if ok == n:
                    best = n
                else:
                    break
            print(f"most concurrent calls held cleanly: {best} (tried up to 32)")
            record(
                "probes.concurrent_calls_clean",
                best,
                "calls",
                label="most concurrent test calls held cleanly (loss 0, MOS > 4), tried up to 32 (bench_probes.py)",
                note=load_note(),
            )


if __name__ == "__main__":
    asyncio.run(main())
