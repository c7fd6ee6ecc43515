"""Webhook figures on this machine: transition-to-first-attempt latency (p50/p99) and deliveries/s.

A real HTTPS receiver (aiohttp, trustme certificate) on 127.0.0.1, a SQLite database in a temp dir, the real
Dispatcher woken by the event bus exactly as the engine does it. Prints figures and records them in
bench/results.json; asserts nothing about speed.

The peer, in the same run against the same receiver: a bare aiohttp client loop POSTing the same signed
bodies with the same number in flight and no database at all (the practical ceiling of a Python sender here;
a bare httpx loop is printed beside it).

    .venv/bin/python bench/bench_webhooks.py [--latency N] [--throughput N] [--db URL | --sqlite-only]

Without --db it runs on SQLite, then on a throw-away PostgreSQL server (fsync off, as the tests run it) when
the PostgreSQL binaries are installed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import ssl
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import httpx
import trustme
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from results import load_note, record

from callmeter_tui.bus.events import DeliveriesQueued, EventBus
from callmeter_tui.config.model import WebhookSettings
from callmeter_tui.store.database import Database, open_database
from callmeter_tui.store.models import Delivery, Probe, Project, Transition
from callmeter_tui.webhooks import outbox
from callmeter_tui.webhooks.dispatcher import Dispatcher
from callmeter_tui.webhooks.sender import signed_headers

IN_FLIGHT = 16  # the dispatcher's default max_concurrency; the peer keeps as many requests in flight


RECEIVER = """
import asyncio, ssl, sys, time
from aiohttp import web

async def main():
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(sys.argv[1], sys.argv[2])
    out = sys.stdout
    async def handle(request):
        await request.read()
        out.write(request.headers["X-CallMeter-Delivery"] + " " + repr(time.monotonic()) + "\\n")
        out.flush()
        return web.Response(status=204)
    app = web.Application()
    app.router.add_post("/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ctx)
    await site.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


class Receiver:
    """The HTTPS receiver in its own process (as a real endpoint would be); arrivals on CLOCK_MONOTONIC."""

    def __init__(self, cert: str, key: str) -> None:
        self.cert, self.key = cert, key
        self.arrivals: dict[str, float] = {}
        self.port = 0
        self.event = asyncio.Event()
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", RECEIVER, self.cert, self.key, stdout=asyncio.subprocess.PIPE
        )
        assert self.proc.stdout is not None
        self.port = int((await self.proc.stdout.readline()).decode())
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            key, at = line.decode().split()
            self.arrivals[key] = float(at)
            self.event.set()

    async def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            await self.proc.wait()
        self._reader.cancel()


def setup_db(db: Database, receiver: Receiver, probes: int) -> list[int]:
    now = time.time()
    ids = []
    with db.session() as s:
        project = s.scalar(select(Project).limit(1))
        for i in range(probes):
            p = Probe(
                project_id=project.id,
                name=f"bench-{i}",
                kind="sip_options",
                target="sip:x.example",
                created_at=now,
                updated_at=now,
            )
            s.add(p)
            s.flush()
            outbox.create_webhook(
                s, p.id, f"https://127.0.0.1:{receiver.port}/h{i}", "generic", now, allow_private=True
            )
            ids.append(p.id)
    return ids


def transition(db: Database, probe_id: int, n: int) -> tuple[str, float]:
    """Record one transition + outbox row in one transaction (as the engine does); returns (key, commit time)."""
    with db.session() as s:
        now = time.time()
        prev, cur = ("HEALTHY", "DEGRADED") if n % 2 else ("DEGRADED", "HEALTHY")
        tr = Transition(
            probe_id=probe_id,
            at=now,
            previous_state=prev,
            current_state=cur,
            execution_id=n,
            metrics={"mos": 4.1, "rtt_ms": 20.0},
            breaches=[],
        )
        s.add(tr)
        s.flush()
        probe = s.get(Probe, probe_id)
        outbox.enqueue_for_transition(s, tr, probe, s.get(Project, probe.project_id), now)
        s.flush()
        key = s.scalar(select(Delivery.key).where(Delivery.transition_id == tr.id))
    return key, time.monotonic()


