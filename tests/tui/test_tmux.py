"""The dashboard in a real terminal: tmux runs it, capture-pane reads the screen.

Two runs: the FakeMonitor launcher (tests/tui/demo_fake.py, fast and scripted) and the real
``callmeter-tui`` with the real engine on a temporary config (SQLite in tmp, web on port 0, one
OPTIONS probe against a closed local port, so it turns UNHEALTHY). Each test has its own tmux server.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures import REQUIRE_PEERS

ROOT = Path(__file__).resolve().parents[2]
FAKE = f"{sys.executable} -m tests.tui.demo_fake"
REAL = str(Path(sys.executable).with_name("callmeter-tui"))

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None and not REQUIRE_PEERS, reason="tmux not installed (scripts/install-peers.sh)"
)


class Term:
    def __init__(self, command: str, width: int = 120, height: int = 40) -> None:
        self.sock = f"cmtui-{uuid.uuid4().hex[:10]}"
        self.run(
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            str(width),
            "-y",
            str(height),
            "-c",
            str(ROOT),
            f"env -u COLUMNS -u LINES PYTHONPATH={ROOT} TERM=xterm-256color {command}; echo EXITED $?; sleep 30",
        )

    def run(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", self.sock, "-f", "/dev/null", *args], capture_output=True, text=True, check=True
        ).stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "t")

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "t", *keys)

    def wait_for(self, needle: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.screen()
            if needle in text:
                return text
            time.sleep(0.2)
        raise AssertionError(f"{needle!r} never appeared; screen was:\n{text}")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.sock, "kill-server"], capture_output=True)


@pytest.fixture
def term_factory() -> Iterator:
    terms: list[Term] = []

    def make(command: str, **kw) -> Term:
        terms.append(Term(command, **kw))
        return terms[-1]

    yield make
    for t in terms:
        t.close()


def test_dashboard_with_fake_monitor_in_a_real_terminal(term_factory) -> None:
    t = term_factory(FAKE)
    screen = t.wait_for("Why")  # six probes on 120x40: cards, an unhealthy one says why
    assert "Major Issues Detected" in screen and "Primary SIP Trunk" in screen and "Last 90 days" in screen
    assert "● " in screen and "✖ " in screen
    t.wait_for("Uptime")
    t.keys("h")
    t.wait_for("Last 24 hours")
    t.keys("?")
    t.wait_for("Keys (remap")
    t.keys("Escape")
    time.sleep(0.5)
    t.keys("Enter")
    t.wait_for("Executions")
    t.keys("Escape")
    t.wait_for("Last 24 hours")
    t.keys("q")
    t.wait_for("EXITED 0")


def _closed_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_real_engine_dashboard_in_a_real_terminal(term_factory, tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(f"""
[project]
name = "Tmux Real"
[database]
url = "sqlite:///{tmp_path / "db.sqlite"}"
[web]
enabled = true
host = "127.0.0.1"
port = 0
[[probes]]
name = "Dead PBX"
kind = "sip_options"
target = "sip:127.0.0.1:{_closed_udp_port()}"
interval = "5s"
timeout = "1s"
""")
    t = term_factory(f"{REAL} --config {cfg}", width=120, height=30)
    assert "Tmux Real" in t.wait_for("Status page: http://127.0.0.1:")
    screen = t.wait_for("Major Issues Detected")  # after the first (failed) run
    row = next(line for line in screen.splitlines() if "Dead PBX" in line)
    assert row.startswith("✖")
    t.keys("p")
    t.wait_for("‖ Dead PBX")
    t.keys("q")
    t.wait_for("EXITED 0")


@pytest.mark.slow
def test_demo_config_dashboard_shows_every_state(term_factory, tmp_path: Path) -> None:
    """What `make run` shows a new user: the built-in demo config, its demo SIP target in a child process,
    real probes reaching healthy, degraded and unhealthy within a minute. (It binds the demo's fixed
    ports 5070-5072 and 8080; nothing else in the suite does.)"""
    t = term_factory(f"env XDG_DATA_HOME={tmp_path} {REAL} --demo", width=160, height=40)
    # One screen with all three counts at once: a loaded machine can flap the impaired line for a run.
    screen = t.wait_for("3 healthy   ▲ 1 degraded   ✖ 1 unhealthy", timeout=90)
    assert "Demo Environment" in screen and "Major Issues Detected" in screen
    rows = {
        m.group(2): m.group(1) for m in (re.match(r"^(\S) (Demo.+?)\s{2,}", line) for line in screen.splitlines()) if m
    }
    assert rows == {
        "Demo PBX OPTIONS": "●",
        "Demo PBX Registration": "●",
        "Demo Call (clean line)": "●",
        "Demo Call (impaired line)": "▲",
        "Demo Call (failing trunk)": "✖",
    }, rows
    t.keys("q")
    t.wait_for("EXITED 0")


def _pane_state(t: Term) -> dict[str, str]:
    """What the program left the terminal in: alternate screen, mouse tracking, cursor shown."""
    out = t.run("display", "-p", "-t", "t", "#{alternate_on} #{mouse_any_flag} #{cursor_flag}").split()
    return dict(zip(("alternate", "mouse", "cursor"), out))


def _app_pid(t: Term) -> int:
    shell = t.run("display", "-p", "-t", "t", "#{pane_pid}").strip()
    out = subprocess.run(["pgrep", "-P", shell], capture_output=True, text=True, check=False).stdout.split()
    assert len(out) == 1, out
    return int(out[0])


def _children(pid: int) -> list[int]:
    return [
        int(p)
        for p in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False).stdout.split()
    ]


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()


@pytest.mark.slow
@pytest.mark.parametrize("sig", ["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_leave_like_q(term_factory, tmp_path: Path, sig: str) -> None:
    """kill (systemd) or a closed terminal: exit 0, terminal restored, probe workers stopped (was: 143/129,
    alternate screen and mouse tracking left on, cursor hidden)."""
    import os
    import signal

    cfg = tmp_path / "config.toml"
    cfg.write_text(f"""
