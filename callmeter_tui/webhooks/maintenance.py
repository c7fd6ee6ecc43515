"""The catch-up after a maintenance window: transitions inside a window were recorded but held (see
``holds``); once the probe is out of every window, each held webhook whose receiver last heard a state
other than the probe's current one gets exactly one transition, last heard -> current, with the contract's
field set (nothing added). Restart-safe: the hold is in the database, not in memory; and claimed with a
compare-and-set, so two nodes never both send it.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..store.maintenance import under_maintenance
from ..store.models import Probe, Project, Transition, Webhook
from . import payloads as formats
from .outbox import add_delivery


def _claim(session: Session, hook: Webhook, delivered: str) -> bool:
    """Clear the hook's hold if nobody else did meanwhile."""
    result = session.execute(
        update(Webhook)
        .where(Webhook.id == hook.id, Webhook.held_since == hook.held_since)
        .values(held_since=None, last_notified_state=delivered)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def catch_up(session: Session, now: float) -> int:
    """Queue the catch-ups that are due; returns how many Delivery rows were added. No commit."""
    hooks = list(
        session.scalars(
            select(Webhook).where(Webhook.held_since.is_not(None), Webhook.enabled.is_(True)).order_by(Webhook.id)
        )
    )
    queued = 0
    for hook in hooks:
        probe = session.get(Probe, hook.probe_id)
        if probe is None or under_maintenance(session, probe.id, now):
            continue
        current, heard = probe.state or "UNKNOWN", hook.last_notified_state or "UNKNOWN"
        if not _claim(session, hook, current) or current == heard:
            continue
        last = session.scalar(
            select(Transition)
            .where(Transition.probe_id == probe.id, Transition.current_state == current)
            .order_by(Transition.at.desc(), Transition.id.desc())
            .limit(1)
        )
        project = session.get(Project, probe.project_id)
        event = formats.status_changed(
            probe_id=probe.id,
            probe_name=probe.name,
            project_id=probe.project_id,
            project_name=project.name if project else "",
            previous=heard,
            current=current,
            at=last.at if last is not None else now,
            execution_id=last.execution_id if last is not None else None,
            metrics=last.metrics if last is not None else {},
            breaches=last.breaches if last is not None else [],
        )
        add_delivery(session, hook, event, last.id if last is not None else None, now)
        queued += 1
    return queued
