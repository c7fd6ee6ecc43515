"""The schema. Times are UTC epoch seconds (Float) so SQLite, PostgreSQL and numpy agree.

States are stored as HealthState values ("HEALTHY", ...). JSON columns hold plain dicts/lists.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from ..domain.defaults import ACCENT_COLOR, BAR_DAYS, PAGE_REFRESH_S, PROBE_INTERVAL_S, PROBE_TIMEOUT_S

# Named constraints so later Alembic migrations (batch mode on SQLite) can address them.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Project(Base):
    __tablename__ = "project"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class Probe(Base):
    """A probe's settings plus its current confirmed health (the engine's memory across restarts)."""

    __tablename__ = "probe"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(500))
    interval_s: Mapped[float] = mapped_column(Float, default=PROBE_INTERVAL_S)
    timeout_s: Mapped[float] = mapped_column(Float, default=PROBE_TIMEOUT_S)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    agent: Mapped[str] = mapped_column(String(100), default="local")
    username: Mapped[str | None] = mapped_column(String(200), nullable=True)
    password_env: Mapped[str | None] = mapped_column(String(200), nullable=True)
    thresholds: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # {"mos": {"warning": 3.5, "critical": 2.5}}
    confirm: Mapped[int] = mapped_column(Integer, default=1)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # expect_codes, codec, call_duration_s, ...
    source: Mapped[str] = mapped_column(String(20), default="config")  # "config" | "interactive"
    position: Mapped[int] = mapped_column(Integer, default=0)
    group: Mapped[str] = mapped_column(String(100), default="")
    # Current confirmed health and the confirm-N bookkeeping.
    state: Mapped[str] = mapped_column(String(10), default="UNKNOWN")
    state_since: Mapped[float | None] = mapped_column(Float, nullable=True)
    pending_state: Mapped[str | None] = mapped_column(String(10), nullable=True)
    pending_count: Mapped[int] = mapped_column(Integer, default=0)
    last_execution_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_execution_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)

    webhooks: Mapped[list[Webhook]] = relationship(back_populates="probe", cascade="all, delete-orphan")


class Execution(Base):
    """One probe run: raw, pruned after retention.executions."""

    __tablename__ = "execution"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    probe_id: Mapped[int] = mapped_column(ForeignKey("probe.id", ondelete="CASCADE"))
    started_at: Mapped[float] = mapped_column(Float)
    duration_ms: Mapped[float] = mapped_column(Float, default=0.0)
    state: Mapped[str] = mapped_column(String(10))
    ok: Mapped[bool] = mapped_column(Boolean)
    sip_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sip_reason: Mapped[str] = mapped_column(String(200), default="")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    breaches: Mapped[list[Any]] = mapped_column(JSON, default=list)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    agent: Mapped[str] = mapped_column(String(100), default="local")
    # The run's SIP messages (domain/siptrace.py: redacted, capped, zlib'd JSON); deferred: only `trace` reads it.
    sip_trace: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, deferred=True)

    __table_args__ = (Index("ix_execution_probe_time", "probe_id", "started_at"),)


class HealthSpanRow(Base):
    """Run-length health timeline: [started_at, ended_at) in one state. ``open`` marks the current span,
    whose ended_at is the time of its latest execution (extended on every record)."""

    __tablename__ = "health_span"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    probe_id: Mapped[int] = mapped_column(ForeignKey("probe.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(10))
    started_at: Mapped[float] = mapped_column(Float)
    ended_at: Mapped[float] = mapped_column(Float)
    open: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (Index("ix_span_probe_time", "probe_id", "started_at"),)


class Transition(Base):
    __tablename__ = "transition"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    probe_id: Mapped[int] = mapped_column(ForeignKey("probe.id", ondelete="CASCADE"))
    at: Mapped[float] = mapped_column(Float)
    previous_state: Mapped[str] = mapped_column(String(10))
    current_state: Mapped[str] = mapped_column(String(10))
    execution_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    breaches: Mapped[list[Any]] = mapped_column(JSON, default=list)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)  # why, when not an execution (stale, retargeted)

    __table_args__ = (Index("ix_transition_probe_time", "probe_id", "at"),)


class MetricRollup(Base):
    """Hourly aggregate per probe and metric, kept for history charts after raw executions are pruned."""

    __tablename__ = "metric_rollup"
    probe_id: Mapped[int] = mapped_column(ForeignKey("probe.id", ondelete="CASCADE"), primary_key=True)
    hour_start: Mapped[float] = mapped_column(Float, primary_key=True)
    metric: Mapped[str] = mapped_column(String(40), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    min: Mapped[float] = mapped_column(Float)
    mean: Mapped[float] = mapped_column(Float)
    max: Mapped[float] = mapped_column(Float)
    p95: Mapped[float] = mapped_column(Float)


class RollupMark(Base):
    """Per probe: executions before ``rolled_until`` are rolled up (so rollups are idempotent and pruning is safe)."""

    __tablename__ = "rollup_mark"
    probe_id: Mapped[int] = mapped_column(ForeignKey("probe.id", ondelete="CASCADE"), primary_key=True)
    rolled_until: Mapped[float] = mapped_column(Float)


class StatusPage(Base):
    __tablename__ = "status_page"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    accent_color: Mapped[str] = mapped_column(String(7), default=ACCENT_COLOR)
    logo_path: Mapped[str | None] = mapped_column(String(500), nullable=True)
    logo_bytes: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    logo_mime: Mapped[str | None] = mapped_column(String(50), nullable=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    bar_days: Mapped[int] = mapped_column(Integer, default=BAR_DAYS)
    refresh_s: Mapped[int] = mapped_column(Integer, default=PAGE_REFRESH_S)
    source: Mapped[str] = mapped_column(String(20), default="config")
    updated_at: Mapped[float] = mapped_column(Float)
    # Uptime: maintenance time is left out by default; true counts it as downtime (domain.spans.uptime_ratio).
    count_maintenance_as_downtime: Mapped[bool] = mapped_column(Boolean, default=False)

    components: Mapped[list[Component]] = relationship(
        back_populates="page", cascade="all, delete-orphan", order_by="Component.position"
    )


class Component(Base):
    __tablename__ = "component"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("status_page.id", ondelete="CASCADE"))
    probe_id: Mapped[int] = mapped_column(ForeignKey("probe.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    sla_target: Mapped[float | None] = mapped_column(Float, nullable=True)  # percent; None = no target

    page: Mapped[StatusPage] = relationship(back_populates="components")
    __table_args__ = (UniqueConstraint("page_id", "position"),)


class Webhook(Base):
    __tablename__ = "webhook"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    probe_id: Mapped[int] = mapped_column(ForeignKey("probe.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2000))
    format: Mapped[str] = mapped_column(String(20), default="generic")
    secret: Mapped[str | None] = mapped_column(String(200), nullable=True)  # generated; None when secret_env pins it
    secret_env: Mapped[str | None] = mapped_column(String(200), nullable=True)
    routing_key_env: Mapped[str | None] = mapped_column(String(200), nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    failures_reset_at: Mapped[float | None] = mapped_column(Float, nullable=True)  # count failures after this
    source: Mapped[str] = mapped_column(String(20), default="config")
    created_at: Mapped[float] = mapped_column(Float)
    # Maintenance: transitions inside a window are held (not delivered) unless this is true; held_since marks
    # a hold, and when the window ends one catch-up goes out if the state differs from last_notified_state.
    notify_during_maintenance: Mapped[bool] = mapped_column(Boolean, default=False)
    last_notified_state: Mapped[str | None] = mapped_column(String(10), nullable=True)
    held_since: Mapped[float | None] = mapped_column(Float, nullable=True)

    probe: Mapped[Probe] = relationship(back_populates="webhooks")
    __table_args__ = (UniqueConstraint("probe_id", "url", "format"),)


class Delivery(Base):
    """Outbox row: written in the transition's transaction; the body is frozen so every attempt is identical."""

    __tablename__ = "delivery"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhook.id", ondelete="CASCADE"))
    transition_id: Mapped[int | None] = mapped_column(ForeignKey("transition.id", ondelete="SET NULL"), nullable=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)  # X-CallMeter-Delivery
    body: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending|in_flight|succeeded|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[float] = mapped_column(Float)
    lease_owner: Mapped[str | None] = mapped_column(String(100), nullable=True)
    lease_until: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    is_test: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[float] = mapped_column(Float)

    __table_args__ = (Index("ix_delivery_due", "status", "next_attempt_at"),)


