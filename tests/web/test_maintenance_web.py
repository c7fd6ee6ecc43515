"""Scheduled maintenance on the public page over real HTTP: the component reads "Under maintenance"
during a window (page, status.json, Statuspage API, badge), upcoming windows show ahead (page, JSON,
Atom), bars carry maintenance_s and uptime leaves maintenance out unless the page says otherwise."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from callmeter_tui.domain.palette import MAINTENANCE_COLOR
from callmeter_tui.store.maintenance import schedule

from .conftest import DAY, HOUR, NOW, Seed

# NOW is 2026-11-22 12:00 UTC = 13:00 in Berlin.


def seed_page(seed: Seed, **page: object) -> tuple[int, int]:
    """Trunk A: healthy for 10 days except 2 h unhealthy yesterday (08:00-10:00 UTC), half of it inside a
    maintenance window (2026-11-21 10:00-12:00 Berlin = 09:00-11:00 UTC), and unhealthy for the last hour,
    inside the window going on now; trunk B healthy."""
    a = seed.probe(
        "trunk-a",
        "UNHEALTHY",
        spans=[
            ("HEALTHY", NOW - 10 * DAY, NOW - DAY - 4 * HOUR),
            ("UNHEALTHY", NOW - DAY - 4 * HOUR, NOW - DAY - 2 * HOUR),
            ("HEALTHY", NOW - DAY - 2 * HOUR, NOW - HOUR),
            ("UNHEALTHY", NOW - HOUR, NOW),
        ],
    )
    b = seed.probe("trunk-b", "HEALTHY", spans=[("HEALTHY", NOW - 10 * DAY, NOW)])
    seed.page("voip", "VoIP", [(a, "Trunk A"), (b, "Trunk B")], timezone="Europe/Berlin", **page)
    with seed.db.session() as s:
        # yesterday's window (over), one going on now (12:30-14:00 Berlin), one next week
        schedule(
            s,
            page="voip",
            component="Trunk A",
            title="Firmware",
            start="2026-11-21T10:00",
            end="2026-11-21T12:00",
            now=NOW - 2 * DAY,
        )
        schedule(
            s,
            page="voip",
            component="Trunk A",
            title="Core swap",
            start="2026-11-22T12:00",
            end="2026-11-22T14:00",
            now=NOW - 2 * DAY,
        )
        schedule(
            s,
            page="voip",
            component="Trunk B",
            title="Weekly <b>reboot</b>",
            start="2026-11-23T03:00",
            end="2026-11-23T03:30",
            rrule="FREQ=WEEKLY",
            now=NOW - 2 * DAY,
        )
    return a, b


async def test_component_under_maintenance_everywhere(seed: Seed, make_server) -> None:  # type: ignore[no-untyped-def]
    seed_page(seed)
    srv = await make_server()
    doc = (await srv.client.get("/voip/status.json")).json()
    a, b = doc["components"]
    assert a["under_maintenance"] is True and b["under_maintenance"] is False
    # A is unhealthy inside its window: planned work does not spoil the banner.
    assert doc["banner"] == "All Systems Operational"
    summary = (await srv.client.get("/voip/api/v2/summary.json")).json()
    statuses = {c["name"]: c["status"] for c in summary["components"]}
    assert statuses == {"Trunk A": "under_maintenance", "Trunk B": "operational"}
    names = [m["name"] for m in summary["scheduled_maintenances"]]
    assert names == ["Core swap", "Weekly <b>reboot</b>"]  # active first, then upcoming; the finished one is not
    badge = (await srv.client.get("/voip/components/1/badge.svg")).text
    assert f'fill="{MAINTENANCE_COLOR}"' in badge and "maintenance" in badge
    html = (await srv.client.get("/voip")).text
    assert "Under maintenance" in html and "Core swap" in html
    assert "Weekly &lt;b&gt;reboot&lt;/b&gt;" in html and "<b>reboot" not in html


async def test_statuspage_maintenance_routes(seed: Seed, make_server) -> None:  # type: ignore[no-untyped-def]
    seed_page(seed)
    srv = await make_server()
    every = (await srv.client.get("/voip/api/v2/scheduled-maintenances.json")).json()
    upcoming = (await srv.client.get("/voip/api/v2/scheduled-maintenances/upcoming.json")).json()
    active = (await srv.client.get("/voip/api/v2/scheduled-maintenances/active.json")).json()
    assert [m["status"] for m in every["scheduled_maintenances"]] == ["in_progress", "scheduled", "completed"]
    assert [m["name"] for m in upcoming["scheduled_maintenances"]] == ["Weekly <b>reboot</b>"]
    (m,) = active["scheduled_maintenances"]
    assert m["name"] == "Core swap" and m["impact"] == "maintenance"
    assert (m["scheduled_for"], m["scheduled_until"]) == ("2026-11-22T11:00:00Z", "2026-11-22T13:00:00Z")
    assert m["components"][0]["name"] == "Trunk A" and m["components"][0]["status"] == "under_maintenance"
    assert m["incident_updates"][0]["status"] == "in_progress" and m["incident_updates"][0]["body"] == "Core swap"
    for key in ("id", "page_id", "shortlink", "created_at", "updated_at", "resolved_at", "monitoring_at", "started_at"):
        assert key in m
    assert isinstance(m["id"], str) and every["page"]["time_zone"] == "Europe/Berlin"
    r = await srv.client.get("/voip/api/v2/scheduled-maintenances/active.json")
    assert r.headers["access-control-allow-origin"] == "*"


async def test_bars_and_uptime_leave_maintenance_out(seed: Seed, make_server) -> None:  # type: ignore[no-untyped-def]
    seed_page(seed)
    srv = await make_server()
    a = (await srv.client.get("/voip/status.json")).json()["components"][0]
    by_day = {bar["start"]: bar for bar in a["bars"]}
    y = by_day["2026-11-20T23:00:00Z"]  # 21 Nov in Berlin
    assert y["maintenance_s"] == 2 * HOUR and y["unhealthy_s"] == HOUR  # 1 h of the bad 2 h was outside
    today = by_day["2026-11-21T23:00:00Z"]
    assert today["maintenance_s"] == HOUR and today["unhealthy_s"] == 0.0  # the last hour was inside
    # 10 days monitored = 240 h; maintenance 3 h; unhealthy outside maintenance 1 h: 236/237.
    assert a["uptime_pct"] == "99.57"


async def test_count_maintenance_as_downtime(seed: Seed, make_server) -> None:  # type: ignore[no-untyped-def]
    seed_page(seed, count_maintenance_as_downtime=True)
    srv = await make_server()
    a = (await srv.client.get("/voip/status.json")).json()["components"][0]
    assert a["uptime_pct"] == "98.33"  # 236 / (237 + 3)


async def test_atom_lists_windows_with_stable_ids(seed: Seed, make_server) -> None:  # type: ignore[no-untyped-def]
    seed_page(seed)
    srv = await make_server()
    feed = ET.fromstring((await srv.client.get("/voip/feed.atom")).content)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    ids = [e.findtext("a:id", namespaces=ns) for e in feed.findall("a:entry", ns)]
    titles = [e.findtext("a:title", namespaces=ns) for e in feed.findall("a:entry", ns)]
    assert any("maintenance in progress: Core swap" in (t or "") for t in titles)
    assert any("maintenance scheduled: Weekly <b>reboot</b>" in (t or "") for t in titles)
    maint_ids = [i for i in ids if i and "/maintenance/" in i]
    assert len(maint_ids) == len(set(maint_ids)) == 3
    again = ET.fromstring((await srv.client.get("/voip/feed.atom")).content)
    assert maint_ids == [
        e.findtext("a:id", namespaces=ns)
        for e in again.findall("a:entry", ns)
        if "/maintenance/" in (e.findtext("a:id", namespaces=ns) or "")
    ]
