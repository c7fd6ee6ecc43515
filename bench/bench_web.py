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
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert

from callmeter_tui.bus.events import EventBus
from callmeter_tui.config.model import Config, WebSettings
from callmeter_tui.store.database import open_database, project_id
from callmeter_tui.store.models import Component, HealthSpanRow, Probe, StatusPage
from callmeter_tui.web.server import WebServer

DAY = 86400.0
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
WRK = shutil.which("wrk") or "/usr/bin/wrk"


def seed(db, slug: str, components: int, now: float, first_probe: int, rng: random.Random) -> None:  # type: ignore[no-untyped-def]
    """``components`` probes with 90 days of spans (mostly healthy, a few bad hours) and one page."""
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
            t = now - 91 * DAY
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


def start_nginx(root: Path, body: bytes) -> tuple[subprocess.Popen, int]:
    """nginx, one worker (like our one-process server), serving ``body`` as /page."""
    www = root / "www"
    www.mkdir()
    (www / "page").write_bytes(body)
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


async def wrk(url: str, seconds: int, connections: int) -> tuple[float, str]:
    """(requests/s, p99 latency text) from wrk --latency, run without blocking the loop under test."""
    proc = await asyncio.create_subprocess_exec(
        WRK,
        "-t2",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out = (await proc.communicate())[0].decode()
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: .*", out)
    if not rps or not p99:
        raise SystemExit(f"could not parse wrk output:\n{out}")
    if errors:
        print(f"   wrk: {errors.group(0)}")
    return float(rps.group(1)), p99.group(1)


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


async def main(args: argparse.Namespace) -> None:
    rng = random.Random(7)
    now = time.time()
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        root = Path(tmp)
        db = open_database(f"sqlite:///{root / 'bench.db'}")
        seed(db, "noc", args.components, now, 1, rng)
        seed(db, "big", 1000, now, 10_000, rng)
        config = Config(web=WebSettings(host="127.0.0.1", port=0))
        server = WebServer(db, config, EventBus())
        t0 = time.perf_counter()
        await server.start()
        print(f"start (render both pages): {time.perf_counter() - t0:.2f} s")

        # Cold render of the 1,000-component page: DB read, domain rules, HTML/JSON/badges/feed, gzip.
        times, lags = [], []
        pauses = GcPauses()
        for _ in range(3):
            server._pages.pop("big", None)  # cold: no previous assets to reuse
            t = time.perf_counter()
            _, lag = await loop_lag_during(server._render("big"))
            times.append(time.perf_counter() - t)
            lags.append(lag)
        big = server._pages["big"][""]
        print(
            f"cold render, 1,000 components x 90 days: best {min(times) * 1000:.0f} ms, "
            f"worst {max(times) * 1000:.0f} ms (HTML {len(big.body) / 1e6:.1f} MB, gzip {len(big.gz or b'') / 1e6:.2f} MB)"
        )
        print(
            f"longest event-loop stall during those renders: {max(lags) * 1000:.1f} ms "
            f"({pauses.count} full GC passes meanwhile, longest {pauses.worst * 1000:.1f} ms; "
            f"{len(gc.get_objects())} objects tracked)"
        )

        small = []
        for _ in range(5):
            server._pages.pop("noc", None)
            t = time.perf_counter()
            _, lag = await loop_lag_during(server._render("noc"))
            small.append((time.perf_counter() - t, lag))
        print(
            f"cold render, {args.components} components: best {min(x[0] for x in small) * 1000:.0f} ms, "
            f"longest event-loop stall {max(x[1] for x in small) * 1000:.1f} ms"
        )

        body = server._pages["noc"][""].body
        ngx, port = start_nginx(root, body)
        try:
            ours = f"{server.url}/noc"
            theirs = f"http://127.0.0.1:{port}/page"
            print(
                f"page under test: {args.components} components, {len(body) / 1e3:.0f} kB HTML (identity), "
                f"wrk -t2 -c{args.connections} -d{args.seconds}s"
            )
            await wrk(ours, 1, args.connections)  # warm-up
            rps, p99 = await wrk(ours, args.seconds, args.connections)
            print(f"callmeter-tui  GET /noc : {rps:10.0f} req/s   p99 {p99}")
            await wrk(theirs, 1, args.connections)
            rps_n, p99_n = await wrk(theirs, args.seconds, args.connections)
            print(f"nginx static   GET /page: {rps_n:10.0f} req/s   p99 {p99_n}")
            print(f"ratio: callmeter-tui serves {rps / rps_n * 100:.0f}% of nginx's rate")
        finally:
            ngx.terminate()
            ngx.wait(timeout=10)
            await server.stop()
            db.close()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--components", type=int, default=20, help="components on the page under load (default 20)")
    ap.add_argument("--connections", type=int, default=100)
    ap.add_argument("--seconds", type=int, default=10)
    asyncio.run(main(ap.parse_args()))
