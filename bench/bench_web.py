"""Public status page speed: requests/s and p99 latency of GET /<slug> under 100 concurrent connections
(wrk), next to nginx serving the very same bytes as a static file in the same run; plus the cold render
time of a 1,000-component page and how long that render holds the event loop.

nginx is started with a private temporary config on a free loopback port (never as a system service).
Figures are printed; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiohttp
from results import load_note, record
from sqlalchemy import insert

from callmeter_tui.bus.events import EventBus
from callmeter_tui.commands.runloop import run as run_loop
from callmeter_tui.commands.runtime import Runtime
from callmeter_tui.config.model import Config, EngineSettings, RetentionSettings, WebSettings
from callmeter_tui.domain.probe import ProbeKind, ProbeSpec
from callmeter_tui.store.database import open_database, project_id
from callmeter_tui.store.models import Component, HealthSpanRow, Probe, StatusPage
from callmeter_tui.web.server import WebServer

DAY = 86400.0
HISTORY_DAYS = round(RetentionSettings().history_s / DAY)  # the default retention.history (400 days)
RENDERS = 7  # cold renders per page; the median counts
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
WRK = shutil.which("wrk") or "/usr/bin/wrk"


def seed(db, slug: str, components: int, now: float, first_probe: int, rng: random.Random, days: int = 91) -> None:  # type: ignore[no-untyped-def]
    """``components`` probes with ``days`` days of spans (mostly healthy, a few bad hours) and one page."""
    with db.session() as s:
        pid = project_id(s)
        probes, spans = [], []
        for i in range(components):
            n = first_probe + i
            probes.append(
                {
                    "id": n,
                    "project_id": pid,
                    "name": f"probe-{n}",
                    "kind": "sip_options",
                    "target": f"sip:pbx{n}.example",
                    "state": "HEALTHY",
                    "state_since": now - DAY,
                    "last_execution_at": now - 20,
                    "created_at": now - 100 * DAY,
                    "updated_at": now - 100 * DAY,
                    "interval_s": 60.0,
                }
            )
            t = now - days * DAY
            while t < now:
                run = rng.uniform(3, 20) * DAY
                end = min(now, t + run)
                spans.append({"probe_id": n, "state": "HEALTHY", "started_at": t, "ended_at": end, "open": end >= now})
                if end >= now:
                    break
                bad = rng.uniform(600, 4 * 3600)
                spans.append(
                    {
                        "probe_id": n,
                        "state": rng.choice(["DEGRADED", "UNHEALTHY"]),
                        "started_at": end,
                        "ended_at": end + bad,
                        "open": False,
                    }
                )
                t = end + bad
        s.execute(insert(Probe), probes)
        s.execute(insert(HealthSpanRow), spans)
        page = StatusPage(slug=slug, name=f"Bench {components}", updated_at=now)
        page.components = [
            Component(probe_id=first_probe + i, name=f"SIP Trunk {i + 1} (Region {i % 7})", position=i)
            for i in range(components)
        ]
        s.add(page)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_nginx(root: Path, body: bytes, gz: bytes) -> tuple[subprocess.Popen, int]:
    """nginx, one worker (like our one-process server), serving ``body`` as /page and ``gz`` as its
    precompressed twin (gzip_static). Its folders must be readable by nginx's worker user: a 0700
    temporary folder gets fast 403s and a void comparison."""
    www = root / "www"
    www.mkdir()
    (www / "page").write_bytes(body)
    (www / "page.gz").write_bytes(gz)
    for d in (root, www):
        d.chmod(0o755)
    port = free_port()
    conf = root / "nginx.conf"
    conf.write_text(f"""
daemon off;
master_process off;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {root}/tmp_body;
    proxy_temp_path {root}/tmp_proxy;
    fastcgi_temp_path {root}/tmp_fcgi;
    uwsgi_temp_path {root}/tmp_uwsgi;
    scgi_temp_path {root}/tmp_scgi;
    sendfile on;
    keepalive_requests 100000;
    default_type text/html;
    server {{
        listen 127.0.0.1:{port};
        root {www};
        etag on;
        gzip_static on;
    }}
}}
""")
    proc = subprocess.Popen(
        [NGINX, "-p", str(root), "-e", str(root / "error.log"), "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.1):
                return proc, port
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"nginx did not start: {proc.stderr.read().decode().strip()}") from None  # type: ignore[union-attr]
            time.sleep(0.05)
    raise SystemExit("nginx did not start listening")


def cpu_s(pid: int | None) -> float:
    """CPU seconds used so far by process ``pid``, or by this thread (the event loop) when None."""
    if pid is None:
        return time.thread_time()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _ms(text: str) -> float:
    """wrk's "812.00us" / "3.21ms" / "1.02s" in milliseconds."""
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


