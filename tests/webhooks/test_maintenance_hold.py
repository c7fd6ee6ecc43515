"""Webhooks during scheduled maintenance, end to end over real HTTPS: transitions inside a window are
recorded but held (unless the webhook says notify_during_maintenance); when the window is over and the
probe's state differs from what the receiver last heard, exactly one catch-up goes out, signed, with the
contract's field set and nothing more."""

from __future__ import annotations

import json
import time

from sqlalchemy import select

from callmeter_tui.store.maintenance import schedule
from callmeter_tui.store.models import Component, Probe, StatusPage, Transition, Webhook
from callmeter_tui.webhooks import outbox
from callmeter_tui.webhooks.dispatcher import Dispatcher
from callmeter_tui.webhooks.maintenance import catch_up

from .conftest import T0, add_probe, deliveries, record_transition

CONTRACT_FIELDS = {
    "event",
    "probe_id",
    "probe_name",
    "project_id",
    "project_name",
    "previous_status",
    "current_status",
    "timestamp",
    "execution_id",
    "metrics",
    "thresholds_breached",
}
MIN = 60.0


def _setup(db, url: str, notify_during: bool = False) -> tuple[int, int, str]:  # type: ignore[no-untyped-def]
    """A probe on a page with a window T0 .. T0 + 30 min (UTC page), and one webhook."""
    probe_id = add_probe(db)
    with db.session() as s:
        page = StatusPage(slug="voip", name="VoIP", timezone="UTC", updated_at=T0)
        page.components.append(Component(probe_id=probe_id, name="PBX", position=0))
        s.add(page)
        s.flush()
        schedule(
            s,
            page="voip",
            component="PBX",
            title="Upgrade",
            start="2026-01-15T10:30:00Z",
            end="2026-01-15T11:00:00Z",
            now=T0 - 3600,
        )
        hook, secret = outbox.create_webhook(s, probe_id, url, "generic", T0, allow_private=True)
        hook.notify_during_maintenance = notify_during
        return probe_id, hook.id, secret or ""


def _set_state(db, probe_id: int, state: str) -> None:  # type: ignore[no-untyped-def]
    with db.session() as s:
        s.get(Probe, probe_id).state = state


def _catch_up(db, at: float) -> int:  # type: ignore[no-untyped-def]
    with db.session() as s:
        return catch_up(s, at)


async def test_held_inside_the_window_then_one_catch_up(sqlite_db, https_receiver, hook_settings) -> None:  # type: ignore[no-untyped-def]
    probe_id, _, secret = _setup(sqlite_db, https_receiver.url("/hook"))
    https_receiver.secrets["/hook"] = secret
    # Before the window: delivered as usual (the receiver now knows HEALTHY).
    assert record_transition(sqlite_db, probe_id, "UNKNOWN", "HEALTHY", at=T0 - 10 * MIN)[1] == 1
    # Inside it: recorded, held.
    assert record_transition(sqlite_db, probe_id, "HEALTHY", "UNHEALTHY", at=T0 + 5 * MIN)[1] == 0
    assert (
        record_transition(sqlite_db, probe_id, "UNHEALTHY", "DEGRADED", at=T0 + 20 * MIN, metrics={"mos": 3.2})[1] == 0
    )
    _set_state(sqlite_db, probe_id, "DEGRADED")
    with sqlite_db.session() as s:
        assert len(s.scalars(select(Transition)).all()) == 3  # every transition is on record
    assert len(deliveries(sqlite_db)) == 1
    assert _catch_up(sqlite_db, T0 + 25 * MIN) == 0  # still inside
    assert _catch_up(sqlite_db, T0 + 31 * MIN) == 1  # over: one catch-up, HEALTHY -> DEGRADED
    assert _catch_up(sqlite_db, T0 + 32 * MIN) == 0  # and only one
    d = Dispatcher(sqlite_db.sessions, hook_settings, owner="t1")
    await d.start()
    try:
        reqs = await https_receiver.wait_for(2, "/hook")
    finally:
        await d.stop()
    assert all(r.verdict is None for r in reqs)
    body = json.loads(reqs[-1].body)
    assert set(body) == CONTRACT_FIELDS
    assert (body["event"], body["previous_status"], body["current_status"]) == (
        "probe.status_changed",
        "HEALTHY",
        "DEGRADED",
    )
    assert body["timestamp"] == "2026-01-15T10:50:00.000Z" and body["metrics"] == {"mos": 3.2}
    with sqlite_db.session() as s:
        hook = s.scalars(select(Webhook)).one()
        assert (hook.last_notified_state, hook.held_since) == ("DEGRADED", None)


async def test_no_catch_up_when_the_state_came_back(sqlite_db, https_receiver, hook_settings) -> None:  # type: ignore[no-untyped-def]
    probe_id, _, _ = _setup(sqlite_db, https_receiver.url("/h2"))
    record_transition(sqlite_db, probe_id, "UNKNOWN", "HEALTHY", at=T0 - 10 * MIN)
    assert record_transition(sqlite_db, probe_id, "HEALTHY", "UNHEALTHY", at=T0 + 5 * MIN)[1] == 0
    assert record_transition(sqlite_db, probe_id, "UNHEALTHY", "HEALTHY", at=T0 + 10 * MIN)[1] == 0
    _set_state(sqlite_db, probe_id, "HEALTHY")
    assert _catch_up(sqlite_db, T0 + 31 * MIN) == 0
    assert len(deliveries(sqlite_db)) == 1
    with sqlite_db.session() as s:
        assert s.scalars(select(Webhook)).one().held_since is None


async def test_notify_during_maintenance_delivers_at_once(sqlite_db, https_receiver, hook_settings) -> None:  # type: ignore[no-untyped-def]
    probe_id, _, secret = _setup(sqlite_db, https_receiver.url("/h3"), notify_during=True)
    https_receiver.secrets["/h3"] = secret
    assert record_transition(sqlite_db, probe_id, "HEALTHY", "UNHEALTHY", at=T0 + 5 * MIN, now=time.time())[1] == 1
    d = Dispatcher(sqlite_db.sessions, hook_settings, owner="t1")
    await d.start()
    try:
        [req] = await https_receiver.wait_for(1, "/h3")
    finally:
        await d.stop()
    assert req.verdict is None and set(json.loads(req.body)) == CONTRACT_FIELDS
    assert _catch_up(sqlite_db, T0 + 31 * MIN) == 0
