"""Operator incidents on the public page and the Statuspage-shaped API (issue 14, sections 1 and 2).

Real SQLite, real WebServer over HTTP, fixed clock. Field names and JSON types are checked against
Statuspage's public API v2 documents.
"""

from __future__ import annotations

import asyncio
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from callmeter_tui.domain.incident_status import ComponentStatus, Impact, IncidentStatus
from callmeter_tui.store.database import Database, transaction
from callmeter_tui.store.incidents import ComponentChoice, open_incident, resolve_incident, update_incident

from .conftest import DAY, HOUR, NOW, Seed

STR, NULLSTR = (str,), (str, type(None))
INCIDENT_FIELDS = {
    "id": STR,
    "name": STR,
    "status": STR,
    "created_at": STR,
    "updated_at": STR,
    "monitoring_at": NULLSTR,
    "resolved_at": NULLSTR,
    "impact": STR,
    "shortlink": STR,
    "started_at": STR,
    "page_id": STR,
    "incident_updates": (list,),
    "components": (list,),
}
UPDATE_FIELDS = {
    "id": STR,
    "status": STR,
    "body": STR,
    "incident_id": STR,
    "created_at": STR,
    "updated_at": STR,
    "display_at": STR,
    "affected_components": (list, type(None)),
    "deliver_notifications": (bool,),
}
COMPONENT_FIELDS = {
    "id": STR,
    "name": STR,
    "status": STR,
    "created_at": STR,
    "updated_at": STR,
    "position": (int,),
    "description": NULLSTR,
    "showcase": (bool,),
    "start_date": NULLSTR,
    "group_id": NULLSTR,
    "page_id": STR,
    "group": (bool,),
    "only_show_if_degraded": (bool,),
}
HOSTILE = "<script>alert(1)</script> **bold** <img src=x onerror=alert(2)>"


def check_fields(obj: dict[str, Any], fields: dict[str, tuple[type, ...]], what: str) -> None:
    for key, types in fields.items():
        assert key in obj, f"{what}: no {key!r}"
        assert isinstance(obj[key], types), f"{what}.{key}: {type(obj[key]).__name__}"


def check_incident(inc: dict[str, Any]) -> None:
    check_fields(inc, INCIDENT_FIELDS, "incident")
    assert inc["status"] in {s.value for s in IncidentStatus}
    assert inc["impact"] in {i.value for i in Impact}
    for u in inc["incident_updates"]:
        check_fields(u, UPDATE_FIELDS, "incident_update")
        assert u["incident_id"] == inc["id"]
    for c in inc["components"]:
        check_fields(c, COMPONENT_FIELDS, "incident.components[]")


def seed_page(seed: Seed) -> tuple[int, int, int]:
    """voip: a healthy trunk, an unhealthy IVR with an ongoing automatic incident, a probe with no result."""
    trunk = seed.probe("trunk", "HEALTHY", spans=[("HEALTHY", NOW - 2 * DAY, NOW)])
    ivr = seed.probe("ivr", "UNHEALTHY", spans=[("HEALTHY", NOW - 2 * DAY, NOW - HOUR), ("UNHEALTHY", NOW - HOUR, NOW)])
    fresh = seed.probe("fresh", "UNKNOWN", last=None)
    seed.page("voip", "VoIP", [(trunk, "Trunk"), (ivr, "IVR"), (fresh, "Fresh")])
    return trunk, ivr, fresh


def operator(db: Database, **kw: Any) -> int:
    with transaction(db.sessions) as s:
        return open_incident(s, slug="voip", now=kw.pop("now", NOW - 600), **kw)