async def wrk(url: str, seconds: int, connections: int) -> tuple[float, float]:
    """(requests/s, p99 latency in ms) from wrk --latency as a browser asks (gzip accepted), run without
    blocking the loop under test. Any non-2xx answer or socket error voids the run."""
    proc = await asyncio.create_subprocess_exec(
        WRK,
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "-H",
        "Accept-Encoding: gzip",
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out = (await proc.communicate())[0].decode()
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    wrk.requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[attr-defined,union-attr]
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: .*", out)
    if not rps or not p99:
        raise SystemExit(f"could not parse wrk output:\n{out}")
    if errors:
        raise SystemExit(f"void run against {url}: {errors.group(0)}")
    return float(rps.group(1)), _ms(p99.group(1))


class GcPauses:
    """Longest full (generation 2) collection: it stops every thread, whichever one triggered it."""

    def __init__(self) -> None:
        self.worst = 0.0
        self.count = 0
        self._t = 0.0
        gc.callbacks.append(self._cb)

    def _cb(self, phase: str, info: dict) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            self._t = time.perf_counter()
        else:
            self.count += 1
            self.worst = max(self.worst, time.perf_counter() - self._t)


async def loop_lag_during(coro) -> tuple[object, float]:  # type: ignore[no-untyped-def]
    """Run ``coro`` while a 1 ms ticker measures the longest time the loop could not run it."""
    worst = 0.0
    done = False

    async def ticker() -> None:
        nonlocal worst
        last = time.perf_counter()
        while not done:
            await asyncio.sleep(0.001)
            t = time.perf_counter()
            worst = max(worst, t - last - 0.001)
            last = t

    tick = asyncio.create_task(ticker())
    try:
        result = await coro
    finally:
        done = True
        await tick
    return result, worst


class Engine:
    """``count`` OPTIONS probes every PROBE_INTERVAL_S s against a demo SIP target, in this process and loop,
    so the page is served while the engine works (as under `serve`)."""

    def __init__(self, runtime: Runtime, target: subprocess.Popen) -> None:
        self.runtime, self.target = runtime, target

    async def stop(self) -> None:
        await self.runtime.stop()
        self.target.terminate()
        self.target.wait(timeout=10)


PROBE_INTERVAL_S = 10.0  # 50 probes: 5 executions a second in this process meanwhile


async def start_engine(root: Path, count: int) -> Engine:
    port = free_port()
    target = subprocess.Popen(
        [sys.executable, "-m", "callmeter_tui.cli", "demo-target", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    probes = tuple(
        ProbeSpec(
            name=f"e{i:03d}",
            kind=ProbeKind.SIP_OPTIONS,
            target=f"sip:127.0.0.1:{port}",
            interval_s=PROBE_INTERVAL_S,
            timeout_s=2.0,
        )
        for i in range(count)
    )
    config = Config(
        project_name="bench-engine",
        database_url=f"sqlite:///{root / 'engine.db'}",
        probes=probes,
        engine=EngineSettings(max_concurrency=64, call_concurrency=4),
    )
    runtime = Runtime(config, start_web=False, start_dispatcher=False)
    await runtime.start()
    print(f"engine: {count} OPTIONS probes every {PROBE_INTERVAL_S:.0f} s against a demo target")
    return Engine(runtime, target)


async def cold_renders(server: WebServer, slug: str, runs: int) -> tuple[float, float]:
    """(median render time, longest event-loop stall) over ``runs`` renders with nothing to reuse; the best
    time in ``cold_renders.best`` and the render process's CPU seconds per render (median; least swayed by
    other work on a shared machine) in ``cold_renders.cpu``."""
    times, lags, cpus = [], [], []
    procs = server._renderer.procs
    child = next(iter(procs._processes), None) if procs is not None else None  # type: ignore[attr-defined]
    for _ in range(runs):
        server._pages.pop(slug, None)  # cold: no previous assets to reuse
        c0 = cpu_s(child) if child else 0.0
        t = time.perf_counter()
        _, lag = await loop_lag_during(server._render(slug))
        times.append(time.perf_counter() - t)
        cpus.append(cpu_s(child) - c0 if child else times[-1])
        lags.append(lag)
    cold_renders.cpu = statistics.median(cpus)  # type: ignore[attr-defined]
    cold_renders.best = min(times)  # type: ignore[attr-defined]
    return statistics.median(times), max(lags)


async def first_requests(server: WebServer, slug: str, key: str, runs: int) -> tuple[float, float]:
    """(best time, longest event-loop stall) of the first GET of a lazily built asset after a fresh render."""
    times, lags = [], []
    async with aiohttp.ClientSession(auto_decompress=False) as session:

        async def get() -> bytes:
            async with session.get(f"{server.url}/{slug}/{key}", headers={"Accept-Encoding": "gzip"}) as r:
                assert r.status == 200, r.status
                return await r.read()

        for _ in range(runs):
            await server._render(slug)  # a new snapshot: nothing built from it yet
            t = time.perf_counter()
            _, lag = await loop_lag_during(get())
            times.append(time.perf_counter() - t)
            lags.append(lag)
    return min(times), max(lags)


def fetch_gzip(url: str) -> bytes | None:
    """The body as sent when gzip is accepted; None when it did not come gzip-encoded."""
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})) as r:
        return r.read() if r.headers.get("Content-Encoding") == "gzip" else None


