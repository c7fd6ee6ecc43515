"""Operator actions through the monitor (what the TUI calls), against a real dispatcher, a real HTTPS
receiver and a real database: webhooks (secret once, test event, redelivery, rotate, disable), status
pages, history bars and the probe drill-down."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time

import pytest
from sqlalchemy import select

from callmeter_tui.bus.events import PagesChanged
from callmeter_tui.config.model import Config, WebhookSettings
from callmeter_tui.domain.probe import ComponentSpec, ProbeKind, ProbeSpec, StatusPageSpec
from callmeter_tui.engine.monitor import Monitor
from callmeter_tui.store.models import Component
from callmeter_tui.webhooks.dispatcher import Dispatcher
from tests.engine.test_monitor import Clock, ScriptedProber, _steps
from tests.fixtures.https import verify_signature

PROBE = ProbeSpec(name="Edge", kind=ProbeKind.SIP_OPTIONS, target="sip:127.0.0.1:5060", interval_s=60)


@pytest.fixture
async def node(database, webhook_ca):  # type: ignore[no-untyped-def]
    clock = Clock(time.time() - 3600)
    settings = WebhookSettings(allow_private_targets=True, ca_bundle=webhook_ca.ca_bundle, timeout_s=5)
    cfg = Config(project_name="Ops", database_url=database.url, webhooks=settings, probes=(PROBE,))
    m = Monitor(cfg, database, ScriptedProber(clock), clock=clock, watchdog_s=3600)
    await m.start()
    d = Dispatcher(database.sessions, settings, bus=m.bus)
    await d.start()
    try:
        yield m, clock
    finally:
        await d.stop()
        await m.stop()


async def _test_events(receiver, count: int) -> list:  # type: ignore[no-untyped-def]
    """The first ``count`` test events sent to /ops (a probe run may also deliver a real transition)."""
    for n in range(1, 50):
        got = [r for r in await receiver.wait_for(n, path="/ops") if json.loads(r.body).get("test") is True]
        if len(got) >= count:
            return got[:count]
    raise AssertionError(f"fewer than {count} test events arrived")


async def test_webhook_lifecycle_from_the_operator(node, https_receiver) -> None:  # type: ignore[no-untyped-def]
    m, clock = node
    pid = m.probe_views()[0].id
    with pytest.raises(ValueError, match=r"^url: "):
        await m.add_webhook(pid, "http://127.0.0.1/hook")
    hook_id, secret = await m.add_webhook(pid, https_receiver.url("/ops"))
    assert len(secret) >= 43  # >= 32 random bytes, URL-safe
    await m.send_test_event(hook_id)
    (first,) = await _test_events(https_receiver, 1)
    assert verify_signature(first.headers, first.body, secret, int(time.time() * 1000)) is None
    body = json.loads(first.body)
    assert body["probe_name"] == "Edge" and body.get("test") is True

    for _ in range(100):  # the receiver has the POST; wait for the dispatcher to record it
        detail = await m.probe_detail(pid)
        tests = [d for d in detail.webhooks[0].deliveries if d.is_test]
        if tests and tests[0].status != "in_flight":
            break
        await asyncio.sleep(0.05)
    (hook,) = detail.webhooks
    assert secret not in hook.masked_secret and hook.masked_secret != ""
    (delivery,) = [d for d in hook.deliveries if d.is_test]
    assert delivery.status == "succeeded" and delivery.attempt_log[0].http_status == 200

    await m.redeliver(delivery.id)
    _, again = await _test_events(https_receiver, 2)
    assert again.body == first.body
    assert again.headers["X-CallMeter-Delivery"] != first.headers["X-CallMeter-Delivery"]

    new_secret = await m.rotate_webhook_secret(hook_id)
    assert new_secret != secret
    await m.send_test_event(hook_id)
    third = (await _test_events(https_receiver, 3))[2]
    assert verify_signature(third.headers, third.body, new_secret, int(time.time() * 1000)) is None
    assert verify_signature(third.headers, third.body, secret, int(time.time() * 1000)) is not None

    await m.set_webhook_enabled(hook_id, False)
    detail = await m.probe_detail(pid)
    assert detail.webhooks[0].enabled is False


async def test_status_pages_saved_listed_deleted_with_events(node) -> None:  # type: ignore[no-untyped-def]
    m, _ = node
    events = m.bus.subscribe()
    spec = StatusPageSpec(slug="ops", name="Ops", components=(ComponentSpec(probe="Edge", name="SIP Edge"),))
    page_id = await m.save_status_page(spec)
    (view,) = await m.list_status_pages()
    assert view.spec.components == (ComponentSpec("Edge", "SIP Edge"),) and view.source == "interactive"
    with pytest.raises(ValueError, match=r"^components\[0\]\.probe: no probe named 'Nope'"):
        await m.save_status_page(dataclasses.replace(spec, components=(ComponentSpec("Nope", "x"),)), page_id)
    assert (await m.list_status_pages())[0].spec.components[0].name == "SIP Edge"  # nothing saved half-way
    with m.db.session() as s:  # a target from the config file...
        s.scalars(select(Component)).one().sla_target = 99.9
    await m.save_status_page(dataclasses.replace(spec, slug="ops2"), page_id)
    assert (await m.list_status_pages())[0].spec.components[0].sla_target == 99.9  # ...survives a form edit
    await m.delete_status_page(page_id)
    assert await m.list_status_pages() == []
    slugs = [e.slugs for e in [events.get_nowait() for _ in range(events.qsize())] if isinstance(e, PagesChanged)]
    assert slugs == [("ops",), ("ops", "ops2"), ("ops2",)]


async def test_history_and_detail_read_what_was_recorded(node) -> None:  # type: ignore[no-untyped-def]
    m, clock = node
    pid = m.probe_views()[0].id
    m.runner.prober.script["Edge"] = ["ok", "ok", "fail", "ok"]
    await _steps(m, clock, pid, 4)
    hist = (await m.history([pid], "days"))[pid]
    assert len(hist.segments) == 90
    assert hist.segments[-1].state.value == "UNHEALTHY"  # worst state of today
    assert hist.uptime is not None and float(hist.uptime) < 100
    hours = (await m.history([pid], "hours"))[pid]
    assert len(hours.segments) == 24
    detail = await m.probe_detail(pid, 3600)
    assert [e.state for e in detail.executions] == ["HEALTHY", "UNHEALTHY", "HEALTHY", "HEALTHY"]
    assert [(t.previous_state, t.current_state) for t in detail.transitions][:2] == [
        ("UNHEALTHY", "HEALTHY"),
        ("HEALTHY", "UNHEALTHY"),
    ]
    assert detail.incidents and detail.incidents[0].worst.value == "UNHEALTHY"
    assert "response_time_ms" in detail.series
    assert (detail.since, detail.until) == (clock() - 3600, clock())  # the charts' window, as read
    times = [t for t, _ in detail.series["response_time_ms"]]  # each at its run's start, oldest first
    assert times == sorted(times) and len(times) >= 2 and set(times) <= {e.started_at for e in detail.executions}
    assert [sp.state.value for sp in detail.spans][:2] == ["HEALTHY", "UNHEALTHY"]  # health along the window
