"""Prober workers when the console dies: a SIGKILLed parent leaves no callmeter-prober-*.err file behind,
and its orphaned workers see the closed pipe and exit 0 (no pjsua assertion, no signal)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from callmeter_tui.probes.supervisor import WorkerHandle

ORPHAN = Path(__file__).with_name("orphan_worker.py")
REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("mode", ["idle", "register", "call"])
def test_sigkilled_parent_leaves_no_files_and_workers_exit_cleanly(tmp_path: Path, mode: str) -> None:
    env = os.environ | {"TMPDIR": str(tmp_path), "PYTHONPATH": str(REPO)}
    r = subprocess.run(
        [sys.executable, str(ORPHAN), mode], capture_output=True, text=True, timeout=90, env=env, check=False
    )
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout.splitlines()[-1])
    assert report == {"ended": {"exit": 0}, "left": []}


async def test_a_crashed_worker_still_reports_its_stderr() -> None:
    """The stderr file has no name now, but the pool still reads what a dying worker wrote there."""
    exits: list[str] = []
    h = WorkerHandle(name="prober-9", on_exit=lambda _h, reason: exits.append(reason))
    await h.start()
    assert list(Path(tempfile.gettempdir()).glob("callmeter-prober-9-*")) == []
    os.kill(h.pid, signal.SIGABRT)  # faulthandler writes the Python stacks to stderr
    for _ in range(200):
        if exits:
            break
        await asyncio.sleep(0.05)
    assert exits and "killed by SIGABRT" in exits[0]
    assert "Fatal Python error: Aborted" in h.crash_log
