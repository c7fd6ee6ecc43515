"""A missing secret or routing key is a local problem: never counted toward auto-disable, shown as such, and the
held deliveries go out once the environment is fixed and the process restarted (issue 12 #4)."""

from __future__ import annotations

import io
import time

from sqlalchemy import select

from callmeter_tui.store.models import Notification, Webhook
from callmeter_tui.webhooks import outbox
from callmeter_tui.webhooks.dispatcher import Dispatcher
from callmeter_tui.webhooks.listing import list_webhooks

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


SHORTAGE = """
import asyncio, json, os, sys, time
from sqlalchemy import select
from callmeter_tui.config.model import WebhookSettings
from callmeter_tui.store.database import open_database
from callmeter_tui.store.models import Delivery, DeliveryAttempt, Webhook
from callmeter_tui.webhooks import outbox
from callmeter_tui.webhooks.dispatcher import Dispatcher
from tests.webhooks.conftest import add_probe, record_transition

async def main(path, url, ca):
    db = open_database("sqlite:///" + path)
    pid = add_probe(db)
    with db.session() as s:
        hook, _ = outbox.create_webhook(s, pid, url, "generic", time.time(), allow_private=True)
    for i in range(12):
        record_transition(db, pid, ["HEALTHY", "DEGRADED"][i % 2], ["DEGRADED", "HEALTHY"][i % 2], now=time.time())
    held = [db.engine.connect() for _ in range(5)]  # the pool keeps them: recording needs no new descriptor
    for c in held:
        c.close()
    d = Dispatcher(db.sessions, WebhookSettings(allow_private_targets=True, ca_bundle=ca, timeout_s=2.0))
    hog = []
    try:
        while True:
            hog.append(os.open("/dev/null", os.O_RDONLY))
    except OSError:
        pass
    os.close(hog.pop())  # one for the dispatcher's own start-up (the CA bundle) ...
    await d.start()
    hog.append(os.open("/dev/null", os.O_RDONLY))  # ... taken again before its first attempt
    deadline = time.time() + 20
    while time.time() < deadline:
        with db.session() as s:
            if len(s.scalars(select(DeliveryAttempt)).all()) >= 12:
                break
        await asyncio.sleep(0.2)
    for fd in hog:
        os.close(fd)
    await d.stop(grace_s=1)
    with db.session() as s:
        out = {
            "enabled": s.get(Webhook, hook.id).enabled,
            "errors": [a.error for a in s.scalars(select(DeliveryAttempt))],
            "attempts": [x.attempts for x in s.scalars(select(Delivery))],
        }
    print("RESULT " + json.dumps(out), flush=True)

asyncio.run(main(*sys.argv[1:]))
"""


async def test_out_of_descriptors_in_an_attempt_is_local_and_never_disables(tmp_path, https_receiver, webhook_ca):
    """EMFILE while connecting (the process ran out, issue 12 #1) is not the endpoint's failure."""
    import json
    import resource
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    r = subprocess.run(
        [sys.executable, "-c", SHORTAGE, str(tmp_path / "s.db"), https_receiver.url("/s"), webhook_ca.ca_bundle],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=root,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256)),
    )
    [line] = [x for x in r.stdout.splitlines() if x.startswith("RESULT ")] or [r.stdout[-3000:] + r.stderr[-3000:]]
    out = json.loads(line.removeprefix("RESULT "))
    assert len(out["errors"]) >= 12, out
    assert all(
        e.startswith("not sent (local problem, not counted): no resources to connect: ") for e in out["errors"]
    ), out
    assert out["enabled"] and set(out["attempts"]) == {0}, out
