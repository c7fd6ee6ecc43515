"""Assets built on their first request (status.json, the Statuspage API, the feed, the history, component
badges): the very bytes a full render of the same snapshot writes, never stale after a new snapshot, and
answered with the same validators, 304s and HEADs as the assets rendered with the page."""

from __future__ import annotations

import os
import random
import re
import signal
from datetime import datetime

import httpx
import pytest

from callmeter_tui.bus.events import EventBus, PagesChanged
from callmeter_tui.domain.health import HealthState
from callmeter_tui.domain.incident_status import (
    AffectedComponent,
    ComponentStatus,
    Impact,
    IncidentStatus,
    IncidentUpdate,
    OperatorIncident,
)
from callmeter_tui.domain.spans import HealthSpan
from callmeter_tui.store.database import Database
from callmeter_tui.web.publish import all_bodies
from callmeter_tui.web.server import WebServer
from callmeter_tui.web.snapshot import ComponentData, PageData, load_page
from callmeter_tui.web.view import build_view

from .conftest import DAY, HOUR, NOW, Seed, web_config
from .test_http import SAME_ON_HEAD
from .test_statuspage_api import seed_incident_pages

LAZY = (
    "status.json",
    "feed.atom",
    "history",
    "api/v2/summary.json",
    "api/v2/components.json",
    "api/v2/incidents.json",
    "api/v2/scheduled-maintenances.json",
    "components/1/badge.svg",
    "components/2/badge.svg",
)


class Clock:
    def __init__(self) -> None:
        self.t = NOW

    def __call__(self) -> float:
        return self.t


async def started(db: Database, bus: EventBus, *, child: bool, clock: Clock | None = None) -> WebServer:
    server = WebServer(db, web_config(), bus, clock=clock or (lambda: NOW), render_child=child)
    await server.start()
    assert (server._renderer.procs is not None) is child
    return server


def read_at_once(db: Database, server: WebServer) -> dict[str, tuple[bytes, str]]:
    """Every asset of page "voip" (body, content type) from one read of the store: what is served must match."""
    assert server._static is not None
    with db.session() as s:
        data = load_page(s, "voip", NOW)
    assert data is not None
    return all_bodies(data, server.base_url, server._static)


async def assert_served(client: httpx.AsyncClient, expected: dict[str, tuple[bytes, str]]) -> None:
    for key, (body, ctype) in expected.items():
        r = await client.get(f"/voip/{key}", headers={"Accept-Encoding": "identity"})
        assert (r.status_code, r.headers["content-type"]) == (200, ctype), key
        assert r.content == body, key


@pytest.mark.parametrize("child", [True, False], ids=["render-process", "threads"])
async def test_lazy_assets_are_the_bytes_of_a_full_render(seed: Seed, db: Database, bus: EventBus, child: bool) -> None:
    seed_incident_pages(seed, db)
    server = await started(db, bus, child=child)
    try:
        expected = read_at_once(db, server)
        assert set(LAZY) <= set(expected) and "components/3/badge.svg" in expected
        async with httpx.AsyncClient(base_url=server.url) as client:
            await assert_served(client, expected)
            for missing in ("components/4/badge.svg", "components/0/badge.svg", "history/9", "history/41", "history/1"):
                assert (await client.get(f"/voip/{missing}")).status_code == 404, missing
    finally:
        await server.stop()


@pytest.mark.parametrize("child", [True, False], ids=["render-process", "threads"])
async def test_no_lazy_asset_is_stale_after_a_new_snapshot(
    seed: Seed, db: Database, bus: EventBus, child: bool
) -> None:
    a = seed.probe("trunk-a", "HEALTHY", spans=[("HEALTHY", NOW - DAY, NOW)])
    b = seed.probe("trunk-b", "HEALTHY", spans=[("HEALTHY", NOW - DAY, NOW)])
    seed.page("voip", "Before", [(a, "Trunk A"), (b, "Trunk B")])
    server = await started(db, bus, child=child)
    try:
        async with httpx.AsyncClient(base_url=server.url) as client:
            before = {key: (await client.get(f"/voip/{key}")).text for key in LAZY}
            assert all("Before" in before[k] for k in ("status.json", "feed.atom", "history", "api/v2/summary.json"))
            assert "operational" in before["components/2/badge.svg"]
            seed.edit_page("voip", name="After")
            seed.set_state(b, "UNHEALTHY")
            bus.publish(PagesChanged(("voip",)))
            after = {key: (await client.get(f"/voip/{key}")).text for key in LAZY}
        for key in ("status.json", "feed.atom", "history", "api/v2/summary.json", "api/v2/components.json"):
            assert "After" in after[key] and "Before" not in after[key], key
        assert "major outage" in after["components/2/badge.svg"]
        assert after["components/1/badge.svg"] == before["components/1/badge.svg"]  # nothing changed there
        assert '"status":"UNHEALTHY"' in after["status.json"]
    finally:
        await server.stop()


