"""Nothing is lost or sent twice at once: kill -9 mid-attempt, restart mid-retry, two dispatchers on one database."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

from aiohttp import web

from callmeter_tui.webhooks import outbox
from callmeter_tui.webhooks.dispatcher import Dispatcher

from .conftest import FakeClock, add_probe, attempts, deliveries, eventually, record_transition

ROOT = Path(__file__).resolve().parents[2]

VICTIM = textwrap.dedent("""
    import asyncio, sys
    from callmeter_tui.config.model import WebhookSettings
    from callmeter_tui.store.database import open_database
    from callmeter_tui.webhooks.dispatcher import Dispatcher

    async def main():
        db = open_database(sys.argv[1])
        d = Dispatcher(db.sessions, WebhookSettings(True, sys.argv[2], 30.0), owner="victim")
        await d.start()
        print("started", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())
""")


def _hook(db, probe_id, url, now):  # type: ignore[no-untyped-def]
    with db.session() as s:
        hook, secret = outbox.create_webhook(s, probe_id, url, "generic", now, allow_private=True)
        return hook.id, secret


async def test_kill_9_mid_attempt_then_another_dispatcher_reclaims_the_lease(database, https_receiver, hook_settings):
    hang = asyncio.Event()

    async def first_hangs(rec):  # type: ignore[no-untyped-def]
        if len(https_receiver.at("/k")) == 1:
            await hang.wait()
        return web.Response(status=200)

    https_receiver.handlers["/k"] = first_hangs
    probe_id = add_probe(database)
    _, secret = _hook(database, probe_id, https_receiver.url("/k"), time.time())
    https_receiver.secrets["/k"] = secret
    record_transition(database, probe_id, "HEALTHY", "UNHEALTHY", now=time.time())
    proc = subprocess.Popen(
        [sys.executable, "-c", VICTIM, database.url, hook_settings.ca_bundle],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        await https_receiver.wait_for(1, "/k", timeout=30)  # the victim is mid-attempt ...
        [row] = deliveries(database)
        assert row.status == "in_flight" and row.lease_owner == "victim"
    finally:
        proc.send_signal(signal.SIGKILL)  # ... and dies without a word
        proc.wait(timeout=10)
        hang.set()
    # The lease (timeout + margin) has not run out yet in real time: a survivor whose clock is past it reclaims.
    later = FakeClock(time.time() + hook_settings.timeout_s + 3600)
    d = Dispatcher(database.sessions, hook_settings, owner="survivor", clock=later, sleep=later.sleep)
    await d.start()
    try:
        await eventually(lambda: deliveries(database)[0].status == "succeeded", timeout=15)
    finally:
        await d.stop()
    reqs = https_receiver.at("/k")
    assert len(reqs) == 2 and reqs[1].verdict is None
    assert reqs[0].body == reqs[1].body
    assert reqs[0].headers["X-CallMeter-Delivery"] == reqs[1].headers["X-CallMeter-Delivery"]
    interrupted, sent = attempts(database)
    assert interrupted.error.startswith("interrupted: dispatcher victim stopped") and not interrupted.success
    assert sent.success and deliveries(database)[0].attempts == 1


async def test_restart_mid_retry_resumes_the_schedule(sqlite_db, https_receiver, hook_settings):
    clock = FakeClock(float(int(time.time())))
    t0 = clock.t
    probe_id = add_probe(sqlite_db)
    _, secret = _hook(sqlite_db, probe_id, https_receiver.url("/rr"), t0)
    https_receiver.secrets["/rr"] = secret
    https_receiver.scripts["/rr"] = [500, 500, 500, 200]
    record_transition(sqlite_db, probe_id, "HEALTHY", "DEGRADED", now=t0)
    clock.hold_from = 30.0
    first = Dispatcher(sqlite_db.sessions, hook_settings, owner="first", clock=clock, sleep=clock.sleep)
    await first.start()
    await eventually(lambda: deliveries(sqlite_db)[0].attempts == 3)
    await eventually(lambda: clock.slept and clock.slept[-1] == 30.0)
    await first.stop()  # down while waiting for the 30 s retry
    clock.hold_from = None
    clock.t += 30.0  # the restart happens when it is due
    row = deliveries(sqlite_db)[0]
    assert row.status == "pending" and row.next_attempt_at == t0 + 6 + 30
    second = Dispatcher(sqlite_db.sessions, hook_settings, owner="second", clock=clock, sleep=clock.sleep)
    await second.start()
    try:
        await eventually(lambda: deliveries(sqlite_db)[0].status == "succeeded")
    finally:
        await second.stop()
    assert [a.at - t0 for a in attempts(sqlite_db)] == [0.0, 1.0, 6.0, 36.0]
    assert all(r.verdict is None for r in https_receiver.at("/rr"))
    assert len({r.headers["X-CallMeter-Delivery"] for r in https_receiver.at("/rr")}) == 1


async def test_two_dispatchers_on_one_database_never_double_send(database, https_receiver, hook_settings):
    async def slowish(_rec):  # type: ignore[no-untyped-def]
        await asyncio.sleep(0.01)
        return web.Response(status=200)

    now = time.time()
    paths = [f"/p{i}" for i in range(4)]
    for i, path in enumerate(paths):
        https_receiver.handlers[path] = slowish
        probe_id = add_probe(database, f"probe {i}")
        _hook(database, probe_id, https_receiver.url(path), now)
        for j in range(10):
            record_transition(
                database,
                probe_id,
                "HEALTHY" if j % 2 else "DEGRADED",
                "DEGRADED" if j % 2 else "HEALTHY",
                at=now + j,
                now=now,
            )
    ds = [Dispatcher(database.sessions, hook_settings, owner=f"node{n}", max_concurrency=8) for n in (1, 2)]
    for d in ds:
        await d.start()
    try:
        await https_receiver.wait_for(40, timeout=30)
        await eventually(lambda: all(d.status == "succeeded" for d in deliveries(database)), timeout=15)
        await asyncio.sleep(0.3)  # room for any duplicate to show up
    finally:
        for d in ds:
            await d.stop()
    keys = Counter(r.headers["X-CallMeter-Delivery"] for r in https_receiver.received)
    assert len(keys) == 40 and set(keys.values()) == {1}
    assert len(attempts(database)) == 40


VICTIM_UNRECORDED = textwrap.dedent("""
    import asyncio, sys, time
    from callmeter_tui.config.model import WebhookSettings
    from callmeter_tui.store.database import open_database
    from callmeter_tui.webhooks import recorder
    from callmeter_tui.webhooks.dispatcher import Dispatcher

    real = recorder.AttemptRecorder.write_with

    def write_with(self, outcomes, then):  # the batch with the answered attempt never commits
        if outcomes:
            print("recording", flush=True)
            time.sleep(3600)
        return real(self, outcomes, then)

    recorder.AttemptRecorder.write_with = write_with

    async def main():
        db = open_database(sys.argv[1])
        d = Dispatcher(db.sessions, WebhookSettings(True, sys.argv[2], 30.0), owner="victim", per_webhook_concurrency=1)
        await d.start()
        await asyncio.Event().wait()

    asyncio.run(main())
