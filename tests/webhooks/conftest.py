"""Shared set-up for the webhook tests: a probe with a transition, a fake clock, dispatcher settings."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select

from callmeter_tui.config.model import WebhookSettings
from callmeter_tui.store.database import Database
from callmeter_tui.store.models import Delivery, DeliveryAttempt, Execution, Probe, Project, Transition

T0 = 1_768_473_000.0  # 2026-01-15T10:30:00Z


@dataclass
class FakeClock:
    """Injectable clock + sleep: sleeping advances time instantly and records the requested delays."""

    t: float
    slept: list[float] = field(default_factory=list)
    hold_from: float | None = None  # sleeps this long or longer never end (a dispatcher parked mid-retry)

    def __call__(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        if self.hold_from is not None and seconds >= self.hold_from:
            await asyncio.Event().wait()
        self.t += seconds
        await asyncio.sleep(0.002)


@pytest.fixture
def sqlite_db(sqlite_database: Database) -> Database:
    return sqlite_database


def add_probe(db: Database, name: str = "Production PBX Health", state: str = "HEALTHY", now: float = T0) -> int:
    with db.session() as s:
        project = s.scalar(select(Project).order_by(Project.id).limit(1))
        assert project is not None
        probe = Probe(
            project_id=project.id,
            name=name,
            kind="sip_options",
            target="sip:pbx.example.com",
            created_at=now,
            updated_at=now,
            state=state,
        )
        s.add(probe)
        s.flush()
        return probe.id


def record_transition(
    db: Database,
    probe_id: int,
    previous: str,
    current: str,
    *,
    at: float = T0,
    metrics: dict[str, Any] | None = None,
    breaches: list[dict[str, Any]] | None = None,
    with_execution: bool = True,
    now: float | None = None,
) -> tuple[int, int]:
    """Execution + Transition + outbox rows in one transaction, the way the engine does it. -> (transition id, queued)."""
    from callmeter_tui.webhooks.outbox import enqueue_for_transition

    with db.session() as s:
        execution_id = None
        if with_execution:
            ex = Execution(
                probe_id=probe_id, started_at=at, state=current, ok=True, metrics=metrics or {}, breaches=breaches or []
            )
            s.add(ex)
            s.flush()
            execution_id = ex.id
        tr = Transition(
            probe_id=probe_id,
            at=at,
            previous_state=previous,
            current_state=current,
            execution_id=execution_id,
            metrics=metrics or {},
            breaches=breaches or [],
        )
        s.add(tr)
        s.flush()
        probe = s.get(Probe, probe_id)
        project = s.get(Project, probe.project_id)
        queued = enqueue_for_transition(s, tr, probe, project, at if now is None else now)
        return tr.id, queued


def deliveries(db: Database) -> list[Delivery]:
    with db.session() as s:
        return list(s.scalars(select(Delivery).order_by(Delivery.id)))


def attempts(db: Database, delivery_id: int | None = None) -> list[DeliveryAttempt]:
    with db.session() as s:
        q = select(DeliveryAttempt).order_by(DeliveryAttempt.at, DeliveryAttempt.id)
        if delivery_id is not None:
            q = q.where(DeliveryAttempt.delivery_id == delivery_id)
        return list(s.scalars(q))


async def eventually(check: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02) -> Any:
    """Poll ``check`` (a sync predicate on DB state) until truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await asyncio.to_thread(check)
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(interval)


@pytest.fixture
def hook_settings(webhook_ca) -> WebhookSettings:  # type: ignore[no-untyped-def]
    """Loopback receivers need allow_private_targets; the trustme CA comes in through ca_bundle."""
    return WebhookSettings(allow_private_targets=True, ca_bundle=webhook_ca.ca_bundle, timeout_s=2.0)
