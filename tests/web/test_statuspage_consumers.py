"""Real Statuspage consumers read our API as our page reads: status, indicator and ongoing incidents.

- ``statuspage-prometheus-exporter`` (PyPI), installed once into its own venv under
  ~/.cache/callmeter-tests (it pins its own dependencies; ours stay untouched), run in a subprocess.
- Atlassian's ``@statuspage/status-widget`` (npm), loaded by Chromium from another origin and pointed at
  our host root (``[web] root_page``), as a site embedding it would.

Either is skipped with a one-line reason when its registry cannot be reached here.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from callmeter_tui.domain.incident_status import Impact
from callmeter_tui.store.database import Database, transaction
from callmeter_tui.store.incidents import open_incident

from ..fixtures import peer_missing
from ..fixtures.npm import install_lock, npm_install
from .conftest import DAY, HOUR, NOW, Seed

CACHE = Path.home() / ".cache" / "callmeter-tests"
EXPORTER = "statuspage-prometheus-exporter==2.6.0"
WIDGET = "@statuspage/status-widget@1.0.5"

EXPORTER_SCRIPT = """
import json, sys
from statuspage_prometheus_exporter.service_checker import check_status_page_service
r = check_status_page_service("ours", {"url": sys.argv[1], "name": "ours"})
print(json.dumps({"indicator": r["raw_status"], "text": r["status_text"], "ok": r["success"],
                  "incidents": sorted(i["name"] for i in r["incident_metadata"])}))
"""


@pytest.fixture(scope="session")
def exporter_python() -> Path:
    venv = CACHE / "statuspage-exporter"
    python = venv / "bin" / "python"
    marker = venv / ".installed"
    with install_lock(venv):
        if not marker.exists():
            _install_exporter(venv, python)
        if not marker.exists():
            peer_missing(f"pip install {EXPORTER} failed (see the first worker's reason)")
    return python


def _install_exporter(venv: Path, python: Path) -> None:
    marker = venv / ".installed"
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    r = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", EXPORTER],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if r.returncode != 0:
        peer_missing(f"pip install {EXPORTER} failed: {r.stderr.strip()[-200:]}")
    marker.touch()


@pytest.fixture(scope="session")
def widget_js() -> Path:
    prefix = CACHE / "npm-widget"
    js = prefix / "node_modules" / "@statuspage" / "status-widget" / "dist" / "index.js"
    npm_install(prefix, (WIDGET,), [js], "the Statuspage widget check")
    return js


def exporter_reads(python: Path, url: str, cwd: Path) -> dict[str, Any]:
    services = cwd / "services.json"
    services.write_text(json.dumps({"ours": {"url": url, "name": "ours"}}))
    r = subprocess.run(
        [str(python), "-c", EXPORTER_SCRIPT, url],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=cwd,
        env={"SERVICES_JSON_PATH": str(services), "PATH": "/usr/bin:/bin"},
    )
    return json.loads(r.stdout.strip().splitlines()[-1])


# Our banner and Statuspage's indicator name the same thing in two vocabularies.
BANNER_INDICATOR = {
    "All Systems Operational": "none",
    "Partial Degradation": "minor",
    "Major Issues Detected": "major",
}


def page_reading(html: str) -> tuple[str, list[str]]:
    """(banner text, titles of the ongoing incidents) as a visitor reads our page."""
    banner = re.search(r'<span class="banner-text">([^<]*)</span>', html)
    assert banner is not None
    ongoing = html.split('id="ongoing-h"', 1)[1].split('id="components-h"', 1)[0] if 'id="ongoing-h"' in html else ""
    titles = re.findall(r'<h3 class="incident-title">([^<]*)</h3>', ongoing)
    return banner.group(1), sorted(titles)


SCENARIOS = {
    # name: (probe states, operator incident impact or None, the indicator expected)
    "one_unhealthy": (["HEALTHY", "UNHEALTHY", "HEALTHY"], None, "major"),
    "one_degraded": (["HEALTHY", "DEGRADED", "HEALTHY"], None, "minor"),
    "healthy_and_pending": (["HEALTHY", "HEALTHY", "UNKNOWN"], None, "none"),
    "operator_critical": (["HEALTHY", "HEALTHY", "HEALTHY"], Impact.CRITICAL, "critical"),
}


def seed_scenario(seed: Seed, db: Database, states: list[str], impact: Impact | None) -> None:
    ids = []
    for i, state in enumerate(states):
        spans = [] if state == "UNKNOWN" else [("HEALTHY", NOW - DAY, NOW - HOUR), (state, NOW - HOUR, NOW)]
        ids.append(seed.probe(f"p{i}", state, spans=spans, last=None if state == "UNKNOWN" else NOW - 30))
    seed.page("voip", "VoIP", [(pid, f"Component {i}") for i, pid in enumerate(ids)])
    if impact is not None:
        with transaction(db.sessions) as s:
            open_incident(s, slug="voip", title="Carrier outage", message="Calls fail.", now=NOW - 600, impact=impact)


@pytest.mark.parametrize("scenario", list(SCENARIOS))
async def test_prometheus_exporter_reads_what_the_page_shows(  # type: ignore[no-untyped-def]
    scenario: str, seed: Seed, db: Database, make_server, exporter_python: Path, tmp_path: Path
) -> None:
    states, impact, indicator = SCENARIOS[scenario]
    seed_scenario(seed, db, states, impact)
    srv = await make_server()
    banner, ongoing = page_reading((await srv.client.get("/voip")).text)
    read = await asyncio.to_thread(exporter_reads, exporter_python, f"{srv.url}/voip/api/v2/summary.json", tmp_path)
    assert read["ok"] and read["indicator"] == indicator, read
    assert read["incidents"] == ongoing, (read, ongoing)
    if impact is None:
        assert BANNER_INDICATOR[banner] == read["indicator"], (banner, read)


async def test_statuspage_widget_shows_our_status_from_the_host_root(  # type: ignore[no-untyped-def]
    seed: Seed, db: Database, make_server, browser, widget_js: Path
) -> None:
    seed_scenario(seed, db, ["HEALTHY", "UNHEALTHY", "HEALTHY"], None)
    srv = await make_server(root_page="voip")
    banner, _ = page_reading((await srv.client.get("/voip")).text)
    host = web.Application()  # another origin embedding the widget, as a customer's site would
    html = f'<!doctype html><script src="/widget.js"></script><statuspage-widget src="{srv.url}"></statuspage-widget>'

    async def index(_: web.Request) -> web.Response:
        return web.Response(text=html, content_type="text/html")

    async def script(_: web.Request) -> web.FileResponse:
        return web.FileResponse(widget_js)

    host.router.add_get("/", index)
    host.router.add_get("/widget.js", script)
    runner = web.AppRunner(host)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]

    def read(b: Any) -> tuple[str, str]:
        page = b.new_page()
        try:
            page.goto(f"http://127.0.0.1:{port}/", wait_until="load")
            indicator = page.locator("statuspage-widget .status-indicator")
            indicator.wait_for(timeout=15000)
            return indicator.get_attribute("class") or "", page.locator("statuspage-widget .status-text").inner_text()
        finally:
            page.close()

    try:
        classes, text = await browser.run(read)
    finally:
        await runner.cleanup()
    assert "major" in classes.split(), classes
    assert text.strip() == banner == "Major Issues Detected"
