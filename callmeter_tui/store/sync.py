"""Config file -> database at start-up, by name; and the one mapping between ProbeSpec and Probe rows.

The TOML is the source of truth for objects it declares (source "config"); objects created in the TUI
(source "interactive") are never touched. A probe removed from the file is disabled, never deleted,
so its history stays.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..config.model import Config
from ..domain.probe import DtmfMode, ProbeKind, ProbeSpec, StatusPageSpec, WebhookFormat, WebhookSpec
from ..domain.thresholds import Threshold
from .database import project_id
from .maintenance import sync_config_windows
from .models import Component, Probe, Project, StatusPage, Webhook

CONFIG = "config"
INTERACTIVE = "interactive"
REMOVED_FROM_CONFIG = "removed from config"


@dataclass
class SyncReport:
    """What start-up sync did. Probe names in the first four lists, page slugs in the ``pages_*`` ones."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)  # config probes no longer in the file
    pages_created: list[str] = field(default_factory=list)
    pages_updated: list[str] = field(default_factory=list)
    pages_unchanged: list[str] = field(default_factory=list)
    pages_removed: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)  # one-line reasons something was skipped
    created_ids: list[int] = field(default_factory=list)  # new probes: the engine marks them UNKNOWN
    retargeted_ids: list[int] = field(default_factory=list)  # target or kind changed: engine marks UNKNOWN


# ---- ProbeSpec <-> Probe row ---------------------------------------------------------------------


def _thresholds_json(spec: ProbeSpec) -> dict[str, Any]:
    return {m: {"warning": t.warning, "critical": t.critical} for m, t in spec.thresholds.items()}


def probe_options(spec: ProbeSpec) -> dict[str, Any]:
    """The kind-specific settings kept in ``Probe.options``."""
    return {
        "expect_codes": list(spec.expect_codes),
        "codec": spec.codec,
        "call_duration_s": spec.call_duration_s,
        "outbound_proxy": spec.outbound_proxy,
        "audio_file": spec.audio_file,
        "dtmf": spec.dtmf,
        "dtmf_mode": DtmfMode(spec.dtmf_mode).value,
        "expect_prompt": spec.expect_prompt,
        "asr_window": spec.asr_window,
    }


def probe_columns(spec: ProbeSpec) -> dict[str, Any]:
    """Probe column values for a spec (settings only: health bookkeeping is the recorder's)."""
    return {
        "name": spec.name,
        "kind": ProbeKind(spec.kind).value,
        "target": spec.target,
        "interval_s": float(spec.interval_s),
        "timeout_s": float(spec.timeout_s),
        "enabled": bool(spec.enabled),
        "agent": spec.agent,
        "username": spec.username,
        "password_env": spec.password_env,
        "thresholds": _thresholds_json(spec),
        "confirm": int(spec.confirm),
        "options": probe_options(spec),
        "source": spec.source,
        "group": spec.group,
    }


def apply_probe_spec(probe: Probe, spec: ProbeSpec, now: float | None = None) -> set[str]:
    """Write a spec's settings onto a row; returns the names of the columns that changed."""
    changed = {k for k, v in probe_columns(spec).items() if getattr(probe, k) != v}
    for k in changed:
        setattr(probe, k, probe_columns(spec)[k])
    if changed:
        probe.updated_at = time.time() if now is None else now
    return changed


def new_probe_row(spec: ProbeSpec, project: int, now: float | None = None, position: int = 0) -> Probe:
    """A new Probe row (state UNKNOWN, no executions yet). Webhooks are added separately."""
    t = time.time() if now is None else now
    return Probe(
        project_id=project,
        position=position,
        state="UNKNOWN",
        pending_state=None,
        pending_count=0,
        created_at=t,
        updated_at=t,
        **probe_columns(spec),
    )


def webhook_spec_from_row(w: Webhook) -> WebhookSpec:
    return WebhookSpec(
        url=w.url,
        format=WebhookFormat(w.format),
        secret_env=w.secret_env,
        routing_key_env=w.routing_key_env,
        enabled=w.enabled,
        notify_during_maintenance=bool(w.notify_during_maintenance),
    )