BARE = """
import sys
import uvloop
from aiohttp import web
body = open(sys.argv[1], "rb").read()
headers = {"Content-Encoding": "gzip", "Content-Type": "text/html; charset=utf-8"}
async def page(_request):
    return web.Response(body=body, headers=headers)
app = web.Application()
app.router.add_get("/{slug}", page)
uvloop.install()
web.run_app(app, host="127.0.0.1", port=int(sys.argv[2]), access_log=None, print=None, handle_signals=True)
"""


async def start_bare(root: Path, gz: bytes) -> tuple[asyncio.subprocess.Process, int]:
    """The practical ceiling: a bare aiohttp handler on uvloop returning the same gzip bytes from memory."""
    (root / "bare.gz").write_bytes(gz)
    port = free_port()
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", BARE, str(root / "bare.gz"), str(port))
    for _ in range(100):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return proc, port
        except OSError:
            await asyncio.sleep(0.1)
    raise SystemExit("the bare aiohttp server did not start")


async def serving(server: WebServer, root: Path, args: argparse.Namespace) -> None:
    """wrk against GET /noc, nginx gzip_static on the same bytes and a bare aiohttp handler, interleaved for
    ``args.rounds`` rounds (the best round of each counts: the machine may be shared, and a round that
    another process slowed down says nothing about either server)."""
    page = server._pages["noc"][""]
    assert page.gz is not None
    ngx, port = start_nginx(root, page.body, page.gz)
    bare, bare_port = await start_bare(root, page.gz)
    urls = {
        "callmeter-tui": f"{server.url}/noc",
        "nginx gzip_static": f"http://127.0.0.1:{port}/page",
        "bare aiohttp+uvloop": f"http://127.0.0.1:{bare_port}/page",
    }
    best: dict[str, tuple[float, float]] = {}
    cpu: dict[str, list[float]] = {name: [] for name in urls}  # CPU seconds per request, each round
    pids = {"callmeter-tui": None, "nginx gzip_static": ngx.pid, "bare aiohttp+uvloop": bare.pid}
    try:
        for url in urls.values():  # each must answer the gzip body, or the comparison is void
            if await asyncio.to_thread(fetch_gzip, url) != page.gz:
                raise SystemExit(f"{url} did not answer the precompressed page")
        print(
            f"wrk -t1 -c{args.connections} -d{args.seconds}s --latency -H 'Accept-Encoding: gzip', {args.rounds} rounds"
        )
        for url in urls.values():
            await wrk(url, 1, args.connections)  # warm-up
        for _ in range(args.rounds):
            for name, url in urls.items():
                c0 = cpu_s(pids[name])
                rps, p99 = await wrk(url, args.seconds, args.connections)
                cpu[name].append((cpu_s(pids[name]) - c0) / max(1, wrk.requests))  # type: ignore[attr-defined]
                print(f"  {name:20} {rps:10.0f} req/s   p99 {p99:7.2f} ms   {cpu[name][-1] * 1e6:6.1f} us CPU/request")
                if name not in best or rps > best[name][0]:
                    best[name] = (rps, p99)
    finally:
        ngx.terminate()
        ngx.wait(timeout=10)
        bare.terminate()
        await bare.wait()
    (rps, p99), (rps_n, p99_n), (rps_b, _) = best.values()
    print(
        f"best rounds: callmeter-tui {rps:.0f} req/s (p99 {p99:.2f} ms), nginx {rps_n:.0f} (p99 {p99_n:.2f} ms), "
        f"bare aiohttp {rps_b:.0f}: ratio to nginx {rps / rps_n:.2f}, to the bare handler {rps / rps_b:.2f}"
    )
    us = {name: min(v) * 1e6 for name, v in cpu.items()}
    print(
        "CPU per request (best round; on a shared machine the rate swings, this much less): "
        + ", ".join(f"{name} {v:.1f} us" for name, v in us.items())
        + f"; nginx's CPU per request / ours: {us['nginx gzip_static'] / us['callmeter-tui']:.2f}"
    )
    record(
        "web.page_cpu_us_per_request",
        round(us["callmeter-tui"], 1),
        "us",
        peer=round(us["nginx gzip_static"], 1),
        peer_name="nginx gzip_static",
        higher_is_better=False,
        label="status page GET /{slug}: CPU time per request of the serving thread (the event loop)",
        note=f"{load_note()}; bare aiohttp handler on uvloop: {us['bare aiohttp+uvloop']:.1f} us",
    )
    label = f"status page GET /{{slug}}, {args.components} components, gzip, {args.connections} connections"
    note = (
        f"{load_note()}; bare aiohttp handler on uvloop, same bytes, same run: {rps_b:.0f} req/s "
        f"({rps_b / rps_n:.2f} of nginx)"
    )
    record(
        "web.page_rps", round(rps), "req/s", peer=round(rps_n), peer_name="nginx gzip_static", label=label, note=note
    )
    record(
        "web.page_p99_ms",
        p99,
        "ms",
        peer=p99_n,
        peer_name="nginx gzip_static",
        higher_is_better=False,
        label=label + ", p99 latency",
        note=f"{load_note()}; of the round with the most requests/s of each",
    )


