"""End to end over real HTTPS on loopback: outbox row -> dispatcher -> receiver that verifies like a customer."""

from __future__ import annotations

import asyncio
import json
import ssl
import time

from aiohttp import web

from callmeter_tui.bus.events import DeliveriesQueued, EventBus
from callmeter_tui.config.model import WebhookSettings
from callmeter_tui.webhooks import outbox
from callmeter_tui.webhooks.dispatcher import Dispatcher

from .conftest import T0, add_probe, attempts, deliveries, eventually, record_transition

BREACH = {"metric": "mos", "value": 3.2, "warning_threshold": 3.5, "critical_threshold": 2.5, "level": "warning"}
METRICS = {"mos": 3.2, "jitter_ms": 45.3, "packet_loss_pct": 2.1, "rtt_ms": 180, "setup_time_ms": 2100}


def _create(db, probe_id, url, fmt="generic", **kw):  # type: ignore[no-untyped-def]
    with db.session() as s:
        hook, secret = outbox.create_webhook(s, probe_id, url, fmt, T0, allow_private=True, **kw)
        return hook.id, secret


async def test_transition_is_delivered_signed_with_the_contract_body(database, https_receiver, hook_settings, caplog):
    caplog.set_level("DEBUG")
    probe_id = add_probe(database)
    hook_id, secret = _create(database, probe_id, https_receiver.url("/hook"))
    assert secret is not None and len(secret) >= 43  # token_urlsafe(32): 32 random bytes
    https_receiver.secrets["/hook"] = secret
    _, queued = record_transition(
        database,
        probe_id,
        "HEALTHY",
        "DEGRADED",
        at=T0 + 0.25,
        metrics={**METRICS, "asr_pct": None},
        breaches=[BREACH],
        now=time.time(),
    )
    assert queued == 1
    bus = EventBus()
    d = Dispatcher(database.sessions, hook_settings, bus=bus, owner="t1")
    await d.start()
    try:
        bus.publish(DeliveriesQueued(1))
        [req] = await https_receiver.wait_for(1, "/hook")
        await eventually(lambda: deliveries(database)[0].status == "succeeded")
    finally:
        await d.stop()
    assert req.verdict is None, req.verdict
    [row] = deliveries(database)
    assert req.body == row.body  # the frozen bytes, exactly
    assert req.headers["Content-Type"] == "application/json"
    assert req.headers["User-Agent"].startswith("callmeter-tui/")
    assert req.headers["X-CallMeter-Delivery"] == row.key
    assert abs(int(req.headers["X-CallMeter-Timestamp"]) - time.time() * 1000) < 60_000
    body = json.loads(req.body.decode("utf-8"))
    with database.session() as s:
        from callmeter_tui.store.models import Probe, Transition

        tr = s.query(Transition).one()
        project_id = s.get(Probe, probe_id).project_id
    assert body == {
        "event": "probe.status_changed",
        "probe_id": str(probe_id),
        "probe_name": "Production PBX Health",
        "project_id": str(project_id),
        "project_name": "Default Project",
        "previous_status": "HEALTHY",
        "current_status": "DEGRADED",
        "timestamp": "2026-01-15T10:30:00.250Z",
        "execution_id": str(tr.execution_id),
        "metrics": METRICS,  # the unmeasured asr_pct is omitted
        "thresholds_breached": [BREACH],
    }
    [a] = attempts(database)
    assert a.success and a.http_status == 200 and a.duration_ms > 0 and a.error is None
    assert "HTTP 200" in caplog.text and secret not in caplog.text and "/hook" not in caplog.text  # host only


async def test_unknown_without_execution_has_null_execution_id(sqlite_db, https_receiver, hook_settings):
    probe_id = add_probe(sqlite_db)
    _, secret = _create(sqlite_db, probe_id, https_receiver.url("/u"))
    https_receiver.secrets["/u"] = secret
    record_transition(sqlite_db, probe_id, "UNHEALTHY", "UNKNOWN", with_execution=False, now=time.time())
    d = Dispatcher(sqlite_db.sessions, hook_settings, owner="t1")
    await d.start()
    try:
        [req] = await https_receiver.wait_for(1, "/u")
    finally:
        await d.stop()
    body = json.loads(req.body)
    assert req.verdict is None
    assert (body["previous_status"], body["current_status"], body["execution_id"]) == ("UNHEALTHY", "UNKNOWN", None)
    assert body["metrics"] == {} and body["thresholds_breached"] == []


async def test_disabled_webhooks_get_no_delivery_and_replays_are_rejected(sqlite_db, https_receiver, hook_settings):
    probe_id = add_probe(sqlite_db)
    on_id, secret = _create(sqlite_db, probe_id, https_receiver.url("/on"))
    off_id, _ = _create(sqlite_db, probe_id, https_receiver.url("/off"))
    with sqlite_db.session() as s:
        outbox.set_enabled(s, off_id, False, T0)
    https_receiver.secrets["/on"] = secret
    _, queued = record_transition(sqlite_db, probe_id, "HEALTHY", "UNHEALTHY", now=time.time())
    assert queued == 1
    d = Dispatcher(sqlite_db.sessions, hook_settings, owner="t1")
    await d.start()
    try:
        [req] = await https_receiver.wait_for(1, "/on")
        await eventually(lambda: deliveries(sqlite_db)[0].status == "succeeded")
    finally:
        await d.stop()
    assert req.verdict is None and https_receiver.at("/off") == []
    # The same signed request replayed 5 minutes and 1 second later is refused by the receiver's check.
    import httpx

    https_receiver.now = lambda: time.time() + 301
    from tests.fixtures.https import verify_signature

    assert verify_signature(req.headers, req.body, secret, int((time.time() + 301) * 1000)).startswith("replayed")
    async with httpx.AsyncClient(verify=ssl.create_default_context(cafile=hook_settings.ca_bundle)) as client:
        r = await client.post(
            https_receiver.url("/on"),
            content=req.body,
            headers={k: v for k, v in req.headers.items() if k.startswith("X-CallMeter")},
        )
    assert r.status_code == 401 and "replayed" in r.text
    # ... and a tampered body fails the signature even when fresh.
    https_receiver.now = time.time
    assert (
        verify_signature(req.headers, req.body.replace(b"UNHEALTHY", b"HEALTHY"), secret, int(time.time() * 1000))
        == "bad signature"
    )