""")


async def test_kill_9_after_the_answer_before_the_batch_commits_redelivers_and_loses_nothing(
    database, https_receiver, hook_settings
):
    """The endpoint answered 2xx twice (the second delivery, claimed ahead, went out the moment the first was
    answered), the outcomes waited for their batch, the process died: both are sent again (at least once, same
    key and bytes), and the third, never claimed, is sent once."""
    probe_id = add_probe(database)
    _, secret = _hook(database, probe_id, https_receiver.url("/u"), time.time())
    https_receiver.secrets["/u"] = secret
    now = time.time()
    record_transition(database, probe_id, "HEALTHY", "UNHEALTHY", at=now, now=now)
    record_transition(database, probe_id, "UNHEALTHY", "HEALTHY", at=now + 1, now=now)
    record_transition(database, probe_id, "HEALTHY", "DEGRADED", at=now + 2, now=now)
    proc = subprocess.Popen(
        [sys.executable, "-c", VICTIM_UNRECORDED, database.url, hook_settings.ca_bundle],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 30)  # type: ignore[union-attr]
        assert line.strip() == b"recording"
        await https_receiver.wait_for(2, "/u", timeout=10)  # both answered 200 ...
        assert [(r.status, r.lease_owner) for r in deliveries(database)] == [
            ("in_flight", "victim"),
            ("in_flight", "victim"),
            ("pending", None),
        ]
        assert attempts(database) == []  # ... but nothing of it committed
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    later = FakeClock(time.time() + hook_settings.timeout_s + 3600)  # past the victim's leases
    d = Dispatcher(database.sessions, hook_settings, owner="survivor", clock=later, sleep=later.sleep)
    await d.start()
    try:
        await eventually(lambda: [r.status for r in deliveries(database)] == ["succeeded"] * 3, timeout=15)
    finally:
        await d.stop()
    first, second, third = deliveries(database)
    reqs = https_receiver.at("/u")
    assert Counter(r.headers["X-CallMeter-Delivery"] for r in reqs) == {first.key: 2, second.key: 2, third.key: 1}
    assert all(r.verdict is None for r in reqs)
    for row in (first, second):
        assert {r.body for r in reqs if r.headers["X-CallMeter-Delivery"] == row.key} == {row.body}
        interrupted, sent = attempts(database, row.id)
        assert interrupted.error.startswith("interrupted: dispatcher victim stopped") and sent.success
    assert [a.success for a in attempts(database, third.id)] == [True]
    assert (first.attempts, second.attempts, third.attempts) == (1, 1, 1)
