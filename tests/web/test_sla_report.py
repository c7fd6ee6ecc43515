"""SLA report figures are the page's figures: spans with known seconds (across both month edges, a DST
change, gaps and UNKNOWN time), then every figure of the month report against what a real server's
status.json (uptime and day bars) says for the same window."""

from __future__ import annotations

import math
import re
from datetime import datetime
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from callmeter_tui.commands.report import load_report
from callmeter_tui.domain.sla import Verdict
from callmeter_tui.store.database import Database
from callmeter_tui.store.models import Component, Execution, Probe
from callmeter_tui.web.server import WebServer

from .conftest import NOW, Seed, web_config

BERLIN = ZoneInfo("Europe/Berlin")


def at(month: int, day: int, hour: int = 0, minute: int = 0, fold: int = 0) -> float:
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN).replace(fold=fold).timestamp()


OCT_START, NOV_START = at(10, 1), at(11, 1)
# (state, start, end): healthy from September into October, a 3.5 h gap, a degraded+unhealthy incident,
# 3 h UNKNOWN over the night the clocks go back (4 real hours), an incident running into November.
TRUNK_SPANS = [
    ("HEALTHY", at(9, 30, 20), at(10, 3, 10)),
    ("DEGRADED", at(10, 3, 13, 30), at(10, 3, 14)),
    ("UNHEALTHY", at(10, 3, 14), at(10, 3, 14, 20)),
    ("HEALTHY", at(10, 3, 14, 20), at(10, 25, 1)),
    ("UNKNOWN", at(10, 25, 1), at(10, 25, 4)),
    ("HEALTHY", at(10, 25, 4), at(10, 31, 23)),
    ("UNHEALTHY", at(10, 31, 23), at(11, 1, 2)),
    ("HEALTHY", at(11, 1, 2), NOW - 600),
    ("DEGRADED", NOW - 600, NOW),
]
# (The page calls a newest bad span "ongoing" even when no data follows it; the report counts the bad time
# seen. So the IVR's November minute is followed by a healthy hour, where the two readings agree.)
IVR_SPANS = [
    ("HEALTHY", at(10, 10), at(10, 20)),
    ("DEGRADED", at(11, 5), at(11, 5, 0, 1)),
    ("HEALTHY", at(11, 5, 0, 1), at(11, 5, 1)),
]


def _seed(seed: Seed, db: Database) -> None:
    trunk = seed.probe("trunk", spans=TRUNK_SPANS)
    ivr = seed.probe("ivr", spans=IVR_SPANS)
    idle = seed.probe("idle", spans=[])
    seed.page(
        "acme",
        "Acme <b>VoIP</b>",
        [(trunk, "Trunk <script>x</script>"), (ivr, "IVR"), (idle, "Idle")],
        timezone="Europe/Berlin",
        bar_days=32,
    )
    with db.session() as s:
        for c in s.query(Component).all():
            c.sla_target = {"Trunk <script>x</script>": 99.9, "IVR": 99.0}.get(c.name)
        p = s.get(Probe, trunk)
        assert p is not None
        p.thresholds = {"mos": {"warning": 3.5, "critical": 2.5}}
        # One execution a minute 13:30-14:30 on 3 Oct; MOS under critical 14:00-14:19 (20 samples = 1200 s).
        for i in range(61):
            t = at(10, 3, 13, 30) + 60 * i
            mos = 2.0 if at(10, 3, 14) <= t < at(10, 3, 14, 20) else 4.1
            s.add(Execution(probe_id=trunk, started_at=t, state="HEALTHY", ok=True, metrics={"mos": mos}))


async def _status(db: Database, bus: Any, now: float) -> dict[str, Any]:
    server = WebServer(db, web_config(), bus, clock=lambda: now, render_child=False)
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            r = await client.get("/acme/status.json")
            assert r.status_code == 200
            return r.json()  # type: ignore[no-any-return]
    finally:
        await server.stop()


