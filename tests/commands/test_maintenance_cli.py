"""``callmeter-tui maintenance schedule|list|cancel`` and ``[[maintenance]]`` as a user runs them: real
processes, a real SQLite file; bad input is one line naming the key, exit 2, nothing stored lost; and a
running ``serve`` shows a window scheduled from the CLI within 5 s, without a restart."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

CLI = [sys.executable, "-m", "callmeter_tui.cli"]
PROBES = """
[[probes]]
name = "edge"
kind = "sip_options"
target = "sip:127.0.0.1:9"
interval = "60s"

[[probes]]
name = "core"
kind = "sip_options"
target = "sip:127.0.0.1:9"
interval = "60s"

[[status_pages]]
slug = "voip"
name = "VoIP"
timezone = "Europe/Berlin"
components = [{ probe = "edge", name = "Edge SBC" }, { probe = "core", name = "Core" }]
"""


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "CALLMETER_DATABASE_URL"}
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    return env


def _config(tmp_path: Path, extra: str = "", web: str = "[web]\nenabled = false\n") -> Path:
    cfg = tmp_path / "cm.toml"
    cfg.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "cm.sqlite"}"\n{web}{PROBES}{extra}')
    return cfg


def run(tmp_path: Path, cfg: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "maintenance", *args, "--config", str(cfg)],
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(tmp_path),
        check=False,
    )


def schedule(tmp_path: Path, cfg: Path, *extra: str, **kw: str) -> subprocess.CompletedProcess[str]:
    fields = {"page": "voip", "component": "Edge SBC", "title": "SBC upgrade"} | kw
    args = [f"--{k}={v}" for k, v in fields.items()]
    return run(tmp_path, cfg, "schedule", *args, *extra)


def test_schedule_list_cancel(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    r = schedule(tmp_path, cfg, start="2030-03-31T02:00", end="2030-03-31T04:00", rrule="FREQ=WEEKLY;BYDAY=SU")
    assert r.returncode == 0, r.stderr
    window_id = int(r.stdout.strip())
    r = schedule(tmp_path, cfg, start="2030-01-01T00:00:00Z", end="2030-01-01T01:00:00Z", title="One-off")
    assert r.returncode == 0, r.stderr
    listed = json.loads(run(tmp_path, cfg, "list", "--json").stdout)
    assert [w["title"] for w in listed] == ["One-off", "SBC upgrade"]
    one, weekly = listed
    assert (one["start"], one["end"], one["timezone"]) == (
        "2030-01-01T01:00:00",
        "2030-01-01T02:00:00",
        "Europe/Berlin",
    )
    assert weekly["rrule"] == "FREQ=WEEKLY;BYDAY=SU" and weekly["status"] == "scheduled"
    # 31 Mar 2030 is the spring-forward Sunday: 02:00-04:00 lasts one hour (01:00-02:00 UTC).
    assert (weekly["next_start"], weekly["next_end"]) == ("2030-03-31T01:00:00Z", "2030-03-31T02:00:00Z")
    text = run(tmp_path, cfg, "list").stdout
    assert "SBC upgrade" in text and "voip/Edge SBC" in text
    r = run(tmp_path, cfg, "cancel", str(window_id))
    assert r.returncode == 0 and "cancelled" in r.stdout
    listed = json.loads(run(tmp_path, cfg, "list", "--json").stdout)
    assert [w["status"] for w in listed] == ["scheduled", "cancelled"]


@pytest.mark.parametrize(
    ("args", "kw", "starts"),
    [
        ((), {"page": "nope"}, "maintenance: page: no status page 'nope'"),
        ((), {"component": "Nope"}, "maintenance: component: no component 'Nope' on page 'voip'"),
        ((), {"end": "2030-01-01T00:00"}, "maintenance: end: the window ends"),
        (("--rrule", "FREQ=DAILY;UNTIL=20200101T000000Z"), {}, "maintenance: rrule: "),
        ((), {"start": "soon"}, "maintenance: start: expected an ISO 8601"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_is_lost(
    tmp_path: Path, args: tuple[str, ...], kw: dict[str, str], starts: str
) -> None:
    cfg = _config(tmp_path)
    assert schedule(tmp_path, cfg, start="2030-01-01T02:00", end="2030-01-01T04:00", title="Kept").returncode == 0
    fields = {"start": "2030-01-01T02:00", "end": "2030-01-01T04:00"} | kw
    r = schedule(tmp_path, cfg, *args, **fields)
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stderr.startswith(starts) and len(r.stderr.splitlines()) == 1, r.stderr
    assert [w["title"] for w in json.loads(run(tmp_path, cfg, "list", "--json").stdout)] == ["Kept"]


def test_cancel_unknown_id_and_list_unknown_page(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    r = run(tmp_path, cfg, "cancel", "999")
    assert r.returncode == 2 and r.stderr == "maintenance: id: no maintenance window with id 999\n"
    r = run(tmp_path, cfg, "list", "--page", "nope")
    assert r.returncode == 2 and r.stderr.startswith("maintenance: page: no status page 'nope'")


def test_config_windows_are_checked_naming_keys(tmp_path: Path) -> None:
    bad = """
