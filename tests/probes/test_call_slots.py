"""Back-to-back calls on one worker: a new call in the slot of a finished one is never hung up by it.

pjsua2 keeps a finished Call object's slot id, and its destructor hangs up whatever call holds that id by
then (probes/call_slots.py). The flaky fifth call of test_prober_pool.py was this: when the first call's
thread was slow to let go of its object under CPU load, the fifth call got its freed slot and was hung up
(stream stats PJ_EINVAL) or lost its callbacks (no answer within 5 s). The script makes that slowness
certain instead of likely.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("slot_reuse_worker.py")
REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.peers


@pytest.mark.parametrize("slow", ["scoring", "teardown"])
def test_a_call_in_the_slot_of_a_finished_call_survives_its_slow_thread(echo_peer, slow: str) -> None:
    env = os.environ | {"PYTHONPATH": str(REPO)}
    r = subprocess.run(
        [sys.executable, str(SCRIPT), slow, echo_peer.uri("echo")],
        capture_output=True,
        text=True,
        timeout=90,
        env=env,
        check=False,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    report = json.loads([ln for ln in r.stdout.splitlines() if ln.startswith("{")][-1])
    results, slots = report["results"], report["slots"]
    assert report["slowed"]
    assert slots["5"] == slots["1"], f"the fifth call took the first call's slot: {slots}"
    assert all(r["ok"] for r in results.values()), json.dumps(results)
