"""The machine-readable routes over real HTTP: status.json, Statuspage-shaped API, badges, Atom, metrics."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime

import pytest

from callmeter_tui.bus.events import EventBus, ExecutionRecorded, StateChanged

from ..fixtures import peer_missing
from .conftest import DAY, HOUR, NOW, Seed


def seed_trunks(seed: Seed) -> tuple[int, int]:
    """Trunk A: 719 h healthy + 1 h unhealthy (ending 300 h ago); Trunk B: degraded for the last 2 h."""
    a = seed.probe(
        "trunk-a",
        "HEALTHY",
        spans=[
            ("HEALTHY", NOW - 720 * HOUR, NOW - 300 * HOUR),
            ("UNHEALTHY", NOW - 300 * HOUR, NOW - 299 * HOUR),
            ("HEALTHY", NOW - 299 * HOUR, NOW),
        ],
        metrics={"mos": 4.31, "jitter_ms": 2.5, "packet_loss_pct": 0.0, "rtt_ms": 12.0, "setup_time_ms": 80.0},
    )
    b = seed.probe(
        "trunk-b",
        "DEGRADED",
        spans=[("HEALTHY", NOW - 10 * DAY, NOW - 2 * HOUR), ("DEGRADED", NOW - 2 * HOUR, NOW)],
    )
    seed.page(
        "voip",
        "VoIP Status",
        [(a, "Primary SIP Trunk (US East)"), (b, "Backup SIP Trunk (EU West)")],
        description="SIP trunks we operate.",
    )
    return a, b


def iso_utc(text: str) -> float:
    assert text.endswith("Z"), text
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


async def test_status_json_shape_and_values(seed: Seed, make_server) -> None:  # type: ignore[no-untyped-def]
    seed_trunks(seed)
    srv = await make_server()
    r = await srv.client.get("/voip/status.json")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    doc = r.json()
    assert set(doc) == {"name", "description", "status", "banner", "components", "incidents", "maintenances"}
    assert (doc["name"], doc["description"], doc["status"], doc["banner"]) == (
        "VoIP Status",
        "SIP trunks we operate.",
        "DEGRADED",
        "Partial Degradation",
    )
    a, b = doc["components"]
    assert set(a) == {
        "name",
        "status",
        "uptime_pct",
        "uptime_window_days",
        "under_maintenance",
        "bars",
        "last_checked",
    }
    assert a["name"] == "Primary SIP Trunk (US East)" and a["status"] == "HEALTHY"
    assert a["uptime_pct"] == "99.86"  # 719 of 720 monitored hours
    assert a["uptime_window_days"] == 90
    assert iso_utc(a["last_checked"]) == NOW - 30
    assert len(a["bars"]) == 90
    for bar in a["bars"]:
        assert set(bar) == {
            "start",
            "end",
            "status",
            "healthy_s",
            "degraded_s",
            "unhealthy_s",
            "unknown_s",
            "maintenance_s",
        }
        assert iso_utc(bar["start"]) < iso_utc(bar["end"])
    # The unhealthy hour fell on 2026-11-10 (UTC page): that day is red with exactly 1 h unhealthy.
    bad = [x for x in a["bars"] if x["status"] == "UNHEALTHY"]
    assert len(bad) == 1 and bad[0]["start"] == "2026-11-10T00:00:00Z"
    assert (bad[0]["unhealthy_s"], bad[0]["healthy_s"]) == (3600.0, 82800.0)
    # Before monitoring began (720 h ago) the days are grey.
    assert a["bars"][0]["status"] == "UNKNOWN" and a["bars"][0]["unknown_s"] == 86400.0
    assert a["bars"][-1]["start"] == "2026-11-22T00:00:00Z" and a["bars"][-1]["status"] == "HEALTHY"
    assert b["status"] == "DEGRADED" and b["uptime_pct"] is not None and b["bars"][-1]["status"] == "DEGRADED"
    # Incidents newest first: B's degradation is ongoing, A's unhealthy hour is over.
    incs = doc["incidents"]
    assert [(i["component"], i["status"]) for i in incs] == [
        ("Backup SIP Trunk (EU West)", "DEGRADED"),
        ("Primary SIP Trunk (US East)", "UNHEALTHY"),
    ]
    assert incs[0]["ended_at"] is None and iso_utc(incs[0]["started_at"]) == NOW - 2 * HOUR
    assert (iso_utc(incs[1]["started_at"]), iso_utc(incs[1]["ended_at"])) == (NOW - 300 * HOUR, NOW - 299 * HOUR)
    html = (await srv.client.get("/voip")).text
    assert '<span class="uptime"><span class="wide-only">99.86% uptime</span>' in html


async def test_uptime_is_null_without_monitored_time(seed: Seed, make_server) -> None:  # type: ignore[no-untyped-def]
    p = seed.probe("fresh", "UNKNOWN", last=None)
    seed.page("new", "New", [(p, "Fresh trunk")])
    srv = await make_server()
    doc = (await srv.client.get("/new/status.json")).json()
    comp = doc["components"][0]
    assert comp["uptime_pct"] is None and comp["last_checked"] is None and comp["status"] == "UNKNOWN"
    assert doc["banner"] == "Status Pending" and doc["incidents"] == []
    html = (await srv.client.get("/new")).text
    assert "— uptime" in html


@pytest.mark.parametrize(
    "states, banner",
    [
        (["HEALTHY", "HEALTHY"], "All Systems Operational"),
        (["HEALTHY", "UNKNOWN"], "All Systems Operational"),
        (["HEALTHY", "DEGRADED"], "Partial Degradation"),
        (["DEGRADED", "UNHEALTHY"], "Major Issues Detected"),
        (["UNKNOWN", "UNKNOWN"], "Status Pending"),
    ],
)
async def test_banner_text_per_state_mix(seed: Seed, make_server, states: list[str], banner: str) -> None:  # type: ignore[no-untyped-def]
    ids = [seed.probe(f"p{i}", st) for i, st in enumerate(states)]
    seed.page("mix", "Mix", [(pid, f"Component {i}") for i, pid in enumerate(ids)])
    srv = await make_server()
    assert (await srv.client.get("/mix/status.json")).json()["banner"] == banner
    html = (await srv.client.get("/mix")).text
    assert f'<span class="banner-text">{banner}</span>' in html
    state = {
        "All Systems Operational": "healthy",
        "Partial Degradation": "degraded",
        "Major Issues Detected": "unhealthy",
        "Status Pending": "unknown",
    }[banner]
    assert f'class="banner is-{state}"' in html


# ---- A tiny Statuspage API v2 client, written from Atlassian's published schema -------------------

COMPONENT_STATUSES = {"operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"}
INDICATORS = {"none", "minor", "major", "critical"}


@dataclass
class SPPage:
    id: str
    name: str
    url: str
    time_zone: str
    updated_at: datetime


@dataclass
class SPComponent:
    id: str
    name: str
    status: str
    position: int
    page_id: str
    group: bool
    only_show_if_degraded: bool


def _ts(value: object) -> datetime:
    assert isinstance(value, str)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def parse_page(d: dict) -> SPPage:
    assert isinstance(d["id"], str) and isinstance(d["name"], str) and d["url"].startswith("http")
    assert isinstance(d["time_zone"], str)
    return SPPage(d["id"], d["name"], d["url"], d["time_zone"], _ts(d["updated_at"]))


def parse_status(d: dict) -> tuple[str, str]:
    assert d["indicator"] in INDICATORS and isinstance(d["description"], str)
    return d["indicator"], d["description"]


def parse_component(d: dict) -> SPComponent:
    for key in (
        "id",
        "name",
        "status",
        "created_at",
        "updated_at",
        "position",
        "description",
        "showcase",
        "group_id",
        "page_id",
        "group",
        "only_show_if_degraded",
    ):
        assert key in d, key
    assert d["status"] in COMPONENT_STATUSES
    assert isinstance(d["position"], int) and isinstance(d["showcase"], bool) and isinstance(d["group"], bool)
    assert d["description"] is None or isinstance(d["description"], str)
    assert d["group_id"] is None or isinstance(d["group_id"], str)
    _ts(d["created_at"]), _ts(d["updated_at"])
    return SPComponent(
        d["id"], d["name"], d["status"], d["position"], d["page_id"], d["group"], d["only_show_if_degraded"]
    )


def parse_summary(d: dict) -> tuple[SPPage, tuple[str, str], list[SPComponent]]:
    assert isinstance(d["incidents"], list) and isinstance(d["scheduled_maintenances"], list)
    return parse_page(d["page"]), parse_status(d["status"]), [parse_component(c) for c in d["components"]]


async def test_statuspage_shaped_api(seed: Seed, make_server) -> None:  # type: ignore[no-untyped-def]
    a, b = seed_trunks(seed)
    c = seed.probe("ivr", "UNHEALTHY")
    d = seed.probe("conf", "UNKNOWN")
    seed.page(
        "all",
        "All",
        [(a, "Trunk"), (b, "Backup"), (c, "IVR System"), (d, "Conference Bridge")],
        timezone="Europe/Berlin",
    )
    srv = await make_server()
    page, status, comps = parse_summary((await srv.client.get("/all/api/v2/summary.json")).json())
    assert page.name == "All" and page.time_zone == "Europe/Berlin" and page.url == f"{srv.url}/all"
    assert status == ("major", "Major Issues Detected")
    assert [(x.name, x.status, x.position) for x in comps] == [
        ("Trunk", "operational", 1),
        ("Backup", "degraded_performance", 2),
        ("IVR System", "major_outage", 3),
    ]  # "Conference Bridge" has no result yet: not claimed operational, left out (Statuspage has no "unknown")
    assert all(x.page_id == page.id for x in comps) and len({x.id for x in comps}) == 3
    st = (await srv.client.get("/all/api/v2/status.json")).json()
    assert set(st) == {"page", "status"} and parse_page(st["page"]) == page
    assert parse_status(st["status"]) == status
    _, voip_status, _ = parse_summary((await srv.client.get("/voip/api/v2/summary.json")).json())
    assert voip_status == ("minor", "Partial Degradation")


async def test_badges_are_valid_svg(seed: Seed, make_server) -> None:  # type: ignore[no-untyped-def]
    seed_trunks(seed)
    srv = await make_server()
    r = await srv.client.get("/voip/badge.svg")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(r.content)
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and int(root.get("width")) > 0
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text") if t.get("aria-hidden") != "true"]
    assert texts == ["status", "degraded"]
    r1 = await srv.client.get("/voip/components/1/badge.svg")
    texts = [
        t.text
        for t in ET.fromstring(r1.content).iter("{http://www.w3.org/2000/svg}text")
        if t.get("aria-hidden") != "true"
    ]
    assert texts == ["Primary SIP Trunk (US East)", "operational"]
    assert (await srv.client.get("/voip/components/3/badge.svg")).status_code == 404
    assert (await srv.client.get("/voip/components/0/badge.svg")).status_code == 404


async def test_atom_feed_lists_incidents(seed: Seed, make_server) -> None:  # type: ignore[no-untyped-def]
    seed_trunks(seed)
    srv = await make_server()
    r = await srv.client.get("/voip/feed.atom")
    assert r.headers["content-type"].startswith("application/atom+xml")
    ns = {"a": "http://www.w3.org/2005/Atom"}
    feed = ET.fromstring(r.content)
    assert feed.tag == "{http://www.w3.org/2005/Atom}feed"
    assert feed.findtext("a:title", namespaces=ns) == "VoIP Status: incidents"
    entries = feed.findall("a:entry", ns)
    assert [e.findtext("a:title", namespaces=ns) for e in entries] == [
        "Backup SIP Trunk (EU West): Degraded (ongoing)",
        "Primary SIP Trunk (US East): Unhealthy (resolved)",
    ]
    for e in entries:
        assert e.findtext("a:id", namespaces=ns) and _ts(e.findtext("a:updated", namespaces=ns))
    assert len({e.findtext("a:id", namespaces=ns) for e in entries}) == 2


async def test_metrics_off_by_default(seed: Seed, make_server) -> None:  # type: ignore[no-untyped-def]
    seed_trunks(seed)
    srv = await make_server()
    assert (await srv.client.get("/metrics")).status_code == 404


def seed_history(seed: Seed, probe_id: int) -> None:
    """Three more runs (one failed) and finished webhook deliveries: 2 succeeded, 1 failed, 1 test, 1 pending."""
    from callmeter_tui.store.models import Delivery, Execution, Webhook

    with seed.db.session() as s:
        for i, ok in enumerate((True, False, True)):
            s.add(Execution(probe_id=probe_id, started_at=NOW - 300 * (i + 1), state="HEALTHY", ok=ok, metrics={}))
        hook = Webhook(probe_id=probe_id, url="https://hooks.example.com/x?token=t", created_at=NOW - DAY)
        s.add(hook)
        s.flush()
        for i, (status, is_test) in enumerate(
            [("succeeded", False), ("succeeded", False), ("failed", False), ("succeeded", True), ("pending", False)]
        ):
            s.add(
                Delivery(
                    webhook_id=hook.id,
                    key=f"k{i}",
                    body=b"{}",
                    status=status,
                    is_test=is_test,
                    next_attempt_at=NOW,
                    created_at=NOW,
                )
            )


async def test_metrics_when_enabled(seed: Seed, make_server) -> None:  # type: ignore[no-untyped-def]
    a, _b = seed_trunks(seed)
    seed_history(seed, a)
    c = seed.probe("options-c", "HEALTHY", metrics={"response_time_ms": 42.0})
    d = seed.probe("call-d", "HEALTHY", metrics={"asr_pct": 75.0, "mos": 4.1})
    assert c and d
    srv = await make_server(metrics_enabled=True)
    r = await srv.client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain; version=0.0.4")
    lines = r.text.splitlines()
    assert 'callmeter_probe_state{probe="trunk-a",state="HEALTHY"} 1' in lines
    assert 'callmeter_probe_state{probe="trunk-a",state="DEGRADED"} 0' in lines
    assert 'callmeter_probe_state{probe="trunk-b",state="DEGRADED"} 1' in lines
    assert 'callmeter_probe_mos{probe="trunk-a"} 4.31' in lines
    assert 'callmeter_probe_jitter_seconds{probe="trunk-a"} 0.0025' in lines
    assert 'callmeter_probe_packet_loss_ratio{probe="trunk-a"} 0.0' in lines
    assert 'callmeter_probe_rtt_seconds{probe="trunk-a"} 0.012' in lines
    assert 'callmeter_probe_setup_time_seconds{probe="trunk-a"} 0.08' in lines
    assert 'callmeter_probe_response_time_seconds{probe="options-c"} 0.042' in lines
    assert 'callmeter_probe_asr_ratio{probe="call-d"} 0.75' in lines
    assert 'callmeter_probe_runs_total{probe="trunk-a"} 4' in lines
    assert 'callmeter_probe_failures_total{probe="trunk-a"} 1' in lines
    assert 'callmeter_webhook_deliveries_total{probe="trunk-a",outcome="succeeded"} 2' in lines
    assert 'callmeter_webhook_deliveries_total{probe="trunk-a",outcome="failed"} 1' in lines
    assert f'callmeter_probe_last_execution_timestamp_seconds{{probe="trunk-a"}} {NOW - 30!r}' in lines
    uptime = [x for x in lines if x.startswith('callmeter_probe_uptime_ratio{probe="trunk-a"')]
    assert len(uptime) == 1 and float(uptime[0].split()[-1]) == pytest.approx(719 / 720)
    assert not any("trunk-b" in x for x in lines if x.startswith("callmeter_probe_mos"))


async def test_metrics_pass_promtool(seed: Seed, make_server) -> None:  # type: ignore[no-untyped-def]
    """What Prometheus users run on an exporter: `promtool check metrics` prints nothing."""
    promtool = shutil.which("promtool")
    if promtool is None:
        peer_missing("promtool not installed (Debian package prometheus, scripts/install-peers.sh)")
    a, _b = seed_trunks(seed)
    seed_history(seed, a)
    seed.probe("options-c", "HEALTHY", metrics={"response_time_ms": 42.0})
    seed.probe("call-d", "HEALTHY", metrics={"asr_pct": 75.0, "mos": 4.1})
    srv = await make_server(metrics_enabled=True)
    body = (await srv.client.get("/metrics")).content
    check = [promtool, "check", "metrics"]
    proc = await asyncio.to_thread(subprocess.run, check, input=body, capture_output=True, timeout=30, check=False)
    assert (proc.stdout + proc.stderr).decode() == "" and proc.returncode == 0


async def test_no_secret_in_any_public_route(seed: Seed, make_server) -> None:  # type: ignore[no-untyped-def]
    seed_trunks(seed)
    srv = await make_server(metrics_enabled=True)
    paths = [
        "/voip",
        "/voip/status.json",
        "/voip/api/v2/summary.json",
        "/voip/api/v2/status.json",
        "/voip/badge.svg",
        "/voip/components/1/badge.svg",
        "/voip/feed.atom",
        "/metrics",
    ]
    for path in paths:
        body = (await srv.client.get(path)).text
        for secret in ("secret-host", "alice", "SECRET_ENV", "sip:"):
            assert secret not in body, (path, secret)


async def test_events_update_the_page(seed: Seed, db, bus: EventBus, make_server) -> None:  # type: ignore[no-untyped-def]
    """StateChanged re-renders the page; ExecutionRecorded moves last_checked."""
    import asyncio

    from callmeter_tui.store.models import Probe

    a, _ = seed_trunks(seed)
    srv = await make_server()
    seed.set_state(a, "UNHEALTHY")
    bus.publish(StateChanged(a, "trunk-a", "HEALTHY", "UNHEALTHY", NOW, 1))
    for _ in range(100):
        doc = (await srv.client.get("/voip/status.json")).json()
        if doc["banner"] == "Major Issues Detected":
            break
        await asyncio.sleep(0.05)
    assert doc["banner"] == "Major Issues Detected" and doc["components"][0]["status"] == "UNHEALTHY"
    with db.session() as s:
        s.get(Probe, a).last_execution_at = NOW - 5
    for i in range(3):  # a burst is coalesced, the last one still shows
        bus.publish(ExecutionRecorded(a, "trunk-a", 10 + i, NOW - 5, "UNHEALTHY", "UNHEALTHY"))
    for _ in range(100):
        doc = (await srv.client.get("/voip/status.json")).json()
        if doc["components"][0]["last_checked"] == "2026-11-22T11:59:55Z":
            break
        await asyncio.sleep(0.05)
    assert doc["components"][0]["last_checked"] == "2026-11-22T11:59:55Z"


async def test_execution_bursts_are_coalesced(seed: Seed, bus: EventBus, make_server) -> None:  # type: ignore[no-untyped-def]
    """A burst of executions re-renders the page once; more during the pause give one more render later."""
    import asyncio

    a, _ = seed_trunks(seed)
    other = seed.probe("not-on-page", "HEALTHY")
    srv = await make_server()
    renders: list[float] = []
    original = srv.server._render_elsewhere  # in the render process, or in a thread

    async def counting(slug: str):  # type: ignore[no-untyped-def]
        assert slug == "voip"
        renders.append(time.monotonic())
        return await original(slug)

    srv.server._render_elsewhere = counting
    for i in range(50):
        bus.publish(ExecutionRecorded(a, "trunk-a", 100 + i, NOW, "HEALTHY", "HEALTHY"))
    bus.publish(ExecutionRecorded(other, "not-on-page", 999, NOW, "HEALTHY", "HEALTHY"))
    for _ in range(100):
        if renders:
            break
        await asyncio.sleep(0.01)
    for i in range(20):
        bus.publish(ExecutionRecorded(a, "trunk-a", 200 + i, NOW, "HEALTHY", "HEALTHY"))
        await asyncio.sleep(0.01)
    await asyncio.sleep(3.0)
    assert len(renders) == 2
    assert renders[1] - renders[0] >= 0.9  # DEBOUNCE_S apart (thread start jitter aside)


async def test_same_page_on_sqlite_and_postgresql(database, bus: EventBus) -> None:  # type: ignore[no-untyped-def]
    """The page reads through the store's queries only: both backends give the same document."""
    from .conftest import start_server

    seed_trunks(Seed(database))
    running = await start_server(database, bus)
    try:
        doc = (await running.client.get("/voip/status.json")).json()
    finally:
        await running.client.aclose()
        await running.server.stop()
    a, b = doc["components"]
    assert (doc["banner"], a["uptime_pct"], b["status"]) == ("Partial Degradation", "99.86", "DEGRADED")
    assert [x["start"] for x in a["bars"] if x["status"] == "UNHEALTHY"] == ["2026-11-10T00:00:00Z"]
    assert [i["ended_at"] is None for i in doc["incidents"]] == [True, False]


async def test_feed_and_badges_stay_well_formed_with_control_characters_in_stored_names(
    seed: Seed, make_server
) -> None:  # type: ignore[no-untyped-def]
    """check refuses such names now; a database written before that must still give well-formed XML."""
    p = seed.probe("p", "UNHEALTHY", spans=[("HEALTHY", NOW - DAY, NOW - HOUR), ("UNHEALTHY", NOW - HOUR, NOW)])
    seed.page("ctl", "Page\x01\x1b[31m", [(p, "Trunk\x00\x0b")])
    srv = await make_server()
    for path in ("/ctl/feed.atom", "/ctl/badge.svg", "/ctl/components/1/badge.svg"):
        r = await srv.client.get(path)
        assert r.status_code == 200, path
        root = ET.fromstring(r.content)  # raises on a character XML 1.0 forbids
        assert "\ufffd" in "".join(root.itertext()) or path == "/ctl/badge.svg", path