def bodies(db: Database, limit: int) -> list[tuple[str, bytes, str]]:
    """(url, body, key) of queued deliveries: what the peer sends (same bytes, same receiver)."""
    with db.session() as s:
        from callmeter_tui.store.models import Webhook

        rows = s.execute(
            select(Webhook.url, Delivery.body, Delivery.key).join(Webhook).order_by(Delivery.id).limit(limit)
        ).all()
    return [(u, bytes(b), k) for u, b, k in rows]


async def peer_aiohttp(work: list[tuple[str, bytes, str]], ca_path: str) -> tuple[float, float]:
    """(deliveries/s, CPU ms per delivery in this process) of a bare aiohttp loop: sign, POST, read the answer;
    IN_FLIGHT at a time, keep-alive."""
    ctx = ssl.create_default_context(cafile=ca_path)
    items = iter(work)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx, limit=IN_FLIGHT)) as http:

        async def loop() -> None:
            for url, body, key in items:
                headers = dict(signed_headers("s" * 43, int(time.time() * 1000), body, "peer-" + key))
                async with http.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                    assert resp.status == 204

        t0, cpu0 = time.perf_counter(), time.process_time()
        await asyncio.gather(*(loop() for _ in range(IN_FLIGHT)))
    return len(work) / (time.perf_counter() - t0), (time.process_time() - cpu0) * 1000 / len(work)


async def peer_httpx(work: list[tuple[str, bytes, str]], ca_path: str) -> float:
    """The same with one httpx.AsyncClient (what a straightforward Python sender would use)."""
    ctx = ssl.create_default_context(cafile=ca_path)
    items = iter(work)
    async with httpx.AsyncClient(verify=ctx, limits=httpx.Limits(max_connections=IN_FLIGHT)) as http:

        async def loop() -> None:
            for url, body, key in items:
                headers = signed_headers("s" * 43, int(time.time() * 1000), body, "httpx-" + key)
                resp = await http.post(url, content=body, headers=headers)
                assert resp.status_code == 204

        t0 = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(IN_FLIGHT)))
    return len(work) / (time.perf_counter() - t0)


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency", type=int, default=200, help="transitions for the latency run")
    ap.add_argument("--throughput", type=int, default=2000, help="deliveries for the throughput run")
    ap.add_argument("--db", default="", help="database URL (default: SQLite in a temp dir, then PostgreSQL)")
    ap.add_argument("--sqlite-only", action="store_true", help="skip the PostgreSQL run")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-webhooks-")
    if args.db:
        await run(args, args.db, tmp)
        return
    await run(args, f"sqlite:///{tmp}/bench.db", tmp)
    if args.sqlite_only:
        return
    try:
        from tests.fixtures.postgres import start_pg_server
    except ImportError:
        return
    try:
        pg = start_pg_server()
    except (OSError, RuntimeError) as exc:
        print(f"PostgreSQL run skipped: {exc}")
        return
    try:
        await run(args, pg.create_database(), tmp)
    finally:
        pg.stop()


