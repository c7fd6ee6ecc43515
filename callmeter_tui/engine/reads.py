"""Read-side queries for the views: uptime bars, probe drill-down, status page list.

They run in worker threads (never on the UI loop) and use the domain's uptime and bar rules.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import select

from ..domain.bars import BarSegment, bar_segments_many, day_boundaries, hour_boundaries
from ..domain.chart import hourly_means
from ..domain.health import HealthState
from ..domain.incidents import incidents
from ..domain.maintenance import maintenance_matrix
from ..domain.metric_catalog import METRICS
from ..domain.probe import ComponentSpec, ProbeKind, ProbeSpec, StatusPageSpec
from ..domain.siptrace import decode_trace
from ..domain.spans import carve, format_uptime, uptime_ratio
from ..store import queries
from ..store.database import Database
from ..store.maintenance import maintenance_intervals
from ..store.models import Delivery, DeliveryAttempt, Execution, Probe, StatusPage, Webhook
from ..store.traces import execution_trace as stored_trace
from ..webhooks.outbox import mask_secret
from .api import (
    AttemptRow,
    DeliveryView,
    ExecutionRow,
    HistoryView,
    ProbeDetail,
    ProbeView,
    RecentTransition,
    StatusPageView,
    TraceView,
    TransitionRow,
    WebhookView,
)

DELIVERIES_SHOWN = 20


def history(db: Database, probe_ids: list[int], mode: str, now: float, tz: str = "UTC") -> dict[int, HistoryView]:
    """Bars and uptime for many probes at once: 90 daily segments, or 24 hourly ones."""
    bounds = hour_boundaries(now, 24) if mode == "hours" else day_boundaries(now, 90, tz)
    start = float(bounds[0])
    with db.session() as s:
        spans = queries.load_spans(s, probe_ids, start, now)
        maint = maintenance_intervals(s, probe_ids, start, now)
    per = [spans.get(pid, []) for pid in probe_ids]
    windows = [maint.get(pid, []) for pid in probe_ids]
    bars = bar_segments_many([carve(p, w) for p, w in zip(per, windows)], bounds, now)
    in_maint = maintenance_matrix(windows, bounds, now)
    return {
        pid: HistoryView(
            pid,
            tuple(_with_maintenance(bars[i], in_maint[i]) if windows[i] else bars[i]),
            format_uptime(uptime_ratio(per[i], start, now, windows[i])),
        )
        for i, pid in enumerate(probe_ids)
    }


def _with_maintenance(segments: list[BarSegment], seconds: Any) -> list[BarSegment]:
    """Segments carrying their maintenance seconds (taken out of their unknown time)."""
    return [
        dataclasses.replace(seg, maintenance_s=float(m), unknown_s=max(0.0, seg.unknown_s - float(m))) if m else seg
        for seg, m in zip(segments, seconds.tolist())
    ]


def probe_detail(db: Database, view: ProbeView, range_s: float, now: float) -> ProbeDetail:
    pid = view.id
    with db.session() as s:
        execs = tuple(_execution(e) for e in queries.latest_executions(s, pid, 50))
        trans = tuple(
            TransitionRow(t.at, HealthState.parse(t.previous_state), HealthState.parse(t.current_state))
            for t in queries.transitions(s, pid, 50)
        )
        spans = queries.load_spans(s, [pid], now - max(range_s, 30 * 86400.0), now).get(pid, [])
        series, means_before = queries.chart_series(s, pid, METRICS, now - range_s, now, hourly=hourly_means(range_s))
        hooks = tuple(
            _webhook(s, w) for w in s.scalars(select(Webhook).where(Webhook.probe_id == pid).order_by(Webhook.id))
        )
    return ProbeDetail(
        view=view,
        executions=execs,
        transitions=trans,
        incidents=tuple(incidents(spans)),
        series={m: tuple(v) for m, v in series.items() if v},
        webhooks=hooks,
        since=now - range_s,
        until=now,
        means_before=means_before,
        spans=tuple(sp for sp in spans if sp.ended_at > now - range_s),
    )


def recent_transitions(db: Database, limit: int) -> list[RecentTransition]:
    with db.session() as s:
        rows = queries.recent_transitions(s, limit)
    return [
        RecentTransition(
            t.at, t.probe_id, name, HealthState.parse(t.previous_state), HealthState.parse(t.current_state)
        )
        for t, name in reversed(rows)
    ]


def execution_trace(db: Database, probe_id: int, execution_id: int | None) -> TraceView | None:
    """The probe's execution (its latest when None) with its decoded SIP trace; None if there is none."""
    with db.session() as s:
        stored = stored_trace(s, probe_id, execution_id)
    if stored is None:
        return None
    return TraceView(stored.execution_id, stored.started_at, stored.ok, stored.error, decode_trace(stored.blob))


