"""A missing secret or routing key is a local problem: never counted toward auto-disable, shown as such, and the
held deliveries go out once the environment is fixed and the process restarted (issue 12 #4)."""

from __future__ import annotations

import io
import time

from sqlalchemy import select

from callmeter_tui.store.models import Notification, Webhook
from callmeter_tui.webhooks import outbox
from callmeter_tui.webhooks.cli import list_webhooks
from callmeter_tui.webhooks.dispatcher import Dispatcher

from .conftest import FakeClock, add_probe, attempts, deliveries, eventually, record_transition

ENV = "CALLMETER_TEST_LOCAL_SECRET"
TRANSITIONS = 12  # more than the 10 failures that auto-disable a webhook


async def _dispatch_until(db, settings, clock, check) -> None:  # type: ignore[no-untyped-def]
    d = Dispatcher(db.sessions, settings, owner="local", clock=clock, sleep=clock.sleep)
    await d.start()
    try:
        await eventually(check, timeout=20)
    finally:
        await d.stop(grace_s=1)


async def test_missing_secret_env_never_disables_and_deliveries_go_out_once_fixed(
    sqlite_db, https_receiver, hook_settings, monkeypatch
) -> None:
    monkeypatch.delenv(ENV, raising=False)
    clock = FakeClock(float(int(time.time())))
    probe_id = add_probe(sqlite_db)
    with sqlite_db.session() as s:
        hook, _ = outbox.create_webhook(
            s, probe_id, https_receiver.url("/l"), "generic", clock.t, allow_private=True, secret_env=ENV
        )
        hook_id = hook.id
    states = ["DEGRADED", "HEALTHY"]
    for i in range(TRANSITIONS):
        record_transition(sqlite_db, probe_id, states[(i + 1) % 2], states[i % 2], at=clock.t + i, now=clock.t)

    await _dispatch_until(sqlite_db, hook_settings, clock, lambda: len(attempts(sqlite_db)) >= 2 * TRANSITIONS)
    with sqlite_db.session() as s:
        assert s.get(Webhook, hook_id).enabled, s.get(Webhook, hook_id).disabled_reason
        assert not s.scalars(select(Notification).where(Notification.kind == "webhook_disabled")).all()
    rows = deliveries(sqlite_db)
    assert {d.status for d in rows} == {"pending"} and {d.attempts for d in rows} == {0}
    assert all(a.error.startswith("not sent (local problem, not counted): secret: ") for a in attempts(sqlite_db))
    assert not https_receiver.received

    out = io.StringIO()
    list_webhooks(sqlite_db, False, out)
    assert "not sent (local problem, not counted): secret: environment variable" in out.getvalue()
    assert "held:    never sent: fix the environment of serve and restart it" in out.getvalue()

    monkeypatch.setenv(ENV, "fixed-secret-0123456789abcdef")  # the operator fixes the unit, then restarts
    https_receiver.secrets["/l"] = "fixed-secret-0123456789abcdef"
    clock.slept.clear()
    await _dispatch_until(
        sqlite_db, hook_settings, clock, lambda: {d.status for d in deliveries(sqlite_db)} == {"succeeded"}
    )
    assert len(https_receiver.at("/l")) == TRANSITIONS and all(r.verdict is None for r in https_receiver.at("/l"))
    assert not [t for t in clock.slept if t >= 300]  # sent at the restart, not after the next 5-minute look