@pytest.mark.parametrize("child", [True, False], ids=["render-process", "threads"])
async def test_lazy_assets_keep_validators_and_answer_304_and_head(
    seed: Seed, db: Database, bus: EventBus, child: bool
) -> None:
    a = seed.probe("trunk-a", "HEALTHY", spans=[("HEALTHY", NOW - DAY, NOW)])
    seed.page("voip", "VoIP", [(a, "Trunk A")])
    clock = Clock()
    server = await started(db, bus, child=child, clock=clock)
    try:
        async with httpx.AsyncClient(base_url=server.url) as client:
            first = await client.get("/voip/components/1/badge.svg", headers={"Accept-Encoding": "gzip"})
            assert first.headers["access-control-allow-origin"] == "*"
            etag, modified = first.headers["etag"], first.headers["last-modified"]
            clock.t += 120  # a new snapshot, the badge's bytes unchanged: its validators stay
            bus.publish(PagesChanged(("voip",)))
            again = await client.get("/voip/components/1/badge.svg", headers={"Accept-Encoding": "gzip"})
            assert (again.headers["etag"], again.headers["last-modified"]) == (etag, modified)
            for enc in ("gzip", "identity"):
                get = await client.get("/voip/status.json", headers={"Accept-Encoding": enc})
                head = await client.head("/voip/status.json", headers={"Accept-Encoding": enc})
                assert (head.status_code, head.content) == (200, b"")
                assert {k: head.headers.get(k) for k in SAME_ON_HEAD} == {k: get.headers.get(k) for k in SAME_ON_HEAD}
                for method in ("GET", "HEAD"):
                    r = await client.request(
                        method,
                        "/voip/status.json",
                        headers={"Accept-Encoding": enc, "If-None-Match": get.headers["etag"]},
                    )
                    assert (r.status_code, r.content) == (304, b""), method
            seed.set_state(a, "UNHEALTHY")
            bus.publish(PagesChanged(("voip",)))
            changed = await client.get("/voip/components/1/badge.svg", headers={"If-None-Match": etag})
            assert changed.status_code == 200 and changed.headers["etag"] != etag
    finally:
        await server.stop()


async def test_a_snapshot_the_render_process_no_longer_holds_is_rendered_again(
    seed: Seed, db: Database, bus: EventBus
) -> None:
    a = seed.probe("trunk-a", "HEALTHY", spans=[("HEALTHY", NOW - DAY, NOW)])
    seed.page("voip", "VoIP", [(a, "Trunk A")])
    server = await started(db, bus, child=True)
    try:
        page = server._lazy._pages["voip"]
        pid, _ = page.handle
        page.handle = (pid, 10**9)  # a token the render process never gave out
        async with httpx.AsyncClient(base_url=server.url) as client:
            r = await client.get("/voip/status.json")
        assert r.status_code == 200 and r.json()["name"] == "VoIP"
        assert server._renderer.procs is not None and server._lazy.handle("voip")[1] != 10**9
    finally:
        await server.stop()


def _random_page(rng: random.Random) -> PageData:
    """Components with random runs of states (some ongoing bad), operator incidents adopting some runs."""
    comps = []
    starts: list[tuple[int, float]] = []
    for n in range(1, 13):
        spans, t = [], NOW - 10 * DAY
        older = [HealthSpan(HealthState.DEGRADED, NOW - 12 * DAY, NOW - 11 * DAY)] if n % 4 == 0 else []
        while t < NOW:
            state = rng.choice(["HEALTHY", "HEALTHY", "DEGRADED", "UNHEALTHY", "UNKNOWN"])
            end = min(NOW, t + rng.uniform(0.2, 2) * DAY)
            spans.append(HealthSpan(HealthState.parse(state), t, end))
            if state != "HEALTHY":
                starts.append((n, t))
            t = end if rng.random() < 0.8 else end + HOUR
        comps.append(
            ComponentData(n, f"C{n}", n, spans[-1].state.value, NOW, NOW - DAY, NOW, tuple(spans), tuple(older))
        )
    ops = []
    for i, (probe, start) in enumerate(rng.sample(starts, min(4, len(starts))), start=1):
        status = rng.choice([IncidentStatus.RESOLVED, IncidentStatus.MONITORING])
        affected = (AffectedComponent(probe, f"C{probe}", ComponentStatus.DEGRADED_PERFORMANCE),)
        update = IncidentUpdate(i, status, "words", start + 60)
        resolved = start + 120 if status is IncidentStatus.RESOLVED else None
        ops.append(
            OperatorIncident(
                i,
                "p",
                f"op {i}",
                Impact.MINOR,
                status,
                start,
                start + 60,
                resolved,
                affected,
                (update,),
                auto_probe_id=probe,
                auto_started_at=start,
            )
        )
    boundaries = tuple(NOW - DAY * k for k in range(10, -1, -1))
    return PageData(1, "p", "P", "", "#000000", "UTC", 10, 60, NOW, None, tuple(comps), boundaries, NOW, tuple(ops))