async def test_test_event_and_redeliver(sqlite_db, https_receiver, hook_settings):
    probe_id = add_probe(sqlite_db)
    hook_id, secret = _create(sqlite_db, probe_id, https_receiver.url("/t"))
    https_receiver.secrets["/t"] = secret
    now = time.time()
    with sqlite_db.session() as s:
        test_id = outbox.enqueue_test(s, hook_id, now)
    d = Dispatcher(sqlite_db.sessions, hook_settings, owner="t1")
    await d.start()
    try:
        [first] = await https_receiver.wait_for(1, "/t")
        body = json.loads(first.body)
        assert body["event"] == "probe.test" and body["test"] is True and body["probe_id"] == str(probe_id)
        await eventually(lambda: deliveries(sqlite_db)[0].status == "succeeded")
        with sqlite_db.session() as s:
            again = outbox.redeliver(s, test_id, time.time())
        d.wake()
        reqs = await https_receiver.wait_for(2, "/t")
    finally:
        await d.stop()
    assert again != test_id
    assert reqs[1].body == first.body and reqs[1].verdict is None
    assert reqs[1].headers["X-CallMeter-Delivery"] != first.headers["X-CallMeter-Delivery"]


async def test_secret_from_env_and_missing_env_is_a_clear_error(sqlite_db, https_receiver, hook_settings, monkeypatch):
    probe_id = add_probe(sqlite_db)
    hook_id, secret = _create(sqlite_db, probe_id, https_receiver.url("/env"), secret_env="CM_TEST_HOOK_SECRET")
    assert secret is None
    monkeypatch.delenv("CM_TEST_HOOK_SECRET", raising=False)
    record_transition(sqlite_db, probe_id, "HEALTHY", "DEGRADED", now=time.time())
    d = Dispatcher(sqlite_db.sessions, hook_settings, owner="t1")
    await d.start()
    try:
        await eventually(lambda: attempts(sqlite_db))
        [a] = attempts(sqlite_db)
        assert not a.success and a.error == (
            "not sent (local problem, not counted): secret: environment variable CM_TEST_HOOK_SECRET (secret_env) is not set"
        )
        assert https_receiver.received == []
        monkeypatch.setenv("CM_TEST_HOOK_SECRET", "from-the-environment-0123456789abcdef")
        https_receiver.secrets["/env"] = "from-the-environment-0123456789abcdef"
        with sqlite_db.session() as s:  # don't wait for the 5-minute look: make it due now
            from callmeter_tui.store.models import Delivery

            s.query(Delivery).update({"next_attempt_at": 0.0})
        d.wake()
        [req] = await https_receiver.wait_for(1, "/env")
    finally:
        await d.stop()
    assert req.verdict is None


async def test_slow_endpoint_does_not_hold_back_a_fast_one(sqlite_db, https_receiver, hook_settings):
    release = asyncio.Event()

    async def slow(_rec):  # type: ignore[no-untyped-def]
        await release.wait()
        return web.Response(status=200)

    https_receiver.handlers["/slow"] = slow
    slow_probe = add_probe(sqlite_db, "slow probe")
    fast_probe = add_probe(sqlite_db, "fast probe")
    _create(sqlite_db, slow_probe, https_receiver.url("/slow"))
    _, fast_secret = _create(sqlite_db, fast_probe, https_receiver.url("/fast"))
    https_receiver.secrets["/fast"] = fast_secret
    now = time.time()
    for i in range(6):  # six queued transitions to the slow endpoint first ...
        record_transition(
            sqlite_db,
            slow_probe,
            "HEALTHY" if i % 2 else "DEGRADED",
            "DEGRADED" if i % 2 else "HEALTHY",
            at=now + i,
            now=now - 10 + i,
        )
    record_transition(sqlite_db, fast_probe, "HEALTHY", "UNHEALTHY", now=now)  # ... then one fast one
    settings = WebhookSettings(allow_private_targets=True, ca_bundle=hook_settings.ca_bundle, timeout_s=30.0)
    d = Dispatcher(sqlite_db.sessions, settings, owner="t1", max_concurrency=4, per_webhook_concurrency=2)
    await d.start()
    try:
        [fast] = await https_receiver.wait_for(1, "/fast", timeout=10)
        assert fast.verdict is None
        # The slow endpoint holds exactly its two slots; the other four wait their turn (two of them claimed
        # ahead, one behind each slot, the other two still pending).
        await https_receiver.wait_for(2, "/slow", timeout=10)
        await asyncio.sleep(0.3)
        assert len(https_receiver.at("/slow")) == 2
        assert [d.status for d in deliveries(sqlite_db)].count("in_flight") == 4
    finally:
        release.set()
        await d.stop()
    # Stopped: the two claimed ahead were never sent, so they are pending again, with no attempt recorded.
    assert sorted(d.status for d in deliveries(sqlite_db)) == ["pending"] * 4 + ["succeeded"] * 3
    assert all(d.lease_owner is None for d in deliveries(sqlite_db))
    assert len(attempts(sqlite_db)) == 3 and len(https_receiver.at("/slow")) == 2
