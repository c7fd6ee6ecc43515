"""Retry schedule, Retry-After, 410 and auto-disable, on an injected clock (no real waiting)."""

from __future__ import annotations

import time
from email.utils import formatdate

from sqlalchemy import select

from callmeter_tui.bus.events import EventBus, NotificationRaised
from callmeter_tui.store.models import Notification, Webhook
from callmeter_tui.webhooks import outbox
from callmeter_tui.webhooks.dispatcher import Dispatcher

from .conftest import FakeClock, add_probe, attempts, deliveries, eventually, record_transition


def _hook(db, probe_id, url, now):  # type: ignore[no-untyped-def]
    with db.session() as s:
        hook, secret = outbox.create_webhook(s, probe_id, url, "generic", now, allow_private=True)
        return hook.id, secret


def _webhook(db, hook_id) -> Webhook:  # type: ignore[no-untyped-def]
    with db.session() as s:
        return s.get(Webhook, hook_id)


async def _run_until(db, settings, clock, check, **kw):  # type: ignore[no-untyped-def]
    d = Dispatcher(db.sessions, settings, owner=kw.pop("owner", "t1"), clock=clock, sleep=clock.sleep, **kw)
    await d.start()
    try:
        await eventually(check, timeout=20)
    finally:
        await d.stop()


async def test_retry_schedule_is_1_5_30_300_then_failed(database, https_receiver, hook_settings):
    clock = FakeClock(float(int(time.time())))
    probe_id = add_probe(database)
    hook_id, secret = _hook(database, probe_id, https_receiver.url("/r"), clock.t)
    https_receiver.secrets["/r"] = secret
    https_receiver.scripts["/r"] = [500]
    record_transition(database, probe_id, "HEALTHY", "DEGRADED", now=clock.t)
    t0 = clock.t
    await _run_until(database, hook_settings, clock, lambda: deliveries(database)[0].status == "failed")
    [row] = deliveries(database)
    rows = attempts(database)
    assert [a.at - t0 for a in rows] == [0.0, 1.0, 6.0, 36.0, 336.0]
    assert all(a.http_status == 500 and not a.success and a.error == "HTTP 500" for a in rows)
    assert row.attempts == 5 and row.last_error == "HTTP 500"
    reqs = https_receiver.at("/r")
    assert len(reqs) == 5
    assert all(r.verdict is None for r in reqs)  # every attempt verifies
    assert {r.body for r in reqs} == {row.body}  # identical bytes every time
    assert {r.headers["X-CallMeter-Delivery"] for r in reqs} == {row.key}
    stamps = [int(r.headers["X-CallMeter-Timestamp"]) for r in reqs]
    assert stamps == [int((t0 + dt) * 1000) for dt in (0, 1, 6, 36, 336)]  # new timestamp per attempt ...
    assert len({r.headers["X-CallMeter-Signature"] for r in reqs}) == 5  # ... and so a new signature
    assert _webhook(database, hook_id).enabled  # 5 failures < 10


async def test_retry_after_seconds_and_http_date_are_honoured_when_longer(sqlite_db, https_receiver, hook_settings):
    clock = FakeClock(float(int(time.time())))
    t0 = clock.t
    probe_id = add_probe(sqlite_db)
    _, secret = _hook(sqlite_db, probe_id, https_receiver.url("/ra"), clock.t)
    https_receiver.secrets["/ra"] = secret
    https_receiver.scripts["/ra"] = [
        (503, {"Retry-After": "120"}),  # longer than 1 s: wait 120
        (429, {"Retry-After": formatdate(t0 + 120 + 600, usegmt=True)}),  # an HTTP date 600 s ahead
        (503, {"Retry-After": "2"}),  # shorter than the scheduled 30 s: 30
        200,
    ]
    record_transition(sqlite_db, probe_id, "HEALTHY", "DEGRADED", now=t0)
    await _run_until(sqlite_db, hook_settings, clock, lambda: deliveries(sqlite_db)[0].status == "succeeded")
    assert [a.at - t0 for a in attempts(sqlite_db)] == [0.0, 120.0, 720.0, 750.0]