def test_the_pages_ongoing_incidents_are_the_ongoing_ones_of_all() -> None:
    """The page lists its ongoing incidents without building every incident: the same ones, in order
    (adopted runs, ongoing or not, included)."""
    shown = adopted = 0
    for seed_value in range(40):
        data = _random_page(random.Random(seed_value))
        ongoing = build_view(data).ongoing
        assert ongoing == tuple(i for i in build_view(data).public if i.ongoing), seed_value
        shown += len(ongoing)
        adopted += sum(1 for i in ongoing if not i.automatic)
    assert shown > 40 and adopted > 5  # the generator does make both kinds


async def test_a_lazy_asset_asked_for_after_the_render_process_died_is_built_in_a_thread(
    seed: Seed, db: Database, bus: EventBus
) -> None:
    a = seed.probe("trunk-a", "HEALTHY", spans=[("HEALTHY", NOW - DAY, NOW)])
    seed.page("voip", "VoIP", [(a, "Trunk A")])
    server = await started(db, bus, child=True)
    try:
        assert server._renderer.procs is not None
        (pid,) = list(server._renderer.procs._processes)  # type: ignore[attr-defined]
        os.kill(pid, signal.SIGKILL)
        async with httpx.AsyncClient(base_url=server.url) as client:
            r = await client.get("/voip/components/1/badge.svg")
            assert r.status_code == 200 and "Trunk A" in r.text
            assert (await client.get("/voip/status.json")).json()["name"] == "VoIP"
        assert server._renderer.procs is None  # threads from now on
    finally:
        await server.stop()


def _seed_long_history(seed: Seed, db: Database, rng: random.Random, timezone: str = "UTC") -> None:
    """A page over 200 days of random runs (the bars show 90): components healthy now with older incidents,
    one bad since before the bars, one with no span in the bars, and operator incidents adopting older runs."""
    members, older_runs = [], []
    for n in range(12):
        spans, t = [], NOW - 200 * DAY
        while t < NOW - (95 * DAY if n == 11 else 0):  # the last one falls silent before the bars
            state = rng.choice(["HEALTHY", "HEALTHY", "DEGRADED", "UNHEALTHY", "UNKNOWN"])
            end = min(NOW, t + rng.uniform(0.5, 20) * DAY)
            spans.append((state, t, end))
            t = end if rng.random() < 0.8 else end + HOUR
        if n == 0:  # bad since before the bars, still bad: its ongoing incident began in the older history
            spans = [s for s in spans if s[1] < NOW - 100 * DAY] + [("UNHEALTHY", spans[-1][2], NOW)]
        older_runs += [(n, s[1]) for s in spans if s[0] in ("DEGRADED", "UNHEALTHY") and s[1] < NOW - 91 * DAY]
        state = spans[-1][0] if spans else "UNKNOWN"
        members.append((seed.probe(f"p{n}", state, spans=[s for s in spans if s[2] > s[1]]), f"C{n}"))
    seed.page("voip", "VoIP", members, timezone=timezone)
    from callmeter_tui.store.database import transaction
    from callmeter_tui.store.incidents import open_incident

    for n, start in rng.sample(older_runs, 3):
        with transaction(db.sessions) as s:
            open_incident(s, slug="voip", title=f"adopted {n}", message="m", now=NOW - 60, auto=(members[n][0], start))


