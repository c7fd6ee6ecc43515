"""``callmeter-tui incident open|update|resolve|list`` as a separate process, against a running node.

The node (web server + incident desk, as ``serve`` and the dashboard assemble them) runs in this test's
loop; the CLI is the real command in a subprocess writing to the same SQLite file or PostgreSQL database.
Its changes must show on the page within 5 s without a restart.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from callmeter_tui.bus.events import EventBus, PagesChanged
from callmeter_tui.config import load_config
from callmeter_tui.config.model import WebSettings
from callmeter_tui.engine.incident_desk import IncidentDesk
from callmeter_tui.store.database import open_database, transaction
from callmeter_tui.store.sync import sync_config
from callmeter_tui.web.server import WebServer

CLI = [sys.executable, "-m", "callmeter_tui.cli"]
SHOW_WITHIN_S = 5.0

CONFIG = """
[database]
url = "{url}"

[[probes]]
name = "Edge OPTIONS"
kind = "sip_options"
target = "sip:127.0.0.1:5999"

[[probes]]
name = "Registrar"
kind = "sip_options"
target = "sip:127.0.0.1:5998"

[[status_pages]]
slug = "voip"
name = "VoIP"
components = [
  {{ probe = "Edge OPTIONS", name = "SIP Signalling" }},
  {{ probe = "Registrar", name = "Registration" }},
]
"""


def write_config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.format(url=url))
    return path


def cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "incident", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(config.parent)},
    )


@pytest.fixture
def config_path(tmp_path: Path, db_url: str) -> Path:
    return write_config(tmp_path, db_url)


def test_open_update_resolve_list(config_path: Path) -> None:
    opened = cli(
        config_path,
        "open",
        "--page",
        "voip",
        "--title",
        "Registrations fail",
        "--impact",
        "major",
        "--component",
        "Registration",
        "--component",
        "SIP Signalling=degraded_performance",
        "--message",
        "Looking into it.",
    )
    assert opened.returncode == 0, opened.stderr
    incident_id = opened.stdout.strip()
    assert incident_id.isdigit()
    up = cli(config_path, "update", incident_id, "--status", "identified", "--message", "Carrier fault.")
    assert up.returncode == 0 and up.stdout.strip() == incident_id, up.stderr
    listed = json.loads(cli(config_path, "list", "--page", "voip", "--json").stdout)
    (inc,) = listed
    assert (inc["id"], inc["title"], inc["impact"], inc["status"]) == (
        int(incident_id),
        "Registrations fail",
        "major",
        "identified",
    )
    assert {c["name"]: c["status"] for c in inc["components"]} == {
        "SIP Signalling": "degraded_performance",
        "Registration": "partial_outage",
    }
    assert [u["status"] for u in inc["updates"]] == ["investigating", "identified"]
    done = cli(config_path, "resolve", incident_id, "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["status"] == "resolved"
    text = cli(config_path, "list")
    assert text.returncode == 0 and text.stdout.startswith(f"{incident_id}\tvoip\tresolved\tmajor\t")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["open", "--page", "nope", "--title", "T", "--message", "M"], "--page: no status page 'nope'"),
        (
            ["open", "--page", "voip", "--title", "T", "--message", "M", "--component", "Nope"],
            "--component: no component 'Nope'",
        ),
        (
            ["open", "--page", "voip", "--title", "T", "--message", "M", "--impact", "huge"],
            "--impact: 'huge' is not one of",
        ),
        (["open", "--page", "voip", "--title", " ", "--message", "M"], "--title: must not be empty"),
        (["update", "999", "--status", "identified", "--message", "M"], "ID: no incident 999"),
        (["update", "999", "--status", "fixed", "--message", "M"], "--status: 'fixed' is not one of"),
        (["resolve", "999"], "ID: no incident 999"),
        (["list", "--page", "nope"], "--page: no status page 'nope'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(config_path: Path, args: list[str], needle: str) -> None:
    before = cli(config_path, "list", "--json")
    r = cli(config_path, *args)
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and needle in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""
    assert cli(config_path, "list", "--json").stdout == before.stdout  # nothing stored, nothing lost


async def _wait_for(client: httpx.AsyncClient, path: str, predicate, started: float) -> float:  # type: ignore[no-untyped-def]
    while time.monotonic() - started < SHOW_WITHIN_S + 10:
        r = await client.get(path)
        if r.status_code == 200 and predicate(r):
            return time.monotonic() - started
        await asyncio.sleep(0.1)
    raise AssertionError(f"{path}: not shown after {SHOW_WITHIN_S + 10} s")


async def test_cli_changes_show_on_a_running_page_within_5_s(config_path: Path, db_url: str) -> None:
    config, _ = load_config(config_path, env={})
    config = dataclasses.replace(config, web=dataclasses.replace(WebSettings(), host="127.0.0.1", port=0))
    db = open_database(db_url)
    with transaction(db.sessions) as s:
        sync_config(s, config)
    bus = EventBus()
    changes = bus.subscribe()
    desk = IncidentDesk(db, bus)
    server = WebServer(db, config, bus, render_child=False)
    await server.start()
    await desk.start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            assert "Registrations fail" not in (await client.get("/voip")).text
            opened = await asyncio.to_thread(
                cli, config_path, "open", "--page", "voip", "--title", "Registrations fail", "--message", "Looking."
            )
            assert opened.returncode == 0, opened.stderr
            started = time.monotonic()  # committed when the command exits (its own start-up is not ours)
            took = await _wait_for(client, "/voip", lambda r: "Registrations fail" in r.text, started)
            assert took < SHOW_WITHIN_S, f"shown after {took:.1f} s"
            summary = (await client.get("/voip/api/v2/summary.json")).json()
            assert [i["name"] for i in summary["incidents"]] == ["Registrations fail"]
            assert isinstance(changes.get_nowait(), PagesChanged)  # what the dashboard reloads on
            done = await asyncio.to_thread(cli, config_path, "resolve", opened.stdout.strip(), "--message", "Fixed.")
            assert done.returncode == 0, done.stderr
            started = time.monotonic()
            path = "/voip/api/v2/incidents/unresolved.json"
            took = await _wait_for(client, path, lambda r: r.json()["incidents"] == [], started)
            assert took < SHOW_WITHIN_S, f"resolution shown after {took:.1f} s"
    finally:
        await desk.stop()
        await server.stop()
        db.close()


async def test_a_running_serve_shows_cli_incidents_within_5_s(tmp_path: Path) -> None:
    """The whole node as systemd runs it: ``serve`` assembles the incident desk (commands.runtime)."""
    import os
    import signal
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'callmeter.db'}")
    config.write_text(config.read_text() + f'\n[web]\nhost = "127.0.0.1"\nport = {port}\n')
    config.write_text(config.read_text().replace("[[probes]]", '[[probes]]\ninterval = "60s"', 1))
    serve = await asyncio.create_subprocess_exec(
        *CLI,
        "serve",
        "--config",
        str(config),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if (await client.get("/voip")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "serve did not come up"
                await asyncio.sleep(0.2)
            opened = await asyncio.to_thread(
                cli, config, "open", "--page", "voip", "--title", "Seen by serve", "--impact", "minor", "--message", "M"
            )
            assert opened.returncode == 0, opened.stderr
            started = time.monotonic()
            path = "/voip/api/v2/incidents/unresolved.json"
            took = await _wait_for(
                client, path, lambda r: "Seen by serve" in [i["name"] for i in r.json()["incidents"]], started
            )
            assert took < SHOW_WITHIN_S, f"shown after {took:.1f} s"
    finally:
        serve.send_signal(signal.SIGTERM)
        await asyncio.wait_for(serve.wait(), 30)
