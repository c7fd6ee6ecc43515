"""Without a Debian peer, `make test` skips what needs it with a one-line reason; CI (CALLMETER_REQUIRE_PEERS=1)
fails instead. Shown on a throw-away test that needs a peer no machine has."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

NEEDS_A_PEER = """
from tests.fixtures.sip import need_binary

def test_needs_a_peer():
    need_binary("no-such-peer-binary")
"""


def _pytest(tmp_path: Path, require: bool) -> subprocess.CompletedProcess[str]:
    test = tmp_path / "test_needs_a_peer.py"
    test.write_text(NEEDS_A_PEER)
    env = {k: v for k, v in os.environ.items() if k != "CALLMETER_REQUIRE_PEERS"}
    if require:
        env["CALLMETER_REQUIRE_PEERS"] = "1"
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(test)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_missing_peer_skips_with_a_one_line_reason(tmp_path: Path) -> None:
    done = _pytest(tmp_path, require=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 skipped" in done.stdout
    reasons = [line for line in done.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(reasons) == 1 and "no-such-peer-binary not found on PATH" in reasons[0]


def test_in_ci_a_missing_peer_fails(tmp_path: Path) -> None:
    done = _pytest(tmp_path, require=True)
    assert done.returncode == 1 and "1 failed" in done.stdout
    assert "no-such-peer-binary not found on PATH" in done.stdout
