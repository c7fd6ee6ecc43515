"""Webhook figures on this machine: transition-to-first-attempt latency (p50/p99) and deliveries/s.

A real HTTPS receiver (aiohttp, trustme certificate) on 127.0.0.1, a SQLite database in a temp dir, the real
Dispatcher woken by the event bus exactly as the engine does it. Prints figures; asserts nothing about speed.

    .venv/bin/python bench/bench_webhooks.py [--latency N] [--throughput N] [--db URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import trustme
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from callmeter_tui.bus.events import DeliveriesQueued, EventBus
from callmeter_tui.config.model import WebhookSettings
from callmeter_tui.store.database import Database, open_database
from callmeter_tui.store.models import Delivery, Probe, Project, Transition
from callmeter_tui.webhooks import outbox
from callmeter_tui.webhooks.dispatcher import Dispatcher

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


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency", type=int, default=200, help="transitions for the latency run")
    ap.add_argument("--throughput", type=int, default=2000, help="deliveries for the throughput run")
    ap.add_argument("--db", default="", help="database URL (default: SQLite in a temp dir)")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-webhooks-")
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1")
    ca_path, cert_path, key_path = (os.path.join(tmp, n) for n in ("ca.pem", "cert.pem", "key.pem"))
    ca.cert_pem.write_to_path(ca_path)
    leaf.private_key_pem.write_to_path(key_path)
    for i, blob in enumerate(leaf.cert_chain_pems):
        blob.write_to_path(cert_path, append=i > 0)
    receiver = Receiver(cert_path, key_path)
    await receiver.start()
    db = open_database(args.db or f"sqlite:///{tmp}/bench.db")
    probes = setup_db(db, receiver, 20)
    bus = EventBus()
    settings = WebhookSettings(allow_private_targets=True, ca_bundle=ca_path, timeout_s=10.0)
    d = Dispatcher(db.sessions, settings, bus=bus, owner="bench")
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
        print(
            f"transition -> first attempt at receiver ({args.latency} transitions, one at a time): "
            f"p50 {statistics.median(lat):.1f} ms, p99 {pct(lat, 99):.1f} ms, max {max(lat):.1f} ms"
        )

        # 2) throughput: a backlog of N deliveries over 20 webhooks, drained by one dispatcher
        await d.stop()
        start_count = len(receiver.arrivals)
        await asyncio.to_thread(lambda: [transition(db, probes[i % len(probes)], i) for i in range(args.throughput)])
        d = Dispatcher(db.sessions, settings, bus=bus, owner="bench2")
        t0 = time.perf_counter()
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
        print(
            f"throughput: {args.throughput} deliveries over 20 webhooks: all received in {sent:.2f} s "
            f"({args.throughput / sent:.0f}/s), all recorded as succeeded in {recorded:.2f} s "
            f"({args.throughput / recorded:.0f}/s)"
        )
    finally:
        await d.stop()
        db.close()
        await receiver.stop()


if __name__ == "__main__":
    asyncio.run(main())