[[maintenance]]
page = "voip"
component = "Edge SBC"
title = "Backwards"
start = "2030-01-01T04:00"
end = "2030-01-01T02:00"

[[maintenance]]
page = "voip"
component = "Ghost"
title = "Never"
start = "2030-01-01T02:00"
end = "2030-01-01T04:00"
rrule = "FREQ=DAILY;COUNT=0"
"""
    r = subprocess.run(
        [*CLI, "check", "--config", str(_config(tmp_path, bad))],
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(tmp_path),
        check=False,
    )
    assert r.returncode == 2
    lines = r.stderr.splitlines()
    assert (
        "cm.toml: maintenance[0].end: the window ends (2030-01-01T02:00:00) before it starts (2030-01-01T04:00:00)"
        in lines
    )
    assert any(line.startswith("cm.toml: maintenance[1].component: no component 'Ghost'") for line in lines)
    assert any(
        line.startswith("cm.toml: maintenance[1].rrule: 'FREQ=DAILY;COUNT=0' has no occurrences") for line in lines
    )


def test_config_windows_are_imported_once(tmp_path: Path) -> None:
    good = """
[[maintenance]]
page = "voip"
component = "Core"
title = "Nightly backup"
start = "2030-01-01T01:00"
end = "2030-01-01T01:30"
rrule = "FREQ=DAILY"
"""
    cfg = _config(tmp_path, good)
    run(tmp_path, cfg, "list")
    listed = json.loads(run(tmp_path, cfg, "list", "--json").stdout)
    assert [(w["title"], w["source"], w["component"]) for w in listed] == [("Nightly backup", "config", "Core")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_running_serve_shows_a_cli_window_within_5_s(tmp_path: Path) -> None:
    port = _free_port()
    cfg = _config(tmp_path, web=f'[web]\nhost = "127.0.0.1"\nport = {port}\n')
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [*CLI, "serve", "--config", str(cfg)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_env(tmp_path),
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/voip/status.json", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, "serve did not come up"
            time.sleep(0.2)
        now = time.time()
        start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 60))
        end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 3600))
        assert schedule(tmp_path, cfg, start=start, end=end, title="Live swap").returncode == 0
        scheduled = time.monotonic()
        while True:
            doc = httpx.get(f"{base}/voip/status.json", timeout=2).json()
            if doc["components"][0]["under_maintenance"]:
                break
            assert time.monotonic() - scheduled < 5.0, "the running serve did not pick up the window within 5 s"
            time.sleep(0.1)
        assert [m["title"] for m in doc["maintenances"]] == ["Live swap"]
        active = httpx.get(f"{base}/voip/api/v2/scheduled-maintenances/active.json", timeout=2).json()
        assert [m["name"] for m in active["scheduled_maintenances"]] == ["Live swap"]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