async def run(args: argparse.Namespace, url: str, tmp: str) -> None:
    """Latency and throughput on the database at ``url``, with a fresh receiver and certificate."""
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1")
    ca_path, cert_path, key_path = (os.path.join(tmp, n) for n in ("ca.pem", "cert.pem", "key.pem"))
    ca.cert_pem.write_to_path(ca_path)
    leaf.private_key_pem.write_to_path(key_path)
    for i, blob in enumerate(leaf.cert_chain_pems):
        blob.write_to_path(cert_path, append=i > 0)
    receiver = Receiver(cert_path, key_path)
    await receiver.start()
    db = open_database(url)
    probes = setup_db(db, receiver, 20)
    bus = EventBus()
    settings = WebhookSettings(allow_private_targets=True, ca_bundle=ca_path, timeout_s=10.0)
    d = Dispatcher(db.sessions, settings, bus=bus, owner="bench", max_concurrency=IN_FLIGHT)
    await d.start()
    print(f"database: {db.dialect}; receiver https://127.0.0.1:{receiver.port}; cores: {os.cpu_count()}")
    try:
        # 1) latency: one transition at a time, commit -> DeliveriesQueued -> request arrives at the receiver
        lat = []
        for n in range(args.latency):
            key, committed = await asyncio.to_thread(transition, db, probes[n % len(probes)], n)
            bus.publish(DeliveriesQueued(1))
            while key not in receiver.arrivals:
                receiver.event.clear()
                await asyncio.wait_for(receiver.event.wait(), 10)
            lat.append((receiver.arrivals[key] - committed) * 1000)
        p50, p99 = statistics.median(lat), pct(lat, 99)
        print(
            f"transition -> first attempt at receiver ({args.latency} transitions, one at a time): "
            f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(lat):.1f} ms"
        )

        # 2) throughput: a backlog of N deliveries over 20 webhooks, drained by one dispatcher
        await d.stop()
        await asyncio.to_thread(lambda: [transition(db, probes[i % len(probes)], i) for i in range(args.throughput)])
        work = await asyncio.to_thread(bodies, db, args.latency + args.throughput)
        work = work[args.latency :]
        peer, peer_cpu = await peer_aiohttp(work, ca_path)
        httpx_rate = await peer_httpx(work, ca_path)
        start_count = len(receiver.arrivals)
        d = Dispatcher(db.sessions, settings, bus=bus, owner="bench2", max_concurrency=IN_FLIGHT)
        t0 = time.perf_counter()
        cpu0 = time.process_time()
        await d.start()
        while len(receiver.arrivals) - start_count < args.throughput:
            receiver.event.clear()
            await asyncio.wait_for(receiver.event.wait(), 30)
        sent = time.perf_counter() - t0

        def done() -> int:
            with db.session() as s:
                return s.scalar(select(func.count(Delivery.id)).where(Delivery.status == "succeeded")) or 0

        while await asyncio.to_thread(done) < args.latency + args.throughput:
            await asyncio.sleep(0.05)
        recorded = time.perf_counter() - t0
        cpu_s = time.process_time() - cpu0
        cpu = cpu_s / recorded
        cpu_ms = cpu_s * 1000 / args.throughput
        rate = args.throughput / recorded
        peer_after, peer_cpu_after = await peer_aiohttp(work, ca_path)
        peer = (peer + peer_after) / 2  # before and after ours: the machine is shared, load drifts
        peer_cpu = (peer_cpu + peer_cpu_after) / 2
        print(
            f"throughput: {args.throughput} deliveries over 20 webhooks: all received in {sent:.2f} s "
            f"({args.throughput / sent:.0f}/s), all recorded as succeeded in {recorded:.2f} s "
            f"({rate:.0f}/s, {100 * cpu:.0f} % of a core in this process, {cpu_ms:.2f} ms CPU per delivery)"
        )
        print(
            f"peer, same bodies, same receiver, {IN_FLIGHT} in flight, no database: bare aiohttp loop {peer:.0f}/s "
            f"(ratio {rate / peer:.2f}), {peer_cpu:.2f} ms CPU per delivery; bare httpx loop {httpx_rate:.0f}/s"
        )
        where = f"{db.dialect}, HTTPS receiver on 127.0.0.1, {IN_FLIGHT} in flight"
        note = (
            f"{load_note()}; CPU per delivery in the sending process {cpu_ms:.2f} ms (peer {peer_cpu:.2f} ms); "
            f"bare httpx loop {httpx_rate:.0f}/s"
        )
        record(
            f"webhooks.{db.dialect}.deliveries_per_s",
            round(rate),
            "deliveries/s",
            label=f"webhook deliveries, recorded as succeeded ({where}; bench_webhooks.py)",
            peer=round(peer),
            peer_name="bare aiohttp loop, same bodies, no database",
            note=note,
        )
        record(
            f"webhooks.{db.dialect}.first_attempt_p99_ms",
            round(p99, 1),
            "ms",
            label=f"webhook transition -> first attempt at the receiver, p99 (p50 {p50:.1f} ms; {db.dialect})",
            higher_is_better=False,
            note=load_note(),
        )
    finally:
        await d.stop()
        db.close()
        await receiver.stop()


if __name__ == "__main__":
    asyncio.run(main())