async def main(args: argparse.Namespace) -> None:
    rng = random.Random(7)
    now = time.time()
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        root = Path(tmp)
        db = open_database(f"sqlite:///{root / 'bench.db'}")
        seed(db, "noc", args.components, now, 1, rng)
        seed(db, "big", 1000, now, 10_000, rng)
        # The same page size after a year: the store keeps 400 days by default (retention.history), and
        # what lies before the bars is the page's history (incidents), read only when something shows it.
        seed(db, "year", 1000, now, 20_000, rng, days=HISTORY_DAYS)
        config = Config(web=WebSettings(host="127.0.0.1", port=0))
        server = WebServer(db, config, EventBus())
        engine = await start_engine(root, args.probes) if args.probes else None
        t0 = time.perf_counter()
        await server.start()
        print(f"start (render the three pages): {time.perf_counter() - t0:.2f} s")
        try:
            # Cold render of the 1,000-component page: DB read, domain rules, the eager assets (HTML page, its
            # theme.css, the page badge; gzip). status.json, the Statuspage API, feed, history and component
            # badges are built from the same snapshot on their first request: measured apart below.
            pauses = GcPauses()
            t = time.perf_counter()
            median, stall = await cold_renders(server, "big", RENDERS)
            best = cold_renders.best  # type: ignore[attr-defined]
            spent = time.perf_counter() - t
            # The same ticker for as long without rendering: what the machine alone does to the loop (other
            # processes on shared cores, the engine), and with one CPU-bound process beside it (the render
            # process takes a core too): so the render's own share can be told apart.
            _, idle = await loop_lag_during(asyncio.sleep(spent / 3))
            burn = subprocess.Popen(
                [sys.executable, "-c", f"import time\nt = time.time() + {spent / 3}\nwhile time.time() < t: pass"]
            )
            _, busy = await loop_lag_during(asyncio.sleep(spent / 3))
            burn.wait()
            big = server._pages["big"][""]
            print(
                f"cold render, 1,000 components x 90 days: median {median * 1000:.0f} ms of {RENDERS}, best {best * 1000:.0f} ms "
                f"(HTML {len(big.body) / 1e6:.2f} MB, gzip {len(big.gz or b'') / 1e6:.2f} MB); "
                f"longest event-loop stall {stall * 1000:.1f} ms; without a render {idle * 1000:.1f} ms, "
                f"{busy * 1000:.1f} ms beside one CPU-bound process "
                f"({pauses.count} full GC passes meanwhile, longest {pauses.worst * 1000:.1f} ms)"
            )
            cpu = cold_renders.cpu  # type: ignore[attr-defined]
            print(f"  the render process's CPU time per render: median {cpu * 1000:.0f} ms")
            record(
                "web.cold_render_1000_ms",
                round(median * 1000, 1),
                "ms",
                higher_is_better=False,
                label=f"cold render of a 1,000-component page (90 days), median of {RENDERS}: the HTML page, "
                "theme.css, page badge",
                note=f"best {best * 1000:.0f} ms; render process CPU {cpu * 1000:.0f} ms (median); status.json, "
                f"Statuspage API, feed, history, component badges: built on their first request; {load_note()}",
            )
            year, year_stall = await cold_renders(server, "year", RENDERS)
            year_cpu = cold_renders.cpu  # type: ignore[attr-defined]
            print(
                f"cold render, 1,000 components, {HISTORY_DAYS} days of history: median {year * 1000:.0f} ms "
                f"(render process CPU {year_cpu * 1000:.0f} ms), longest event-loop stall {year_stall * 1000:.1f} ms"
            )
            record(
                "web.cold_render_1000_400d_ms",
                round(year * 1000, 1),
                "ms",
                higher_is_better=False,
                label=f"cold render of a 1,000-component page with {HISTORY_DAYS} days of history (the default "
                f"retention; bars 90 days), median of {RENDERS}",
                note=f"render process CPU {year_cpu * 1000:.0f} ms (median); longest event-loop stall "
                f"{year_stall * 1000:.1f} ms; {load_note()}",
            )
            record(
                "web.loop_block_max_ms",
                round(stall * 1000, 1),
                "ms",
                higher_is_better=False,
                peer=round(busy * 1000, 1),
                peer_name="the same loop beside one CPU-bound process, no render",
                label="longest event-loop stall during those renders",
                note=f"the same loop, nothing beside it: {idle * 1000:.1f} ms; {load_note()}",
            )
            lazy, lazy_stall = await first_requests(server, "big", "status.json", 3)
            print(
                f"first request of status.json after a render (built then, 15 MB): best {lazy * 1000:.0f} ms, "
                f"longest event-loop stall {lazy_stall * 1000:.1f} ms"
            )
            record(
                "web.lazy_status_json_1000_ms",
                round(lazy * 1000, 1),
                "ms",
                higher_is_better=False,
                label="first GET of a 1,000-component page's status.json after a render (built on that request)",
                note=f"longest event-loop stall meanwhile {lazy_stall * 1000:.1f} ms; {load_note()}",
            )
            summary, summary_stall = await first_requests(server, "year", "api/v2/summary.json", 3)
            print(
                f"first request of summary.json after a render, {HISTORY_DAYS} days of history: best "
                f"{summary * 1000:.0f} ms, longest event-loop stall {summary_stall * 1000:.1f} ms"
            )
            record(
                "web.lazy_summary_json_1000_400d_ms",
                round(summary * 1000, 1),
                "ms",
                higher_is_better=False,
                label=f"first GET of a 1,000-component page's Statuspage summary.json after a render, {HISTORY_DAYS} "
                "days of history (built on that request)",
                note=f"longest event-loop stall meanwhile {summary_stall * 1000:.1f} ms; {load_note()}",
            )
            median_s, stall_s = await cold_renders(server, "noc", RENDERS)
            print(
                f"cold render, {args.components} components: median {median_s * 1000:.0f} ms, "
                f"longest event-loop stall {stall_s * 1000:.1f} ms"
            )
            page = server._pages["noc"][""]
            print(
                f"page weight, {args.components} components: {len(page.body)} B identity, {len(page.gz or b'')} B gzip"
            )
            label = f"status page weight, {args.components} components x 90 days of mixed history"
            record("web.page_bytes_identity", len(page.body), "bytes", higher_is_better=False, label=label)
            record("web.page_bytes_gzip", len(page.gz or b""), "bytes", higher_is_better=False, label=label + ", gzip")
            if not args.render_only:
                await serving(server, root, args)
        finally:
            await server.stop()
            if engine is not None:
                await engine.stop()
            db.close()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--components", type=int, default=50, help="components on the page under load (default 50)")
    ap.add_argument("--probes", type=int, default=50, help="OPTIONS probes the engine runs meanwhile (default 50)")
    ap.add_argument("--connections", type=int, default=100)
    ap.add_argument("--seconds", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3, help="interleaved wrk rounds per server (best counts)")
    ap.add_argument("--render-only", action="store_true", help="cold renders and page weight only, no wrk runs")
    run_loop(main(ap.parse_args()))
