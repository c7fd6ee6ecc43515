"""The dashboard in a real terminal: tmux runs it, capture-pane reads the screen.

Uses the FakeMonitor launcher (tests/tui/demo_fake.py); switch ``COMMAND`` to ``callmeter-tui --demo``
to run the real engine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMMAND = [sys.executable, "-m", "tests.tui.demo_fake"]

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed (scripts/install-peers.sh)")


def capture(session: str) -> str:
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True,
                          check=True).stdout


def wait_for(session: str, needle: str, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = capture(session)
        if needle in text:
            return text
        time.sleep(0.2)
    raise AssertionError(f"{needle!r} never appeared; screen was:\n{text}")


def test_dashboard_in_a_real_terminal() -> None:
    session = f"cmtui-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "TERM": "xterm-256color", "PYTHONPATH": str(ROOT)}
    cmd = " ".join(COMMAND)
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "40", "-c", str(ROOT),
                    f"env PYTHONPATH={ROOT} TERM=xterm-256color {cmd}"], check=True, env=env)
    try:
        screen = wait_for(session, "Major Issues Detected")
        assert "Primary SIP Trunk" in screen and "Last 90 days" in screen
        assert "● " in screen and "✖ " in screen
        wait_for(session, "Uptime")
        subprocess.run(["tmux", "send-keys", "-t", session, "h"], check=True)
        wait_for(session, "Last 24 hours")
        subprocess.run(["tmux", "send-keys", "-t", session, "?"], check=True)
        wait_for(session, "Keys (remap")
        subprocess.run(["tmux", "send-keys", "-t", session, "Escape"], check=True)
        time.sleep(0.5)
        subprocess.run(["tmux", "send-keys", "-t", session, "Enter"], check=True)
        wait_for(session, "Executions")
        subprocess.run(["tmux", "send-keys", "-t", session, "Escape"], check=True)
        wait_for(session, "Last 24 hours")
        subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            alive = subprocess.run(["tmux", "has-session", "-t", session], capture_output=True).returncode == 0
            if not alive or "Major Issues" not in capture(session):
                break
            time.sleep(0.2)
        else:
            raise AssertionError("q did not quit the dashboard")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
