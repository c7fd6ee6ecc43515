"""The engine's maintenance watch, on SQLite and PostgreSQL: a window scheduled by another process, a
window starting and ending with nobody touching anything, each tells the views (pages re-render, the
dashboard marks the probe), and the webhook catch-up due at the end is queued and announced."""

from __future__ import annotations

from typing import Any

from callmeter_tui.bus.events import DeliveriesQueued, PagesChanged, ProbesChanged
from callmeter_tui.engine.maintenance_watch import MaintenanceWatch
from callmeter_tui.store.database import in_transaction, project_id
from callmeter_tui.store.maintenance import schedule
from callmeter_tui.store.models import Component, Probe, StatusPage, Transition, Webhook
from callmeter_tui.webhooks.outbox import enqueue_for_transition

T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z


def _seed(db: Any) -> int:
    with db.session() as s:
        p = Probe(
            project_id=project_id(s),
            name="edge",
            kind="sip_options",
            target="sip:127.0.0.1",
            state="HEALTHY",
            created_at=T0,
            updated_at=T0,
        )
        s.add(p)
        s.flush()
        page = StatusPage(slug="voip", name="VoIP", timezone="UTC", updated_at=T0)
        page.components.append(Component(probe_id=p.id, name="Edge", position=0))
        s.add(page)
        s.add(Webhook(probe_id=p.id, url="https://hooks.example.com/x", format="generic", secret="s", created_at=T0))
        return p.id


async def test_watch_follows_windows_and_queues_the_catch_up(database) -> None:  # type: ignore[no-untyped-def]
    probe_id = _seed(database)
    clock = [T0]
    events: list[Any] = []
    active_seen: list[frozenset[int]] = []

    async def uow(fn: Any) -> Any:
        return in_transaction(database.sessions, fn)

    watch = MaintenanceWatch(uow, events.append, lambda: clock[0], active_seen.append)
    await watch.tick()
    assert events == []  # the first look is the baseline
    with database.session() as s:  # "the CLI": another writer, no event
        schedule(s, page="voip", component="Edge", title="Swap", start="2027-01-15T08:10Z", end="2027-01-15T08:40Z")
    await watch.tick()
    assert events == [PagesChanged(())] and active_seen == []
    events.clear()
    clock[0] = T0 + 11 * 60  # the window started: nobody wrote anything
    await watch.tick()
    assert events == [ProbesChanged((probe_id,)), PagesChanged(())] and active_seen == [frozenset({probe_id})]
    events.clear()
    with database.session() as s:  # a transition inside the window is held
        tr = Transition(probe_id=probe_id, at=clock[0], previous_state="HEALTHY", current_state="UNHEALTHY")
        s.add(tr)
        probe = s.get(Probe, probe_id)
        probe.state = "UNHEALTHY"
        s.flush()
        assert enqueue_for_transition(s, tr, probe, _project(s), clock[0]) == 0
    await watch.tick()
    assert events == []
    clock[0] = T0 + 41 * 60  # over
    await watch.tick()
    assert events == [ProbesChanged((probe_id,)), PagesChanged(()), DeliveriesQueued(1)]
    assert active_seen[-1] == frozenset()


def _project(s: Any) -> Any:
    from callmeter_tui.store.models import Project

    return s.get(Project, project_id(s))