def _iso(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _check_against_page(status: dict[str, Any], report: Any, start: float, end: float) -> None:
    assert [c["name"] for c in status["components"]] == [c.name for c in report.components]
    for comp, rep in zip(status["components"], report.components):
        bars = [b for b in comp["bars"] if start <= _iso(b["start"]) < end]
        assert _iso(bars[0]["start"]) == start
        assert rep.uptime_pct == comp["uptime_pct"], comp["name"]
        assert rep.healthy_s == pytest.approx(sum(b["healthy_s"] for b in bars), abs=1e-3)
        assert rep.degraded_s == pytest.approx(sum(b["degraded_s"] for b in bars), abs=1e-3)
        assert rep.unhealthy_s == pytest.approx(sum(b["unhealthy_s"] for b in bars), abs=1e-3)
        assert rep.unknown_s + rep.no_data_s == pytest.approx(sum(b["unknown_s"] for b in bars), abs=1e-3)
        mine = [i for i in status["incidents"] if i["component"] == comp["name"]]
        assert rep.incidents == len(mine)
        lengths = [_iso(i["ended_at"] or status_end(end)) - _iso(i["started_at"]) for i in mine]
        assert rep.longest_incident_s == max(lengths, default=0.0)


def status_end(end: float) -> str:
    from callmeter_tui.domain.isotime import iso_seconds

    return iso_seconds(end)


async def test_october_report_matches_the_page_for_october(seed: Seed, db: Database, bus) -> None:  # type: ignore[no-untyped-def]
    _seed(seed, db)
    # The page as seen at the first instant of November, its 32 day bars starting on 1 October (Berlin).
    status = await _status(db, bus, NOV_START)
    report = load_report(db, "acme", "2026-10", NOW)
    assert (report.window.start, report.window.end, report.window.partial) == (OCT_START, NOV_START, False)
    assert NOV_START - OCT_START == 31 * 86400 + 3600  # the month the clocks go back is an hour longer
    _check_against_page(status, report, OCT_START, NOV_START)

    trunk, ivr, idle = report.components
    # The known seconds, written out.
    gap = 3.5 * 3600
    bad = 1800 + 1200 + 3600
    unknown = 4 * 3600  # 01:00 CEST to 04:00 CET
    assert (trunk.degraded_s, trunk.unhealthy_s, trunk.unknown_s, trunk.no_data_s) == (1800, 4800, unknown, gap)
    assert trunk.healthy_s == NOV_START - OCT_START - gap - bad - unknown
    assert trunk.maintenance_s == 0
    assert trunk.incidents == 2 and trunk.longest_incident_s == 3600  # 1800 + 1200 merged; the month-end one is 1 h
    assert trunk.over_critical_s == {"mos": 1200.0} and trunk.metrics_seen_s == 3660  # 61 samples a minute apart
    ratio = Fraction(int(trunk.healthy_s), int(trunk.healthy_s) + bad)
    hundredths = math.floor(ratio * 10000)
    assert trunk.uptime_pct == f"{hundredths // 100}.{hundredths % 100:02d}" == "99.75"  # truncated, not rounded
    assert ratio < Fraction(999, 1000) and trunk.verdict is Verdict.FAIL
    assert (ivr.uptime_pct, ivr.verdict, ivr.incidents) == ("100.00", Verdict.PASS, 0)
    assert ivr.no_data_s == NOV_START - OCT_START - 10 * 86400
    assert (idle.uptime_pct, idle.verdict, idle.no_data_s) == (None, Verdict.NO_TARGET, NOV_START - OCT_START)


async def test_current_month_report_is_cut_at_now_like_the_page(seed: Seed, db: Database, bus) -> None:  # type: ignore[no-untyped-def]
    _seed(seed, db)
    from callmeter_tui.store.models import StatusPage

    with db.session() as s:
        s.query(StatusPage).one().bar_days = 22  # 1 to 22 November (Berlin), today cut at now
    status = await _status(db, bus, NOW)
    report = load_report(db, "acme", "2026-11", NOW)
    assert (report.window.start, report.window.end, report.window.partial) == (NOV_START, NOW, True)
    _check_against_page(status, report, NOV_START, NOW)
    trunk = report.components[0]
    assert trunk.incidents == 2 and trunk.longest_incident_s == 2 * 3600  # 00:00-02:00; the ongoing one is 600 s


async def test_uptime_history_gives_the_report_figure_per_month(seed: Seed, db: Database, make_server) -> None:  # type: ignore[no-untyped-def]
    _seed(seed, db)
    srv = await make_server()
    page = (await srv.client.get("/acme")).text
    assert 'href="/acme/uptime"' in page  # linked from the page
    r = await srv.client.get("/acme/uptime")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "Content-Security-Policy" in r.headers
    html = r.text
    assert "<script>x</script>" not in html and "Trunk &lt;script&gt;x&lt;/script&gt;" in html
    assert "Acme &lt;b&gt;VoIP&lt;/b&gt;" in html
    months = re.findall(r'<time datetime="(\d{4}-\d{2})">', html)
    assert len(months) == 12 and months[-1] == "2026-11" and months[0] == "2025-12"
    rows = re.findall(r'<tr><th scope="row">(.*?)</th>(.*?)</tr>', html)
    assert [name for name, _ in rows] == ["Trunk &lt;script&gt;x&lt;/script&gt;", "IVR", "Idle"]
    for (_, cells), comp in zip(rows, range(3)):
        shown = [c.rstrip("%") for c in re.findall(r"<td>(.*?)</td>", cells)]
        expected = []
        for month in months:
            figure = load_report(db, "acme", month, NOW).components[comp].uptime_pct
            expected.append("—" if figure is None else figure)
        assert shown == expected
    assert shown[-3:] == ["—", "—", "—"]  # the idle component never ran
    assert (await srv.client.get("/nope/uptime")).status_code == 404


async def test_uptime_history_shows_page_edits_at_once(seed: Seed, db: Database, bus, make_server) -> None:  # type: ignore[no-untyped-def]
    from callmeter_tui.bus.events import PagesChanged

    _seed(seed, db)
    srv = await make_server()
    assert "Acme &lt;b&gt;VoIP&lt;/b&gt;" in (await srv.client.get("/acme/uptime")).text
    seed.edit_page("acme", name="Acme Voice")
    bus.publish(PagesChanged(("acme",)))
    assert '<h1 class="title">Acme Voice</h1>' in (await srv.client.get("/acme/uptime")).text
    seed.delete_page("acme")
    bus.publish(PagesChanged())
    assert (await srv.client.get("/acme/uptime")).status_code == 404
