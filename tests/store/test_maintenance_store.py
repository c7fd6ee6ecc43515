"""Maintenance windows in the store: config keys reach the rows (page, webhook), ``[[maintenance]]`` is
imported once and a window taken out of the file is cancelled (its past kept), and the one interval
read merges windows of one probe."""

from __future__ import annotations

from sqlalchemy import select

from callmeter_tui.config.loader import parse_config
from callmeter_tui.store.maintenance import list_windows, maintenance_intervals
from callmeter_tui.store.models import MaintenanceWindow, StatusPage, Webhook
from callmeter_tui.store.sync import sync_config

BASE = """
[[probes]]
name = "edge"
kind = "sip_options"
target = "sip:127.0.0.1:5060"
webhooks = [{ url = "https://hooks.example.com/a", notify_during_maintenance = true }]

[[status_pages]]
slug = "voip"
name = "VoIP"
timezone = "Europe/Berlin"
count_maintenance_as_downtime = true
components = [{ probe = "edge", name = "Edge" }]
"""
WINDOW = """
[[maintenance]]
page = "voip"
component = "Edge"
title = "{title}"
start = "2026-11-01T02:00"
end = "2026-11-01T04:00"
rrule = "FREQ=DAILY"
"""


def test_config_keys_and_windows_sync(session) -> None:  # type: ignore[no-untyped-def]
    cfg, _ = parse_config(BASE + WINDOW.format(title="Nightly") + WINDOW.format(title="Also nightly"))
    sync_config(session, cfg, now=1_700_000_000.0)
    sync_config(session, cfg, now=1_700_000_100.0)  # again: nothing new
    assert session.scalars(select(StatusPage)).one().count_maintenance_as_downtime is True
    assert session.scalars(select(Webhook)).one().notify_during_maintenance is True
    assert [w.title for w in list_windows(session)] == ["Nightly", "Also nightly"]
    edge = session.scalars(select(MaintenanceWindow)).first().probe_id
    # two identical daily windows of one probe merge into one interval per night
    start = 1_795_000_000.0
    found = maintenance_intervals(session, [edge], start, start + 86400.0)[edge]
    assert len(found) == 1 and found[0].duration == 7200.0
    cfg2, _ = parse_config(BASE + WINDOW.format(title="Nightly"))
    sync_config(session, cfg2, now=1_800_000_000.0)
    kept = {w.title: w.cancelled_at for w in list_windows(session)}
    assert kept == {"Nightly": None, "Also nightly": 1_800_000_000.0}