async def test_summary_fills_incidents_and_follows_statuspage_rules(seed: Seed, db: Database, make_server) -> None:  # type: ignore[no-untyped-def]
    seed_page(seed)
    op = operator(
        db,
        title="Calls to Trunk drop",
        message="We are looking into it.",
        impact=Impact.CRITICAL,
        components=[ComponentChoice("Trunk", ComponentStatus.PARTIAL_OUTAGE)],
    )
    srv = await make_server()
    summary = (await srv.client.get("/voip/api/v2/summary.json")).json()
    assert set(summary) == {"page", "components", "incidents", "scheduled_maintenances", "status"}
    assert summary["scheduled_maintenances"] == []
    names = {c["name"]: c["status"] for c in summary["components"]}
    # Fresh has no result yet: not claimed operational. Trunk's probe is healthy, the operator says partial.
    assert names == {"Trunk": "partial_outage", "IVR": "major_outage"}
    for c in summary["components"]:
        check_fields(c, COMPONENT_FIELDS, "component")
    by_name = {i["name"]: i for i in summary["incidents"]}
    assert set(by_name) == {"Calls to Trunk drop", "IVR: Unhealthy"}
    for inc in summary["incidents"]:
        check_incident(inc)
        assert inc["resolved_at"] is None and inc["status"] != "resolved"
    assert by_name["Calls to Trunk drop"]["id"] == f"op-{op}" and by_name["Calls to Trunk drop"]["impact"] == "critical"
    assert by_name["IVR: Unhealthy"]["impact"] == "major"
    assert [c["name"] for c in by_name["Calls to Trunk drop"]["components"]] == ["Trunk"]
    # Statuspage's rule: the worst of the component blend (major) and the incidents (critical).
    assert summary["status"] == {"indicator": "critical", "description": "Major System Outage"}
    unresolved = (await srv.client.get("/voip/api/v2/incidents/unresolved.json")).json()
    assert [i["id"] for i in unresolved["incidents"]] == [i["id"] for i in summary["incidents"]]
    comps = (await srv.client.get("/voip/api/v2/components.json")).json()
    assert comps["components"] == summary["components"] and comps["page"] == summary["page"]
    # The banner keeps the documented rule.
    html = (await srv.client.get("/voip")).text
    assert "Major Issues Detected" in html


async def test_indicator_without_operator_incidents_is_the_banners(seed: Seed, make_server) -> None:  # type: ignore[no-untyped-def]
    seed_page(seed)
    srv = await make_server()
    summary = (await srv.client.get("/voip/api/v2/summary.json")).json()
    assert summary["status"] == {"indicator": "major", "description": "Major Issues Detected"}
    assert [i["name"] for i in summary["incidents"]] == ["IVR: Unhealthy"]


async def test_incidents_json_has_resolved_ones_with_updates_newest_first(
    seed: Seed, db: Database, make_server
) -> None:  # type: ignore[no-untyped-def]
    seed_page(seed)
    op = operator(db, title="Carrier maintenance overran", message="Investigating.", impact=Impact.MINOR, now=NOW - 900)
    with transaction(db.sessions) as s:
        update_incident(s, op, status=IncidentStatus.MONITORING, message="Fix deployed.", now=NOW - 600)
        resolve_incident(s, op, now=NOW - 300)
    srv = await make_server()
    incidents = (await srv.client.get("/voip/api/v2/incidents.json")).json()["incidents"]
    ours = next(i for i in incidents if i["id"] == f"op-{op}")
    check_incident(ours)
    assert ours["status"] == "resolved" and ours["resolved_at"] and ours["monitoring_at"]
    assert [u["status"] for u in ours["incident_updates"]] == ["resolved", "monitoring", "investigating"]
    unresolved = (await srv.client.get("/voip/api/v2/incidents/unresolved.json")).json()["incidents"]
    assert f"op-{op}" not in [i["id"] for i in unresolved]


async def test_page_shows_ongoing_incidents_above_components_as_text(seed: Seed, db: Database, make_server) -> None:  # type: ignore[no-untyped-def]
    seed_page(seed)
    operator(db, title=HOSTILE, message=f"Latest: {HOSTILE}", impact=Impact.MAJOR, components=[ComponentChoice("IVR")])
    srv = await make_server()
    html = (await srv.client.get("/voip")).text
    ongoing, components = html.index('id="ongoing-h"'), html.index('id="components-h"')
    assert ongoing < components
    section = html[ongoing:components]
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt; **bold** &lt;img src=x onerror=alert(2)&gt;"
    assert escaped in section and f"Latest: {escaped}" in section
    assert "Major impact" in section and "for 10m" in section and "IVR: Unhealthy" in section
    assert "<script>alert" not in html and "<img src=x" not in html and "<strong>bold" not in html
    assert 'href="/voip/history"' in html
    history = (await srv.client.get("/voip/history")).text
    assert escaped in history and "<script>alert" not in history
    feed = (await srv.client.get("/voip/feed.atom")).text
    assert "<script>alert" not in feed and "&lt;script&gt;" in feed
    api = (await srv.client.get("/voip/api/v2/summary.json")).json()
    assert HOSTILE in [i["name"] for i in api["incidents"]]  # JSON carries the text as text


