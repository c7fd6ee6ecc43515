"""The monitor: keeps the scheduler's jobs equal to the probes in the store, runs them, and keeps an
in-memory snapshot (ProbeView; engine.snapshot holds it) that the views read without I/O.
Implements engine.api.MonitorAPI."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import logging
import os
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from ..bus.events import (
    DeliveriesQueued,
    Event,
    EventBus,
    NotificationRaised,
    PagesChanged,
    ProbesChanged,
)
from ..config.model import Config
from ..domain.probe import ProbeSpec, StatusPageSpec, WebhookFormat
from ..store import maintenance as maintenance_store
from ..store.database import Database
from ..store.models import Notification
from ..store.retention import prune, rollup_hours
from ..store.sync import sync_config
from ..webhooks import outbox
from . import actions, reads
from .api import HistoryView, ProbeDetail, ProbeView, RecentTransition, StatusPageView, TraceView
from .maintenance_watch import POLL_S as MAINTENANCE_POLL_S
from .maintenance_watch import MaintenanceWatch
from .runner import Prober, Runner
from .schedule import ProbeSchedule
from .snapshot import Snapshot, load_rows, remote_events, remote_rows

log = logging.getLogger("callmeter_tui.engine")
# The store's writer thread runs Python (the ORM) for milliseconds per execution and holds the GIL meanwhile:
# with the default 5 ms switch interval each system call of the loop (an order to a worker, a keep-alive)
# could wait that long to get it back. At 10,000 probes that added up to runs starting hundreds of ms late.
ENGINE_SWITCH_INTERVAL_S = 0.001


class Monitor:
    """Run probe -> evaluate -> persist -> publish, on APScheduler inside the running loop."""

    def __init__(
        self,
        config: Config,
        db: Database,
        prober: Prober,
        *,
        bus: EventBus | None = None,
        agent: str = "local",
        clock: Callable[[], float] = time.time,
        watchdog_s: float = 15.0,
        remote_s: float = 5.0,
        secrets: Mapping[str, str] = os.environ,
    ) -> None:
        self.config = config
        self.db = db
        self.bus = bus or EventBus()
        self.agent = agent
        self.clock = clock
        self.snapshot = Snapshot()
        self.runner = Runner(
            db,
            self.bus,
            prober,
            agent=agent,
            clock=clock,
            max_concurrency=config.engine.max_concurrency,
            secrets=secrets,
            observe=self.snapshot.apply,
        )
        self.schedule = ProbeSchedule(self._job)
        self.watchdog_s = watchdog_s
        self.remote_s = remote_s
        self._specs: dict[int, ProbeSpec] = {}
        self._web_url: str | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopping = False  # set by stop(): runs cancelled from then on are not job failures
        self._switch_interval: float | None = None  # the interpreter's own, restored by stop()
        self.maintenance = MaintenanceWatch(
            self.runner.unit_of_work, self.bus.publish, clock, self.snapshot.mark_maintenance
        )

    # --- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        self._stopping = False
        changed = await self.runner.unit_of_work(self._import_config)
        await self._reload()
        await self.maintenance.tick()  # before scheduling: probes' first runs are spread from here
        # The probes' specs, views and their ORM leftovers live for the run: collected and frozen before the
        # first runs fall due, so the collector's next full pass (at the end of start-up) has little to walk.
        gc.collect()
        gc.freeze()
        if self._switch_interval is None:
            self._switch_interval = sys.getswitchinterval()
            sys.setswitchinterval(min(self._switch_interval, ENGINE_SWITCH_INTERVAL_S))
        self.schedule.start()
        self._reconcile()
        self.schedule.add_periodic("watchdog", self.watchdog_s, self._watchdog)
        self.schedule.add_periodic("retention", 3600.0, self._retention, first_in=120.0)
        self.schedule.add_periodic("remote", self.remote_s, self._follow_remote)
        self.schedule.add_periodic("maintenance", MAINTENANCE_POLL_S, self.maintenance.tick)
        for pid in changed:
            if pid in self._specs:
                await self.runner.to_unknown(pid, self._specs[pid].name, "probe added or its target changed")

    async def stop(self, grace_s: float | None = None) -> None:
        """Stop scheduling; let in-flight runs finish (bounded by the longest probe timeout), then
        cancel what is left: the runner records those executions as interrupted."""
        self._stopping = True
        self.schedule.pause()
        if grace_s is None:
            grace_s = max((s.run_budget_s for s in self._specs.values()), default=0) + 2
        deadline = time.monotonic() + grace_s
        while self.runner.in_flight and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await self.runner.cancel_in_flight()
        await self.runner.drain()
        self.schedule.shutdown()
        for t in list(self._tasks):
            t.cancel()
        await asyncio.get_running_loop().run_in_executor(None, self.runner.close)
        if self._switch_interval is not None:
            sys.setswitchinterval(self._switch_interval)
            self._switch_interval = None

    def _import_config(self, s: Session) -> list[int]:
        report = sync_config(s, self.config)
        for line in report.conflicts:
            log.warning("config import: %s", line)
        return list(report.retargeted_ids)  # created probes start UNKNOWN already

    async def reload_config(self, config: Config) -> None:
        """SIGHUP: re-import the file and apply changes at once, without a restart."""
        self.config = config
        changed = await self.runner.unit_of_work(self._import_config)
        await self._reload()
        self._reconcile()
        for pid in changed:
            if pid in self._specs:
                await self.runner.to_unknown(pid, self._specs[pid].name, "probe added or its target changed")
        self.bus.publish(ProbesChanged(tuple(self._specs)))

    async def _reload(self) -> None:
        rows, mos = await self.runner.unit_of_work(load_rows)
        self._specs = {pid: spec for pid, (spec, _meta) in rows.items()}
        self.snapshot.reset(rows, mos, self.maintenance.active)

    def _reconcile(self) -> None:
        wanted = {
            pid: spec.interval_s for pid, spec in self._specs.items() if spec.enabled and spec.agent == self.agent
        }
        self.schedule.reconcile(wanted)

    # --- jobs -----------------------------------------------------------------------------------
    async def _job(self, probe_id: int) -> None:
        spec = self._specs.get(probe_id)
        if spec is None or not spec.enabled:
            return
        try:
            await self.runner.run(probe_id, spec)
        except asyncio.CancelledError:
            if not self._stopping:
                raise
            # Cut short by stop(): the runner recorded it as interrupted. Not a job failure, so the scheduler
            # logs no traceback (with a backlog at shutdown that was one traceback per queued run).
        except Exception:
            log.exception("run of %r failed", spec.name)

    async def _watchdog(self) -> None:
        """A probe with no result for 3 intervals goes to UNKNOWN (engine stalled, worker died, node down)."""
        now = self.clock()
        for pid, view in list(self.snapshot.views.items()):
            spec = self._specs.get(pid)
            if spec is None or not spec.enabled or view.state == "UNKNOWN" or pid in self.runner.in_flight:
                continue
            last = view.last_execution_at or view.state_since or now
            if now - last > 3 * spec.interval_s:
                await self.runner.to_unknown(pid, spec.name, "no result for 3 intervals")

    async def _follow_remote(self) -> None:
        """Probes other nodes run (other agents, shared PostgreSQL): read their latest results from the
        store and publish them as events, so every view shows every probe."""
        remote = {pid: v for pid, v in self.snapshot.views.items() if self._specs[pid].agent != self.agent}
        if not remote:
            return
        for p, e in await self.runner.unit_of_work(remote_rows, remote):
            for event in remote_events(p, e, remote[p.id], self.clock):
                self._emit(event)

    async def _retention(self) -> None:
        def retain(s: Session) -> None:
            rollup_hours(s, self.clock())
            prune(s, self.config.retention, self.clock())

        try:
            await self.runner.unit_of_work(retain)
        except Exception:
            log.exception("retention job failed")

    # --- snapshot ---------------------------------------------------------------------------------
    def _emit(self, event: Event) -> None:
        """Update the snapshot, then tell the views: the snapshot is current before any view hears of it."""
        self.snapshot.apply(event)
        self.bus.publish(event)

    def probe_views(self) -> list[ProbeView]:
        return self.snapshot.sorted_views()

    def web_url(self) -> str | None:
        return self._web_url

    def set_web_url(self, url: str | None) -> None:
        self._web_url = url

    def recent_notifications(self) -> list[NotificationRaised]:
        return self.snapshot.notifications()

    async def recent_transitions(self, limit: int) -> list[RecentTransition]:
        return await asyncio.to_thread(reads.recent_transitions, self.db, limit)

    def notify(self, kind: str, text: str, level: str = "warning") -> None:
        """Store and publish an operator notification (e.g. prober restarted)."""

        def store(s: Session) -> int:
            n = Notification(at=self.clock(), level=level, kind=kind, text=text)
            s.add(n)
            s.flush()
            return n.id

        async def go() -> None:
            nid = await self.runner.unit_of_work(store)
            log.warning("%s: %r", kind, text)  # text can carry names: quoted, never a forged line
            self._emit(NotificationRaised(nid, level, kind, text, self.clock()))

        self._spawn(go())

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- actions (MonitorAPI) ---------------------------------------------------------------------
    async def run_now(self, probe_id: int) -> None:
        spec = self._specs.get(probe_id)
        if spec is not None:
            await self.runner.run(probe_id, spec)

    async def add_probe(self, spec: ProbeSpec) -> int:
        spec = dataclasses.replace(spec, source="interactive")
        pid = await self.runner.unit_of_work(actions.create_probe, spec, self.clock())
        await self._after_probe_change(pid, unknown=True)
        return pid

    async def update_probe(self, probe_id: int, spec: ProbeSpec) -> None:
        target_changed = await self.runner.unit_of_work(actions.update_probe, probe_id, spec, self.clock())
        await self._after_probe_change(probe_id, unknown=target_changed)

    async def set_enabled(self, probe_id: int, enabled: bool) -> None:
        spec = self._specs.get(probe_id)
        if spec is not None:
            await self.update_probe(probe_id, dataclasses.replace(spec, enabled=enabled))

    async def delete_probe(self, probe_id: int) -> None:
        await self.runner.unit_of_work(actions.delete_probe, probe_id)
        self.schedule.remove(probe_id)
        self._specs.pop(probe_id, None)
        self.snapshot.drop(probe_id)
        self.bus.publish(ProbesChanged((probe_id,)))

    async def _after_probe_change(self, probe_id: int, *, unknown: bool) -> None:
        await self._reload()
        self._reconcile()
        if unknown and probe_id in self._specs:
            await self.runner.to_unknown(probe_id, self._specs[probe_id].name, "probe added or its target changed")
        self.bus.publish(ProbesChanged((probe_id,)))

    async def schedule_maintenance(
        self,
        page: str | None,
        component: str | None,
        title: str | None,
        start: str | None,
        end: str | None,
        rrule: str | None = None,
    ) -> int:
        """A window from the dashboard (store.maintenance.schedule's rules; MaintenanceError names the key)."""
        view = await self.runner.unit_of_work(
            lambda s: maintenance_store.schedule(
                s, page=page, component=component, title=title, start=start, end=end, rrule=rrule, source="dashboard"
            )
        )
        await self.maintenance.tick()
        self.bus.publish(PagesChanged(()))
        return int(view.id)

    async def save_status_page(self, spec: StatusPageSpec, page_id: int | None = None) -> int:
        pid, slugs = await self.runner.unit_of_work(actions.save_status_page, spec, page_id, self.clock())
        self.bus.publish(PagesChanged(tuple(slugs)))
        return pid

    async def delete_status_page(self, page_id: int) -> None:
        slug = await self.runner.unit_of_work(actions.delete_status_page, page_id)
        if slug:
            self.bus.publish(PagesChanged((slug,)))

    async def list_status_pages(self) -> list[StatusPageView]:
        return await self.runner.db_call(reads.list_status_pages, self.db)

    async def history(self, probe_ids: list[int], mode: str = "days") -> dict[int, HistoryView]:
        return await asyncio.to_thread(reads.history, self.db, probe_ids, mode, self.clock())

    async def probe_detail(self, probe_id: int, range_s: float = 86400.0) -> ProbeDetail:
        view = self.snapshot.views[probe_id]
        return await asyncio.to_thread(reads.probe_detail, self.db, view, range_s, self.clock())

    async def execution_trace(self, probe_id: int, execution_id: int | None = None) -> TraceView | None:
        return await asyncio.to_thread(reads.execution_trace, self.db, probe_id, execution_id)

    async def add_webhook(
        self,
        probe_id: int,
        url: str,
        format: WebhookFormat = WebhookFormat.GENERIC,
        routing_key_env: str | None = None,
    ) -> tuple[int, str]:
        allow_private = self.config.webhooks.allow_private_targets
        result = await self.runner.unit_of_work(
            actions.add_webhook, probe_id, url, format, routing_key_env, self.clock(), allow_private
        )
        self.bus.publish(ProbesChanged((probe_id,)))
        return result

    async def set_webhook_enabled(self, webhook_id: int, enabled: bool) -> None:
        await self.runner.unit_of_work(outbox.set_enabled, webhook_id, enabled, self.clock())

    async def rotate_webhook_secret(self, webhook_id: int) -> str:
        return await self.runner.unit_of_work(outbox.rotate_secret, webhook_id)

    async def delete_webhook(self, webhook_id: int) -> None:
        await self.runner.unit_of_work(outbox.delete_webhook, webhook_id)

    async def redeliver(self, delivery_id: int) -> int:
        did = await self.runner.unit_of_work(outbox.redeliver, delivery_id, self.clock())
        self.bus.publish(DeliveriesQueued(1))
        return did

    async def send_test_event(self, webhook_id: int) -> int:
        did = await self.runner.unit_of_work(outbox.enqueue_test, webhook_id, self.clock())
        self.bus.publish(DeliveriesQueued(1))
        return did
