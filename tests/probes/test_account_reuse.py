"""A probe's own account is never deleted by another probe that let go of its account object late.

pjsua2's ``Account.shutdown()`` keeps the object's account id and its destructor deletes whatever account holds
that id by then; pjsua gives the next account the lowest free id (probes/accounts.py). The flaky fifth call of
test_prober_pool.py was this: its makeCall failed with PJ_EINVALIDOP when the call that had used the same
account id before was slow to score what came back. The script makes the late object certain instead of likely.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("account_reuse_worker.py")
REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.peers


def _run(*args: str) -> dict:
    env = os.environ | {"PYTHONPATH": str(REPO)}
    r = subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=90, env=env, check=False
    )
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads([ln for ln in r.stdout.splitlines() if ln.startswith("{")][-1])


def test_a_call_in_the_account_id_of_a_call_still_scoring_is_placed(echo_peer) -> None:
    report = _run("call", echo_peer.uri("echo"))
    assert report["staged"], "the first call was scoring while the second created its account"
    ids = report["accounts"]
    assert ids["second"] == ids["first"], f"the second call took the first call's account id: {ids}"
    assert all(r["ok"] for r in report["results"].values()), json.dumps(report)


def test_a_register_survives_the_late_end_of_the_previous_account_object(registrar) -> None:
    alice, bob = (f"{u}:{registrar.users[u]}" for u in ("alice", "bob"))
    report = _run("register", registrar.uri(), alice, bob)
    assert report["staged"], "the first account object went while the second REGISTER was in flight"
    assert all(r["ok"] for r in report["results"].values()), json.dumps(report)
    assert any("still referenced" in n for n in report["notes"]), report["notes"]
