"""Config -> database sync by name, against real SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from callmeter_tui.config.model import Config
from callmeter_tui.domain.probe import (
    ComponentSpec,
    ProbeKind,
    ProbeSpec,
    StatusPageSpec,
    WebhookFormat,
    WebhookSpec,
)
from callmeter_tui.domain.thresholds import Threshold
from callmeter_tui.store.models import Probe, Project, StatusPage, Webhook
from callmeter_tui.store.sync import new_probe_row, probe_spec_from_row, sync_config

from .conftest import T0

CALL = ProbeSpec(
    name="pbx-call",
    kind=ProbeKind.SIP_CALL,
    target="sip:echo@127.0.0.1:5080",
    interval_s=120.0,
    timeout_s=20.0,
    username="alice",
    password_env="PBX_PASS",
    thresholds={"mos": Threshold(3.5, 2.5), "jitter_ms": Threshold(30, 60)},
    confirm=3,
    codec="PCMA",
    call_duration_s=5.0,
    outbound_proxy="sip:127.0.0.1:5070",
    audio_file="/tmp/a.wav",
    asr_window=10,
    group="core",
    webhooks=(
        WebhookSpec("https://hooks.example/a"),
        WebhookSpec("https://hooks.example/b", WebhookFormat.SLACK, secret_env="B_SECRET"),
    ),
)
OPTIONS = ProbeSpec(
    name="edge-options", kind=ProbeKind.SIP_OPTIONS, target="sip:127.0.0.1:5060", expect_codes=(200, 404)
)
PAGE = StatusPageSpec(
    slug="acme",
    name="Acme Voice",
    description="Public status",
    components=(ComponentSpec("pbx-call", "Calls"), ComponentSpec("edge-options", "Edge")),
)


def config(*probes: ProbeSpec, pages: tuple[StatusPageSpec, ...] = (PAGE,)) -> Config:
    return Config(project_name="Acme", probes=probes, status_pages=pages)


def test_first_sync_creates_probes_webhooks_pages(session) -> None:  # type: ignore[no-untyped-def]
    report = sync_config(session, config(CALL, OPTIONS), now=T0)
    assert report.created == ["pbx-call", "edge-options"] and report.pages_created == ["acme"]
    assert report.conflicts == [] and len(report.created_ids) == 2
    call = session.scalars(select(Probe).where(Probe.name == "pbx-call")).one()
    assert call.thresholds == {"mos": {"warning": 3.5, "critical": 2.5}, "jitter_ms": {"warning": 30, "critical": 60}}
    assert call.options["codec"] == "PCMA" and call.options["asr_window"] == 10
    assert (call.state, call.source, call.confirm, call.position, call.group) == ("UNKNOWN", "config", 3, 0, "core")
    hooks = {w.url: w for w in call.webhooks}
    assert len(hooks["https://hooks.example/a"].secret) >= 40  # generated token_urlsafe(32)
    assert hooks["https://hooks.example/b"].secret is None  # pinned by secret_env
    assert hooks["https://hooks.example/b"].secret_env == "B_SECRET"
    page = session.scalars(select(StatusPage)).one()
    assert [(c.name, c.probe_id, c.position) for c in page.components] == [
        ("Calls", call.id, 0),
        ("Edge", report.created_ids[1], 1),
    ]
    assert session.scalars(select(Project.name)).all() == ["Acme"]


def test_spec_row_round_trip(session) -> None:  # type: ignore[no-untyped-def]
    sync_config(session, config(CALL, OPTIONS), now=T0)
    for spec in (CALL, OPTIONS):
        row = session.scalars(select(Probe).where(Probe.name == spec.name)).one()
        assert probe_spec_from_row(row) == spec


def test_second_sync_is_unchanged_and_keeps_secrets(session) -> None:  # type: ignore[no-untyped-def]
    sync_config(session, config(CALL, OPTIONS), now=T0)
    secret = session.scalars(select(Webhook.secret).where(Webhook.url == "https://hooks.example/a")).one()
    report = sync_config(session, config(CALL, OPTIONS), now=T0 + 10)
    assert report.unchanged == ["pbx-call", "edge-options"] and report.pages_unchanged == ["acme"]
    assert report.created == report.updated == report.retargeted_ids == []
    assert session.scalars(select(Webhook.secret).where(Webhook.url == "https://hooks.example/a")).one() == secret


def test_update_by_name_reports_retarget(session) -> None:  # type: ignore[no-untyped-def]
    sync_config(session, config(CALL, OPTIONS), now=T0)
    probe_ids = {p.name: p.id for p in session.scalars(select(Probe))}
    moved = replace(OPTIONS, target="sip:127.0.0.1:5099")
    slower = replace(CALL, interval_s=300.0, webhooks=CALL.webhooks[:1])
    page = replace(PAGE, name="Acme Telecom", components=(ComponentSpec("edge-options", "Edge SBC"),))
    report = sync_config(session, config(slower, moved, pages=(page,)), now=T0 + 10)
    assert sorted(report.updated) == ["edge-options", "pbx-call"]
    assert report.retargeted_ids == [probe_ids["edge-options"]]
    assert {p.name: p.id for p in session.scalars(select(Probe))} == probe_ids  # same rows, same history
    assert session.get(Probe, probe_ids["pbx-call"]).interval_s == 300.0
    removed_hook = session.scalars(select(Webhook).where(Webhook.url == "https://hooks.example/b")).one()
    assert (removed_hook.enabled, removed_hook.disabled_reason) == (False, "removed from config")
    assert report.pages_updated == ["acme"]
    stored = session.scalars(select(StatusPage)).one()
    assert stored.name == "Acme Telecom"
    assert [(c.name, c.probe_id) for c in stored.components] == [("Edge SBC", probe_ids["edge-options"])]


def test_interactive_objects_are_never_touched(session) -> None:  # type: ignore[no-untyped-def]
    sync_config(session, config(OPTIONS, pages=()), now=T0)
    pid = session.scalars(select(Project.id)).first()
    mine = new_probe_row(replace(CALL, source="interactive", target="sip:mine@127.0.0.1"), pid, now=T0)
    session.add(mine)
    session.add(StatusPage(slug="acme", name="Mine", source="interactive", updated_at=T0))
    session.flush()
    report = sync_config(session, config(CALL, OPTIONS, pages=(PAGE,)), now=T0 + 10)
    assert "pbx-call" not in report.created + report.updated and len(report.conflicts) == 2
    assert any(c.startswith("probes.pbx-call:") for c in report.conflicts)
    session.refresh(mine)
    assert (mine.target, mine.source, mine.enabled) == ("sip:mine@127.0.0.1", "interactive", True)
    assert session.scalars(select(StatusPage.name)).all() == ["Mine"]
    report = sync_config(session, config(), now=T0 + 20)  # interactive probe not in the file: untouched
    assert report.disabled == ["edge-options"]
    session.refresh(mine)
    assert mine.enabled


def test_removed_config_probe_is_disabled_not_deleted(session) -> None:  # type: ignore[no-untyped-def]
    sync_config(session, config(CALL, OPTIONS), now=T0)
    report = sync_config(session, config(OPTIONS, pages=()), now=T0 + 10)
    assert report.disabled == ["pbx-call"] and report.pages_removed == ["acme"]
    gone = session.scalars(select(Probe).where(Probe.name == "pbx-call")).one()
    assert gone.enabled is False
    report = sync_config(session, config(OPTIONS, pages=()), now=T0 + 20)
    assert report.disabled == []  # reported once
    report = sync_config(session, config(CALL, OPTIONS, pages=()), now=T0 + 30)  # back in the file
    assert report.updated == ["pbx-call", "edge-options"]  # edge-options moved to position 1
    session.refresh(gone)
    assert gone.enabled is True


def test_unknown_component_probe_is_a_conflict_not_a_crash(session) -> None:  # type: ignore[no-untyped-def]
    page = replace(PAGE, components=(ComponentSpec("nope", "Ghost"),))
    report = sync_config(session, config(OPTIONS, pages=(page,)), now=T0)
    assert report.conflicts == ["status_pages.acme.components: unknown probe 'nope'"]
    assert session.scalars(select(StatusPage)).one().components == []


def test_sla_target_is_synced_and_a_change_updates_the_page(session) -> None:  # type: ignore[no-untyped-def]
    from callmeter_tui.store.models import Component

    with_target = replace(
        PAGE, components=(ComponentSpec("pbx-call", "Calls", 99.9), ComponentSpec("edge-options", "Edge"))
    )
    sync_config(session, config(CALL, OPTIONS, pages=(with_target,)), now=T0)
    assert [c.sla_target for c in session.scalars(select(Component).order_by(Component.position))] == [99.9, None]
    changed = replace(
        with_target, components=(ComponentSpec("pbx-call", "Calls", 99.5), ComponentSpec("edge-options", "Edge"))
    )
    report = sync_config(session, config(CALL, OPTIONS, pages=(changed,)), now=T0 + 1)
    assert report.pages_updated == ["acme"]
    assert [c.sla_target for c in session.scalars(select(Component).order_by(Component.position))] == [99.5, None]