async def test_410_gone_disables_the_webhook_at_once(sqlite_db, https_receiver, hook_settings):
    clock = FakeClock(time.time())
    probe_id = add_probe(sqlite_db)
    hook_id, _ = _hook(sqlite_db, probe_id, https_receiver.url("/gone"), clock.t)
    https_receiver.scripts["/gone"] = [410]
    record_transition(sqlite_db, probe_id, "HEALTHY", "DEGRADED", at=clock.t, now=clock.t)
    record_transition(sqlite_db, probe_id, "DEGRADED", "HEALTHY", at=clock.t + 1, now=clock.t + 1)
    await _run_until(
        sqlite_db, hook_settings, clock, lambda: not _webhook(sqlite_db, hook_id).enabled, per_webhook_concurrency=1
    )
    await eventually(lambda: all(d.status == "failed" for d in deliveries(sqlite_db)))
    hook = _webhook(sqlite_db, hook_id)
    assert "410 Gone" in hook.disabled_reason
    first, second = deliveries(sqlite_db)
    assert first.attempts == 1 and second.attempts == 0  # no retry; the queued one is not sent
    assert "webhook disabled" in second.last_error
    assert len(https_receiver.at("/gone")) == 1


async def test_ten_failures_in_24h_auto_disable_then_re_enable(database, https_receiver, hook_settings):
    clock = FakeClock(time.time())
    probe_id = add_probe(database)
    hook_id, secret = _hook(database, probe_id, https_receiver.url("/dead"), clock.t)
    https_receiver.secrets["/dead"] = secret
    https_receiver.scripts["/dead"] = [502]
    record_transition(database, probe_id, "HEALTHY", "DEGRADED", at=clock.t, now=clock.t)
    record_transition(database, probe_id, "DEGRADED", "UNHEALTHY", at=clock.t + 0.5, now=clock.t + 0.5)
    record_transition(database, probe_id, "UNHEALTHY", "HEALTHY", at=clock.t + 0.7, now=clock.t + 400)
    bus = EventBus()
    seen = []
    bus.on(lambda e: seen.append(e) if isinstance(e, NotificationRaised) else None)
    # One attempt at a time for this webhook, so nothing else can be in flight when the 10th failure lands.
    await _run_until(
        database,
        hook_settings,
        clock,
        lambda: not _webhook(database, hook_id).enabled,
        bus=bus,
        per_webhook_concurrency=1,
    )
    await eventually(lambda: not any(d.status in ("pending", "in_flight") for d in deliveries(database)))
    assert len(https_receiver.at("/dead")) == 10  # disabled on the 10th failure exactly
    hook = _webhook(database, hook_id)
    assert hook.disabled_reason.startswith("auto-disabled: 10 failed attempts within 24 h")
    with database.session() as s:
        [note] = s.scalars(select(Notification)).all()
    assert note.kind == "webhook_disabled" and "127.0.0.1" in note.text and "/dead" not in note.text
    assert [(e.notification_id, e.kind) for e in seen] == [(note.id, "webhook_disabled")]
    assert deliveries(database)[2].last_error.startswith("webhook disabled: auto-disabled")
    # Re-enabled: the count starts again, so one more failure does not disable it; a success goes through.
    with database.session() as s:
        outbox.set_enabled(s, hook_id, True, clock.t)
    assert _webhook(database, hook_id).failures_reset_at == clock.t
    https_receiver.scripts["/dead"] = [500, 200]
    record_transition(database, probe_id, "HEALTHY", "DEGRADED", at=clock.t, now=clock.t)
    await _run_until(database, hook_settings, clock, lambda: deliveries(database)[-1].status == "succeeded")
    assert _webhook(database, hook_id).enabled
    assert deliveries(database)[-1].attempts == 2


async def test_a_success_resets_the_failure_count(sqlite_db, https_receiver, hook_settings):
    clock = FakeClock(time.time())
    probe_id = add_probe(sqlite_db)
    hook_id, _ = _hook(sqlite_db, probe_id, https_receiver.url("/flaky"), clock.t)
    https_receiver.scripts["/flaky"] = [500, 500, 500, 500, 200, 500]  # 4 failures, a success, then failures
    record_transition(sqlite_db, probe_id, "HEALTHY", "DEGRADED", now=clock.t)
    await _run_until(sqlite_db, hook_settings, clock, lambda: deliveries(sqlite_db)[0].status == "succeeded")
    for n in (1, 2):  # 2 x 5 more failures
        record_transition(sqlite_db, probe_id, "DEGRADED", "HEALTHY", at=clock.t, now=clock.t)
        await _run_until(sqlite_db, hook_settings, clock, lambda n=n: deliveries(sqlite_db)[n].status == "failed")
    # Counting from the success, the 10th failure is round 2's last attempt. Without the reset it would have
    # been round 2's first attempt (4 + 5 + 1), which would have left that delivery with 1 attempt, not 5.
    assert [d.attempts for d in deliveries(sqlite_db)] == [5, 5, 5]
    hook = _webhook(sqlite_db, hook_id)
    assert not hook.enabled and hook.disabled_reason.startswith("auto-disabled: 10 failed")
