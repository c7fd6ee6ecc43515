"""Deliveries claimed ahead of a slot (slots.py): started the moment the slot frees, never sent to a webhook that
the attempt before them disabled, never sent once their lease could not cover an attempt, and back to pending
unsent when the dispatcher stops."""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from callmeter_tui.config.model import WebhookSettings
from callmeter_tui.store.models import Webhook
from callmeter_tui.webhooks import ledger, outbox
from callmeter_tui.webhooks.dispatcher import Dispatcher
from callmeter_tui.webhooks.slots import Slots

from .conftest import add_probe, attempts, deliveries, eventually, record_transition


def _claimed(delivery_id: int, webhook_id: int) -> ledger.Claimed:
    return ledger.Claimed(
        delivery_id, webhook_id, f"k{delivery_id}", b"{}", 0, "https://x/", "generic", "s", None, None
    )


def test_a_freed_slot_starts_the_next_claimed_delivery_of_its_webhook_unless_a_failure_holds_it() -> None:
    slots = Slots(max_concurrency=4, per_webhook=1)
    a1, a2, a3, b1 = _claimed(1, 10), _claimed(2, 10), _claimed(3, 10), _claimed(4, 20)
    assert slots.claim_cap == 2
    slots.add([a1, a2, a3, b1], at=100.0)
    start, stale = slots.startable(100.0, fresh_s=25.0)
    assert (start, stale) == ([a1, b1], [])  # one request per webhook at a time
    slots.finished(a1, ok=True)
    assert slots.startable(100.5, fresh_s=25.0) == ([a2], [])  # a success: the next one goes at once
    slots.finished(a2, ok=False)
    assert slots.startable(101.0, fresh_s=25.0) == ([], [])  # a failure holds the webhook until recorded
    slots.recorded(a2, ok=False)
    assert slots.startable(101.0, fresh_s=25.0) == ([a3], [])
    assert slots.claim_counts() == {10: 1, 20: 1}


def test_a_delivery_claimed_too_long_ago_is_released_not_started() -> None:
    slots = Slots(max_concurrency=1, per_webhook=1)
    a1, b1 = _claimed(1, 10), _claimed(2, 20)
    slots.add([a1, b1], at=100.0)
    assert slots.startable(100.0, fresh_s=25.0) == ([a1], [])
    slots.finished(a1, ok=True)
    assert slots.startable(126.0, fresh_s=25.0) == ([], [b1])
    assert not slots.waiting


async def test_no_request_after_410_even_to_the_delivery_already_claimed_behind_it(
    sqlite_db, https_receiver, hook_settings
) -> None:  # type: ignore[no-untyped-def]
    async def gone_slowly(_rec):  # type: ignore[no-untyped-def]
        await asyncio.sleep(0.5)  # long enough for the second delivery to be claimed ahead
        return web.Response(status=410)

    https_receiver.handlers["/gone"] = gone_slowly
    probe_id = add_probe(sqlite_db)
    now = time.time()
    with sqlite_db.session() as s:
        hook, _ = outbox.create_webhook(s, probe_id, https_receiver.url("/gone"), "generic", now, allow_private=True)
        hook_id = hook.id
    record_transition(sqlite_db, probe_id, "HEALTHY", "DEGRADED", at=now, now=now)
    record_transition(sqlite_db, probe_id, "DEGRADED", "HEALTHY", at=now + 1, now=now)
    d = Dispatcher(sqlite_db.sessions, hook_settings, owner="t1", per_webhook_concurrency=1)
    await d.start()
    try:
        await https_receiver.wait_for(1, "/gone", timeout=10)
        assert [r.status for r in deliveries(sqlite_db)] == ["in_flight", "in_flight"]  # the second claimed ahead
        await eventually(lambda: [r.status for r in deliveries(sqlite_db)] == ["failed", "failed"])
        await asyncio.sleep(0.3)
    finally:
        await d.stop()
    assert len(https_receiver.at("/gone")) == 1
    first, second = deliveries(sqlite_db)
    assert (first.attempts, second.attempts, second.lease_owner) == (1, 0, None)
    assert second.last_error.startswith("webhook disabled: auto-disabled: the endpoint answered 410 Gone")
    assert len(attempts(sqlite_db)) == 1
    with sqlite_db.session() as s:
        assert not s.get(Webhook, hook_id).enabled


async def test_a_slow_webhook_keeps_its_claimed_ahead_delivery_only_while_the_lease_covers_an_attempt(
    sqlite_db, https_receiver, hook_settings, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """The first request outlives CLAIMED_AHEAD_MAX_S on the dispatcher's clock: the one claimed behind it is
    released and claimed afresh (a new lease) before it is sent; both are delivered once."""
    from callmeter_tui.webhooks.dispatcher import CLAIMED_AHEAD_MAX_S

    clock_offset = [0.0]
    release = asyncio.Event()
    released: list[int] = []
    real_release = ledger.release

    def spy(s, ids, *, owner):  # type: ignore[no-untyped-def]
        released.extend(ids)
        return real_release(s, ids, owner=owner)

    monkeypatch.setattr(ledger, "release", spy)

    async def slow_first(_rec):  # type: ignore[no-untyped-def]
        if len(https_receiver.at("/slow")) == 1:
            await release.wait()
        return web.Response(status=200)

    https_receiver.handlers["/slow"] = slow_first
    probe_id = add_probe(sqlite_db)
    now = time.time()
    with sqlite_db.session() as s:
        outbox.create_webhook(s, probe_id, https_receiver.url("/slow"), "generic", now, allow_private=True)
    record_transition(sqlite_db, probe_id, "HEALTHY", "DEGRADED", at=now, now=now)
    record_transition(sqlite_db, probe_id, "DEGRADED", "HEALTHY", at=now + 1, now=now)
    settings = WebhookSettings(allow_private_targets=True, ca_bundle=hook_settings.ca_bundle, timeout_s=60.0)
    d = Dispatcher(
        sqlite_db.sessions,
        settings,
        owner="t1",
        per_webhook_concurrency=1,
        clock=lambda: time.time() + clock_offset[0],
    )
    await d.start()
    try:
        await https_receiver.wait_for(1, "/slow", timeout=10)
        await eventually(lambda: [r.status for r in deliveries(sqlite_db)] == ["in_flight", "in_flight"])
        second_id = deliveries(sqlite_db)[1].id
        clock_offset[0] = CLAIMED_AHEAD_MAX_S + 1  # the first request has taken too long
        release.set()
        await eventually(lambda: [r.status for r in deliveries(sqlite_db)] == ["succeeded", "succeeded"])
    finally:
        await d.stop()
    reqs = https_receiver.at("/slow")
    assert len(reqs) == 2 and len({r.headers["X-CallMeter-Delivery"] for r in reqs}) == 2
    assert [a.success for a in attempts(sqlite_db)] == [True, True]  # no attempt recorded for the release
    assert released == [second_id]  # released unsent, then claimed afresh (a new lease) and sent