def thresholds_from_json(raw: dict[str, Any] | None) -> dict[str, Threshold]:
    """A probe row's stored thresholds (``{"mos": {"warning": 3.5, "critical": 2.5}}``) as Thresholds."""
    return {m: Threshold(warning=t.get("warning"), critical=t.get("critical")) for m, t in (raw or {}).items()}


def probe_spec_from_row(probe: Probe) -> ProbeSpec:
    """The spec a row stands for (forms edit it, the engine runs it)."""
    o = probe.options or {}
    d = ProbeSpec(name=probe.name, kind=ProbeKind(probe.kind), target=probe.target)
    return ProbeSpec(
        name=probe.name,
        kind=ProbeKind(probe.kind),
        target=probe.target,
        interval_s=probe.interval_s,
        timeout_s=probe.timeout_s,
        enabled=probe.enabled,
        agent=probe.agent,
        username=probe.username,
        password_env=probe.password_env,
        thresholds=thresholds_from_json(probe.thresholds),
        confirm=probe.confirm,
        expect_codes=tuple(int(c) for c in o.get("expect_codes", d.expect_codes)),
        codec=o.get("codec", d.codec),
        call_duration_s=float(o.get("call_duration_s", d.call_duration_s)),
        outbound_proxy=o.get("outbound_proxy", d.outbound_proxy),
        audio_file=o.get("audio_file", d.audio_file),
        dtmf=o.get("dtmf", d.dtmf),
        dtmf_mode=DtmfMode(o.get("dtmf_mode", d.dtmf_mode)),
        expect_prompt=o.get("expect_prompt", d.expect_prompt),
        asr_window=int(o.get("asr_window", d.asr_window)),
        webhooks=tuple(webhook_spec_from_row(w) for w in sorted(probe.webhooks, key=lambda w: w.id or 0)),
        source=probe.source,
        group=probe.group or "",
    )


# ---- sync ------------------------------------------------------------------------------------------


def _sync_webhooks(probe: Probe, specs: tuple[WebhookSpec, ...], now: float) -> bool:
    """Config webhooks of one config probe, matched by (url, format). Returns True if anything changed."""
    changed = False
    existing = {(w.url, w.format): w for w in probe.webhooks}
    wanted = {(s.url, WebhookFormat(s.format).value): s for s in specs}
    for key, spec in wanted.items():
        w = existing.get(key)
        if w is None:
            probe.webhooks.append(
                Webhook(
                    url=spec.url,
                    format=key[1],
                    secret_env=spec.secret_env,
                    routing_key_env=spec.routing_key_env,
                    secret=None if spec.secret_env else secrets.token_urlsafe(32),
                    enabled=spec.enabled,
                    notify_during_maintenance=spec.notify_during_maintenance,
                    disabled_reason=None if spec.enabled else "disabled in config",
                    source=CONFIG,
                    created_at=now,
                )
            )
            changed = True
            continue
        if w.source != CONFIG:
            continue
        before = (
            w.secret_env,
            w.routing_key_env,
            w.enabled,
            w.secret is None,
            w.disabled_reason,
            w.notify_during_maintenance,
        )
        w.secret_env, w.routing_key_env = spec.secret_env, spec.routing_key_env
        w.notify_during_maintenance = spec.notify_during_maintenance
        if spec.secret_env:
            w.secret = None
        elif w.secret is None:
            w.secret = secrets.token_urlsafe(32)
        if not spec.enabled and w.enabled:
            w.enabled, w.disabled_reason = False, "disabled in config"
        elif spec.enabled and not w.enabled and w.disabled_reason in (None, "disabled in config", REMOVED_FROM_CONFIG):
            # Auto-disabled webhooks (too many failures) stay off until the operator re-enables them.
            w.enabled, w.disabled_reason = True, None
        changed |= before != (
            w.secret_env,
            w.routing_key_env,
            w.enabled,
            w.secret is None,
            w.disabled_reason,
            w.notify_during_maintenance,
        )
    for key, w in existing.items():
        if key not in wanted and w.source == CONFIG and w.enabled:
            w.enabled, w.disabled_reason = False, REMOVED_FROM_CONFIG
            changed = True
    return changed


