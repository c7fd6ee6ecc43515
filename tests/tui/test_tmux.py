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
    screen = t.wait_for("MOS trend")  # the 120-column layout (80x24 has no trend column)
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
    screen = t.wait_for("1 degraded", timeout=60)
    screen = t.wait_for("3 healthy", timeout=30)
    assert "Demo Environment" in screen and "Major Issues Detected" in screen and "1 unhealthy" in screen
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