@pytest.mark.parametrize("seed_value", range(4))
def test_the_older_history_read_later_gives_the_same_page_and_is_not_read_for_it(
    seed: Seed, db: Database, seed_value: int
) -> None:
    """The bad spans older than the bars are read when a lazy asset (history, feed, API) first needs them, not
    with the page: every asset comes out as from a page read all at once, and the page itself (HTML, theme,
    badge, its ongoing incidents, one of which began in the older history) is built without that read."""
    from callmeter_tui.web.publish import load_static, page_bodies

    _seed_long_history(seed, db, random.Random(seed_value))
    static = load_static(NOW)
    reads = []

    def later():  # type: ignore[no-untyped-def]
        reads.append(1)
        return db.session()

    with db.session() as s:
        whole = load_page(s, "voip", NOW)
        parted = load_page(s, "voip", NOW, later=later)
    assert whole is not None and parted is not None
    eager, snapshot = page_bodies(parted, "http://x", static)
    assert reads == [], "the page itself read the older history"
    (c0,) = [i for i in snapshot.view.ongoing if i.automatic and i.components[0].name == "C0"]
    assert c0.started_at < NOW - 100 * DAY  # found in the older history read with the page
    everything = all_bodies(whole, "http://x", static)
    assert {k: v for k, v in everything.items() if k in eager} == eager
    assert all_bodies(parted, "http://x", static) == everything
    assert reads == [1]  # once, for every component whose older history was left for later
    history = b"".join(body for key, (body, _) in everything.items() if key.startswith("history"))
    assert history.count(b"adopted ") == 3 and history.count(b"auto-") > 20  # older runs are on the history


async def test_a_served_page_with_a_long_history_serves_every_asset_as_read_at_once(database, bus: EventBus) -> None:  # type: ignore[no-untyped-def]
    """Through the real server and its render process, on SQLite and PostgreSQL: the page is rendered without
    its older history, and every asset built later (reading it on the render process's own connection) is
    byte for byte what a page read all at once gives."""
    _seed_long_history(Seed(database), database, random.Random(11))
    server = await started(database, bus, child=True)
    try:
        async with httpx.AsyncClient(base_url=server.url) as client:
            await assert_served(client, read_at_once(database, server))
        assert server._renderer.procs is not None  # built in the render process all along
    finally:
        await server.stop()


def test_the_feed_and_api_lists_are_the_first_incidents_of_all() -> None:
    """The feed and the Statuspage API read ``recent``: every operator incident, and only as many automatic
    ones as a list shows. Its first ones are those of every incident, in the same order, for any count;
    the latest update time is every incident's."""
    from callmeter_tui.domain.public_incidents import incidents_of, latest_update, public_incidents, split_incidents
    from callmeter_tui.web.view import RECENT_INCIDENTS, page_runs

    cut = 0
    for seed_value in range(40):
        data = _random_page(random.Random(seed_value))
        view = build_view(data)
        recent, every = view.recent, build_view(data).public
        assert recent[:RECENT_INCIDENTS] == every[:RECENT_INCIDENTS], seed_value
        assert [i for i in recent if not i.automatic] == [i for i in every if not i.automatic]
        assert view.incidents_updated_at == max(i.updated_at for i in every)
        runs, ops = page_runs(data), data.operator_incidents
        assert latest_update(split_incidents(runs, ops)) == view.incidents_updated_at
        for first in (0, 1, 3, 10):
            some = incidents_of(split_incidents(runs, ops), first=first)
            assert some[:first] == public_incidents(runs, ops)[:first], (seed_value, first)
            cut += len(every) > len(some)
    assert cut > 100  # the lists were cut (there are more incidents than asked for)


@pytest.mark.parametrize("timezone", ["UTC", "America/New_York", "Pacific/Chatham"])
def test_each_history_page_lists_its_months_incidents_of_all(seed: Seed, db: Database, timezone: str) -> None:
    """Each history page is built alone, from the incidents that started in its months: together the pages
    list every incident, each once, by month in the page's zone (newest first), newest first within one."""
    from zoneinfo import ZoneInfo

    from callmeter_tui.web.history import MONTHS_PER_PAGE, history_body, history_page_count

    _seed_long_history(seed, db, random.Random(3), timezone)
    with db.session() as s:
        data = load_page(s, "voip", NOW, later=db.session)
    assert data is not None
    view, every = build_view(data), build_view(data).public
    tz = ZoneInfo(timezone)

    def month(ts: float) -> tuple[int, int]:
        d = datetime.fromtimestamp(ts, tz)
        return d.year, d.month

    pages = history_page_count(view)
    months = {month(i.started_at) for i in every} | {month(NOW)}
    assert pages == -(
        -(len(range(min(y * 12 + m for y, m in months), month(NOW)[0] * 12 + month(NOW)[1] + 1))) // MONTHS_PER_PAGE
    )
    listed = []
    for n in range(1, pages + 1):
        body = history_body(view, n, "c", "t")
        assert body is not None and "public" not in view.__dict__  # built without making every incident
        listed += re.findall(r'<li class="incident[^"]*" id="([^"]+)"', body.decode())
    assert history_body(view, pages + 1, "c", "t") is None
    expected = sorted(every, key=lambda i: (tuple(-x for x in month(i.started_at)), -i.started_at))
    assert listed == [i.key for i in expected] and len(listed) > 40 and sum(k.startswith("op-") for k in listed) == 3