class DeliveryAttempt(Base):
    __tablename__ = "delivery_attempt"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("delivery.id", ondelete="CASCADE"))
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhook.id", ondelete="CASCADE"))
    at: Mapped[float] = mapped_column(Float)
    http_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    duration_ms: Mapped[float] = mapped_column(Float, default=0.0)
    success: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_attempt_webhook_time", "webhook_id", "at"),)


class Notification(Base):
    """Something the operator must see (webhook auto-disabled, prober restarted)."""

    __tablename__ = "notification"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[float] = mapped_column(Float)
    level: Mapped[str] = mapped_column(String(10), default="warning")  # info|warning|error
    kind: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    read: Mapped[bool] = mapped_column(Boolean, default=False)


class OperatorIncidentRow(Base):
    """An incident the operator wrote (or an automatic one they adopted: ``auto_probe_id`` + ``auto_started_at``)."""

    __tablename__ = "operator_incident"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("status_page.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    impact: Mapped[str] = mapped_column(String(10), default="none")  # domain.incident_status.Impact
    status: Mapped[str] = mapped_column(String(16), default="investigating")  # IncidentStatus
    postmortem: Mapped[str | None] = mapped_column(Text, nullable=True)
    auto_probe_id: Mapped[int | None] = mapped_column(ForeignKey("probe.id", ondelete="SET NULL"), nullable=True)
    auto_started_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)
    resolved_at: Mapped[float | None] = mapped_column(Float, nullable=True)

    __table_args__ = (Index("ix_operator_incident_page_time", "page_id", "created_at"),)