[project]
name = "Signals"
[database]
url = "sqlite:///{tmp_path / "db.sqlite"}"
[[probes]]
name = "Dead PBX"
kind = "sip_options"
target = "sip:127.0.0.1:{_closed_udp_port()}"
interval = "5s"
timeout = "1s"
""")
    t = term_factory(f"{REAL} --config {cfg}", width=120, height=30)
    t.wait_for("Major Issues Detected")  # a probe ran: its worker process exists
    pid = _app_pid(t)
    workers = _children(pid)
    assert _pane_state(t)["alternate"] == "1" and workers
    os.kill(pid, getattr(signal, sig))
    t.wait_for("EXITED 0", timeout=20)
    assert _pane_state(t) == {"alternate": "0", "mouse": "0", "cursor": "1"}
    deadline = time.monotonic() + 10
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [w for w in workers if _alive(w)]


@pytest.mark.slow
def test_demo_kiosk_soak_for_a_minute_then_ctrl_q(term_factory, tmp_path: Path) -> None:
    """The wall's own mode with the demo's real transitions: it died at its first UNHEALTHY flash (6-10 s).
    A minute of real probes, flashes that come and go, then ctrl+q: exit 0, screen restored, no temp dir left."""
    t = term_factory(f"env TMPDIR={tmp_path} {REAL} --demo --kiosk", width=160, height=40)
    t.wait_for("Demo Environment", timeout=30)
    flashed = back = False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        screen = t.screen()
        assert "EXITED" not in screen, screen
        if "UNHEALTHY  ✖" in screen:
            flashed = True
        elif flashed and "Demo Environment" in screen:
            back = True
        time.sleep(0.5)
    assert flashed and back, "the demo's failing trunk should flash and the wall come back"
    assert "Demo Call (failing trunk)" in t.screen()
    t.keys("C-q")
    t.wait_for("EXITED 0", timeout=20)
    assert _pane_state(t)["alternate"] == "0"
    assert not list(tmp_path.glob("callmeter-demo-*"))