async def test_every_update_is_an_atom_entry_with_a_stable_id(seed: Seed, db: Database, make_server) -> None:  # type: ignore[no-untyped-def]
    seed_page(seed)
    op = operator(db, title="Trunk flaps", message="Investigating.", now=NOW - 900)
    srv = await make_server()
    ns = {"a": "http://www.w3.org/2005/Atom"}

    async def entries() -> dict[str, str]:
        feed = ET.fromstring((await srv.client.get("/voip/feed.atom")).content)
        return {
            e.findtext("a:id", namespaces=ns): e.findtext("a:title", namespaces=ns) for e in feed.findall("a:entry", ns)
        }  # type: ignore[misc]

    before = await entries()
    with transaction(db.sessions) as s:
        update_incident(s, op, status=IncidentStatus.IDENTIFIED, message="Carrier fault.", now=NOW - 300)
    await srv.server._refresh_all()
    after = await entries()
    assert set(before) < set(after) and len(after) == len(before) + 1
    assert [after[k] for k in before] == list(before.values())  # old entries keep their ids and words
    new = [t for k, t in after.items() if k not in before]
    assert new == ["Trunk flaps: Identified"]
    assert sum(1 for k in after if f"/incidents/op-{op}/updates/" in k) == 2


async def test_history_by_month_with_paging(seed: Seed, db: Database, make_server) -> None:  # type: ignore[no-untyped-def]
    seed_page(seed)
    for months_ago in (0, 2, 4, 7):  # NOW is 22 Nov 2026
        when = NOW - months_ago * 30 * DAY
        i = operator(db, title=f"Old {months_ago}", message="Happened.", now=when)
        with transaction(db.sessions) as s:
            resolve_incident(s, i, now=when + HOUR)
    srv = await make_server()
    first = (await srv.client.get("/voip/history")).text
    assert ["November 2026", "October 2026", "September 2026"] == [
        m for m in ("November 2026", "October 2026", "September 2026", "August 2026") if m in first
    ]
    assert "Old 0" in first and "Old 2" in first and "Old 4" not in first
    assert 'href="/voip/history/2"' in first and "Page 1 of 3" in first
    second = (await srv.client.get("/voip/history/2")).text
    assert "Old 4" in second and "No incidents reported this month." in second and 'href="/voip/history"' in second
    third = (await srv.client.get("/voip/history/3")).text
    assert "Old 7" in third and "April 2026" in third and "Older incidents" not in third
    assert (await srv.client.get("/voip/history/4")).status_code == 404
    incidents = (await srv.client.get("/voip/api/v2/incidents.json")).json()["incidents"]
    link = next(i["shortlink"] for i in incidents if i["name"] == "Old 7")
    assert link.startswith(srv.url + "/voip/history/3#op-")


async def test_json_routes_answer_errors_as_json_with_cors(seed: Seed, make_server) -> None:  # type: ignore[no-untyped-def]
    seed_page(seed)
    srv = await make_server()
    for path in (
        "/nope/api/v2/summary.json",
        "/voip/api/v2/nope.json",
        "/voip/api/v2/incidents/x.json",
        "/api/v2/summary.json",
    ):
        r = await srv.client.get(path)
        assert r.status_code == 404, path
        assert r.headers["content-type"].startswith("application/json"), path
        assert r.headers["access-control-allow-origin"] == "*", path
        assert r.json() == {"error": "not found", "status": 404}, path
    post = await srv.client.post("/voip/api/v2/summary.json", content=b"{}")
    assert post.status_code == 405 and post.json()["status"] == 405
    assert post.headers["access-control-allow-origin"] == "*"
    ok = await srv.client.get("/voip/api/v2/incidents.json")
    assert ok.headers["access-control-allow-origin"] == "*"


async def test_root_page_serves_its_api_at_the_host_root(seed: Seed, make_server) -> None:  # type: ignore[no-untyped-def]
    seed_page(seed)
    srv = await make_server(root_page="voip")
    for doc in ("summary.json", "status.json", "components.json", "incidents.json", "incidents/unresolved.json"):
        root = await srv.client.get(f"/api/v2/{doc}")
        page = await srv.client.get(f"/voip/api/v2/{doc}")
        assert root.status_code == 200 and root.content == page.content, doc
        assert root.headers["access-control-allow-origin"] == "*"
    missing = await srv.client.get("/api/v2/nope.json")
    assert missing.status_code == 404 and missing.json()["status"] == 404