class IncidentUpdateRow(Base):
    __tablename__ = "incident_update"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("operator_incident.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[float] = mapped_column(Float)

    __table_args__ = (Index("ix_incident_update_incident", "incident_id", "created_at"),)


class IncidentComponentRow(Base):
    """A component an incident affects, by probe (component rows are rewritten by config sync), with the
    Statuspage status the operator set for it."""

    __tablename__ = "incident_component"
    incident_id: Mapped[int] = mapped_column(ForeignKey("operator_incident.id", ondelete="CASCADE"), primary_key=True)
    probe_id: Mapped[int] = mapped_column(ForeignKey("probe.id", ondelete="CASCADE"), primary_key=True)
    status: Mapped[str] = mapped_column(String(24))  # domain.incident_status.ComponentStatus


class MaintenanceWindow(Base):
    """A scheduled maintenance window of one page component (domain.maintenance.WindowRule).

    Start and end are wall-clock times in ``timezone`` (the page's zone when scheduled); ``rrule`` repeats
    them. ``starts_at``/``ends_at`` (first start, last end; None = no end) only speed up listing. Cancelling
    sets ``cancelled_at``: occurrences stop there and what already happened stays (uptime history)."""

    __tablename__ = "maintenance_window"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("status_page.id", ondelete="CASCADE"))
    probe_id: Mapped[int] = mapped_column(ForeignKey("probe.id", ondelete="CASCADE"))
    component: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(Text)
    starts_local: Mapped[str] = mapped_column(String(32))
    ends_local: Mapped[str] = mapped_column(String(32))
    timezone: Mapped[str] = mapped_column(String(64))
    rrule: Mapped[str | None] = mapped_column(Text, nullable=True)
    starts_at: Mapped[float] = mapped_column(Float)
    ends_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    source: Mapped[str] = mapped_column(String(20), default="cli")  # cli | config | dashboard
    cancelled_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)

    __table_args__ = (Index("ix_maintenance_page", "page_id"), Index("ix_maintenance_probe", "probe_id"))