def _execution(e: Any) -> ExecutionRow:
    return ExecutionRow(
        id=e.id,
        started_at=e.started_at,
        state=HealthState.parse(e.state),
        ok=e.ok,
        sip_code=e.sip_code,
        sip_reason=e.sip_reason,
        error=e.error,
        metrics=dict(e.metrics or {}),
        breaches=list(e.breaches or []),
        duration_ms=e.duration_ms,
        details=dict(e.details or {}),
    )


def _webhook(s: Any, w: Webhook) -> WebhookView:
    rows = s.scalars(
        select(Delivery).where(Delivery.webhook_id == w.id).order_by(Delivery.id.desc()).limit(DELIVERIES_SHOWN)
    ).all()
    deliveries = []
    for d in rows:
        attempts = s.scalars(
            select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == d.id).order_by(DeliveryAttempt.id)
        ).all()
        deliveries.append(
            DeliveryView(
                id=d.id,
                created_at=d.created_at,
                status=d.status,
                attempts=d.attempts,
                last_error=d.last_error,
                is_test=d.is_test,
                attempt_log=tuple(AttemptRow(a.at, a.http_status, a.error, a.duration_ms, a.success) for a in attempts),
            )
        )
    masked = f"${w.secret_env}" if w.secret_env else mask_secret(w.secret or "")
    return WebhookView(
        id=w.id,
        probe_id=w.probe_id,
        url=w.url,
        format=w.format,
        enabled=w.enabled,
        disabled_reason=w.disabled_reason,
        masked_secret=masked,
        source=w.source,
        deliveries=tuple(deliveries),
    )


def list_status_pages(db: Database) -> list[StatusPageView]:
    with db.session() as s:
        out = []
        for p in s.scalars(select(StatusPage).order_by(StatusPage.slug)):
            comps = tuple(
                ComponentSpec(probe=_probe_name(s, c.probe_id), name=c.name, sla_target=c.sla_target)
                for c in p.components
            )
            spec = StatusPageSpec(
                slug=p.slug,
                name=p.name,
                description=p.description,
                accent_color=p.accent_color,
                logo=p.logo_path,
                timezone=p.timezone,
                bar_days=p.bar_days,
                refresh_s=p.refresh_s,
                components=comps,
            )
            out.append(StatusPageView(id=p.id, spec=spec, source=p.source))
        return out


def _probe_name(s: Any, probe_id: int) -> str:
    p = s.get(Probe, probe_id)
    return p.name if p else f"#{probe_id}"


def row_meta(p: Probe, last: Execution | None) -> dict[str, Any]:
    return {
        "state": p.state,
        "state_since": p.state_since,
        "last_execution_at": p.last_execution_at,
        "last_execution_id": p.last_execution_id,
        "position": p.position,
        "group": p.group,
        "metrics": dict(last.metrics) if last else {},
        "breaches": list(last.breaches) if last else [],
        "error": last.error if last else None,
        "sip_code": last.sip_code if last else None,
    }


def probe_view(pid: int, spec: ProbeSpec, meta: dict[str, Any]) -> ProbeView:
    return ProbeView(
        id=pid,
        name=spec.name,
        kind=ProbeKind(spec.kind),
        target=spec.target,
        enabled=spec.enabled,
        agent=spec.agent,
        source=spec.source,
        group=meta["group"] or spec.group,
        position=meta["position"],
        interval_s=spec.interval_s,
        state=HealthState.parse(meta["state"]),
        state_since=meta["state_since"],
        last_execution_at=meta["last_execution_at"],
        last_execution_id=meta["last_execution_id"],
        metrics=meta["metrics"],
        breaches=meta["breaches"],
        error=meta["error"],
        sip_code=meta["sip_code"],
        thresholds={m: {"warning": t.warning, "critical": t.critical} for m, t in spec.thresholds.items()},
        spec=spec,
    )