def seed_incident_pages(seed: Seed, db: Database) -> None:
    seed_page(seed)
    op = operator(db, title=HOSTILE, message="Investigating.", impact=Impact.MAJOR, components=[ComponentChoice("IVR")])
    with transaction(db.sessions) as s:
        update_incident(
            s,
            op,
            status=IncidentStatus.MONITORING,
            message="A fix is out.",
            now=NOW - 60,
            postmortem="Root cause: a carrier fault.",
        )
    old = operator(db, title="Old outage", message="Down.", now=NOW - 100 * DAY)
    with transaction(db.sessions) as s:
        resolve_incident(s, old, now=NOW - 100 * DAY + HOUR)


async def test_pages_with_incidents_are_valid_html(
    seed: Seed, db: Database, make_server, vnu_jar: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    seed_incident_pages(seed, db)
    srv = await make_server()
    files = []
    for path in ("/voip", "/voip/history", "/voip/history/2"):
        r = await srv.client.get(path)
        assert r.status_code == 200, path
        f = tmp_path / (path.strip("/").replace("/", "_") + ".html")
        f.write_bytes(r.content)
        files.append(str(f))
    proc = await asyncio.to_thread(
        subprocess.run,
        ["java", "-jar", str(vnu_jar), "--errors-only", *files],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.browser
async def test_axe_finds_no_serious_violation_with_incidents(
    seed: Seed, db: Database, make_server, browser, node_modules: Path
) -> None:  # type: ignore[no-untyped-def]
    from .test_accessibility import AXE_RUN, axe_source

    seed_incident_pages(seed, db)
    srv = await make_server()
    axe = axe_source(node_modules)

    def audit(b: Any) -> dict[str, Any]:
        out = {}
        for scheme in ("light", "dark"):
            ctx = b.new_context(bypass_csp=True, color_scheme=scheme)
            page = ctx.new_page()
            for path in ("/voip", "/voip/history", "/voip/history/2"):
                page.goto(f"{srv.url}{path}", wait_until="load")
                page.add_script_tag(content=axe)
                found = page.evaluate(AXE_RUN)
                if found:
                    out[f"{path} ({scheme})"] = found
            ctx.close()
        return out

    found = await browser.run(audit)
    lines = [f"{where} {v['id']}: {node}" for where, vs in found.items() for v in vs for node in v["nodes"]]
    assert lines == [], "\n".join(lines)


async def test_an_adopted_automatic_incident_is_listed_once_with_the_operators_title(
    seed: Seed, db: Database, make_server
) -> None:  # type: ignore[no-untyped-def]
    _, ivr, _ = seed_page(seed)
    op = operator(
        db, title="IVR: carrier fibre cut", message="Carrier confirmed.", impact=Impact.MAJOR, auto=(ivr, NOW - HOUR)
    )
    srv = await make_server()
    summary = (await srv.client.get("/voip/api/v2/summary.json")).json()
    (inc,) = summary["incidents"]
    assert (inc["id"], inc["name"], inc["started_at"]) == (f"op-{op}", "IVR: carrier fibre cut", "2026-11-22T11:00:00Z")
    assert [c["name"] for c in inc["components"]] == ["IVR"]
    assert [u["status"] for u in inc["incident_updates"]] == ["investigating", "investigating"]
    html = (await srv.client.get("/voip")).text
    ongoing = html.split('id="ongoing-h"', 1)[1].split('id="components-h"', 1)[0]
    assert "IVR: carrier fibre cut" in ongoing and "IVR: Unhealthy" not in ongoing and "for 1h" in ongoing


async def test_history_lists_automatic_incidents_older_than_the_bars(seed: Seed, make_server) -> None:  # type: ignore[no-untyped-def]
    old = NOW - 120 * DAY  # 24 Jul 2026: before the 90-day bars
    trunk = seed.probe(
        "trunk",
        "HEALTHY",
        spans=[("HEALTHY", old - DAY, old), ("UNHEALTHY", old, old + HOUR), ("HEALTHY", old + HOUR, NOW)],
    )
    seed.page("voip", "VoIP", [(trunk, "Trunk")])
    srv = await make_server()
    assert "Trunk: Unhealthy" not in (await srv.client.get("/voip")).text
    second = (await srv.client.get("/voip/history/2")).text
    assert "July 2026" in second and "Trunk: Unhealthy" in second and "Trunk is healthy again." in second
    incidents = (await srv.client.get("/voip/api/v2/incidents.json")).json()["incidents"]
    assert [(i["name"], i["status"], i["impact"]) for i in incidents] == [("Trunk: Unhealthy", "resolved", "major")]
