"""Reading one execution's SIP trace back: the row's outcome and its stored (compressed) messages.

The trace column is deferred on ``Execution`` so listing executions never loads it; this is the one
read that does. Traces are pruned with their executions (same row).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from .models import Execution


@dataclass(frozen=True)
class StoredTrace:
    """An execution's outcome and its trace blob (None when nothing was captured)."""

    execution_id: int
    started_at: float
    ok: bool
    error: str | None
    sip_code: int | None
    sip_reason: str
    blob: bytes | None


def execution_trace(session: Session, probe_id: int, execution_id: int | None = None) -> StoredTrace | None:
    """The probe's execution ``execution_id`` (its latest when None), or None if it has no such execution."""
    stmt = select(Execution).options(undefer(Execution.sip_trace)).where(Execution.probe_id == probe_id)
    if execution_id is None:
        stmt = stmt.order_by(Execution.started_at.desc(), Execution.id.desc()).limit(1)
    else:
        stmt = stmt.where(Execution.id == execution_id)
    row = session.scalars(stmt).first()
    if row is None:
        return None
    return StoredTrace(
        execution_id=row.id,
        started_at=row.started_at,
        ok=row.ok,
        error=row.error,
        sip_code=row.sip_code,
        sip_reason=row.sip_reason,
        blob=row.sip_trace,
    )