def _sync_probes(session: Session, config: Config, report: SyncReport, now: float) -> dict[str, int]:
    pid = project_id(session)
    rows = {p.name: p for p in session.scalars(select(Probe))}
    declared: set[str] = set()
    for position, spec in enumerate(config.probes):
        spec_cfg = spec if spec.source == CONFIG else replace(spec, source=CONFIG)
        declared.add(spec.name)
        probe = rows.get(spec.name)
        if probe is None:
            probe = new_probe_row(spec_cfg, pid, now, position)
            session.add(probe)
            _sync_webhooks(probe, spec.webhooks, now)
            session.flush()
            rows[spec.name] = probe
            report.created.append(spec.name)
            report.created_ids.append(probe.id)
            continue
        if probe.source != CONFIG:
            report.conflicts.append(
                f"probes.{spec.name}: a probe with this name was created interactively; left as it is"
            )
            continue
        was = (probe.kind, probe.target)
        changed = apply_probe_spec(probe, spec_cfg, now)
        if probe.position != position:
            probe.position = position
            changed.add("position")
        hooks_changed = _sync_webhooks(probe, spec.webhooks, now)
        if changed or hooks_changed:
            report.updated.append(spec.name)
            probe.updated_at = now
        else:
            report.unchanged.append(spec.name)
        if was != (probe.kind, probe.target):
            report.retargeted_ids.append(probe.id)
    for name, probe in rows.items():
        if name not in declared and probe.source == CONFIG and probe.enabled:
            probe.enabled = False
            probe.updated_at = now
            report.disabled.append(name)
    session.flush()
    return {name: p.id for name, p in rows.items()}


def _page_values(spec: StatusPageSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "description": spec.description,
        "accent_color": spec.accent_color,
        "logo_path": spec.logo,
        "timezone": spec.timezone,
        "bar_days": int(spec.bar_days),
        "refresh_s": int(spec.refresh_s),
        "count_maintenance_as_downtime": bool(spec.count_maintenance_as_downtime),
    }


def _sync_pages(session: Session, config: Config, probe_ids: dict[str, int], report: SyncReport, now: float) -> None:
    pages = {p.slug: p for p in session.scalars(select(StatusPage))}
    declared = set()
    for spec in config.status_pages:
        declared.add(spec.slug)
        page = pages.get(spec.slug)
        created = page is None
        if page is None:
            page = StatusPage(slug=spec.slug, source=CONFIG, updated_at=now, **_page_values(spec))
            session.add(page)
        elif page.source != CONFIG:
            report.conflicts.append(f"status_pages.{spec.slug}: created interactively; left as it is")
            continue
        changed = False
        for k, v in _page_values(spec).items():
            if getattr(page, k) != v:
                setattr(page, k, v)
                changed = True
        wanted = []
        for c in spec.components:
            if c.probe not in probe_ids:
                report.conflicts.append(f"status_pages.{spec.slug}.components: unknown probe {c.probe!r}")
                continue
            wanted.append((probe_ids[c.probe], c.name, c.sla_target))
        have = [(c.probe_id, c.name, c.sla_target) for c in page.components]
        if have != wanted:
            changed = True
            # Update in place by position: delete-then-insert would trip UNIQUE(page_id, position) in one flush.
            for i, (probe_id, name, target) in enumerate(wanted):
                if i < len(page.components):
                    row = page.components[i]
                    row.probe_id, row.name, row.sla_target = probe_id, name, target
                else:
                    page.components.append(Component(probe_id=probe_id, name=name, position=i, sla_target=target))
            del page.components[len(wanted) :]
        if created:
            report.pages_created.append(spec.slug)
        elif changed:
            page.updated_at = now
            report.pages_updated.append(spec.slug)
        else:
            report.pages_unchanged.append(spec.slug)
    for slug, page in pages.items():
        if slug not in declared and page.source == CONFIG:
            session.delete(page)
            report.pages_removed.append(slug)


def sync_config(session: Session, config: Config, now: float | None = None) -> SyncReport:
    """Create/update config-declared probes, webhooks and status pages by name. Does not commit."""
    t = time.time() if now is None else now
    report = SyncReport()
    project = session.get(Project, project_id(session))
    if project is not None and project.name != config.project_name:
        project.name = config.project_name
    probe_ids = _sync_probes(session, config, report, t)
    _sync_pages(session, config, probe_ids, report, t)
    session.flush()
    report.conflicts += sync_config_windows(session, config.maintenance, t)
    session.flush()
    return report
