"""Supervision: a killed or hung worker is restarted, its probes fail with the reason, others go on."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket

import pytest

from callmeter_tui.domain.probe import ProbeKind, ProbeSpec
from callmeter_tui.probes import ProberPool
from tests.fixtures.sip import HOST as LOOPBACK  # the prober binds where the test peers listen

pytestmark = pytest.mark.peers


def call(target: str, seconds: float) -> ProbeSpec:
    return ProbeSpec(name="c", kind=ProbeKind.SIP_CALL, target=target, timeout_s=5.0, call_duration_s=seconds)


async def _until(pred, timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if pred():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached")


async def test_killed_worker_is_restarted_and_only_its_probes_fail(echo_peer, registrar) -> None:
    restarts: list[str] = []
    pool = ProberPool(8, on_worker_restart=restarts.append, sip_bind=LOOPBACK)
    await pool.start()
    try:
        victim, survivor = pool.workers
        # One call per worker (the pool spreads by load), plus an OPTIONS stuck on a silent peer (a dead
        # port would fail at once from ICMP).
        silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        silent.bind(("127.0.0.1", 0))
        doomed_call = asyncio.create_task(pool.run(call(echo_peer.uri("echo"), 4.0)))
        await _until(lambda: victim.calls == 1)
        kept_call = asyncio.create_task(pool.run(call(echo_peer.uri("echo"), 3.0)))
        await _until(lambda: survivor.calls == 1)
        stuck = asyncio.create_task(
            pool.run(
                ProbeSpec(
                    name="o",
                    kind=ProbeKind.SIP_OPTIONS,
                    target=f"sip:127.0.0.1:{silent.getsockname()[1]}",
                    timeout_s=8.0,
                )
            )
        )
        await _until(lambda: len(victim.inflight) == 2)
        await asyncio.sleep(1.0)  # mid-call
        os.kill(victim.pid, signal.SIGKILL)
        lost_call, lost_options, survived = await asyncio.gather(doomed_call, stuck, kept_call)
        await _until(lambda: len(pool.workers) == 2 and all(w.alive for w in pool.workers))
        after = await pool.run(ProbeSpec(name="o", kind=ProbeKind.SIP_OPTIONS, target=registrar.uri(), timeout_s=2.0))
    finally:
        await pool.stop()
        silent.close()
    expected = f"prober crashed: worker prober-0 (pid {victim.pid}) killed by SIGKILL"
    assert lost_call.error == expected and not lost_call.ok
    assert lost_call.details["call_answered"] is False
    assert lost_options.error == expected
    assert lost_options.duration_ms < 8000
    assert survived.ok, survived.error
    assert restarts == [expected.removeprefix("prober crashed: ")]
    assert after.ok and after.details["prober_pid"] not in (victim.pid,)


async def test_hung_worker_is_detected_by_missing_heartbeats(registrar) -> None:
    restarts: list[str] = []
    pool = ProberPool(1, on_worker_restart=restarts.append, sip_bind=LOOPBACK)
    await pool.start()
    try:
        (victim,) = pool.workers
        os.kill(victim.pid, signal.SIGSTOP)  # frozen: alive, but no heartbeat
        res = await pool.run(ProbeSpec(name="o", kind=ProbeKind.SIP_OPTIONS, target=registrar.uri(), timeout_s=8.0))
        await _until(lambda: pool.workers[0] is not victim and pool.workers[0].alive)
        after = await pool.run(ProbeSpec(name="o", kind=ProbeKind.SIP_OPTIONS, target=registrar.uri(), timeout_s=2.0))
    finally:
        await pool.stop()
    assert not res.ok
    assert res.error.startswith(
        f"prober crashed: worker prober-0 (pid {victim.pid}) killed by SIGKILL (hung: no heartbeat"
    )
    assert len(restarts) == 1 and "hung" in restarts[0]
    assert after.ok, after.error


async def test_run_after_stop_fails_instead_of_starting_workers(registrar) -> None:
    pool = ProberPool(1, sip_bind=LOOPBACK)
    await pool.start()
    await pool.stop()
    res = await pool.run(ProbeSpec(name="o", kind=ProbeKind.SIP_OPTIONS, target=registrar.uri(), timeout_s=2.0))
    assert not res.ok and res.error == "prober stopped"
    assert pool.workers == []


async def test_a_worker_that_cannot_start_gives_a_one_line_failure(registrar) -> None:
    pool = ProberPool(1, sip_bind="192.0.2.1")  # TEST-NET address: not on this machine
    res = await pool.run(ProbeSpec(name="o", kind=ProbeKind.SIP_OPTIONS, target=registrar.uri(), timeout_s=2.0))
    await pool.stop()
    assert not res.ok
    assert res.error.startswith("prober error: workers failed to start: endpoint failed to start: Cannot assign")
    assert "\n" not in res.error
    assert pool.workers == []


async def test_a_fifth_call_waits_for_a_free_slot_in_a_one_worker_pool(echo_peer) -> None:
    pool = ProberPool(4, sip_bind=LOOPBACK)  # one worker: 4 calls at most
    await pool.start()
    try:
        specs = [
            ProbeSpec(
                name=f"c{i}",
                kind=ProbeKind.SIP_CALL,
                target=echo_peer.uri("echo"),
                timeout_s=5.0,
                call_duration_s=2.0,
                username=f"slot{i}",
            )
            for i in range(5)
        ]
        results = await asyncio.gather(*(pool.run(s) for s in specs))
    finally:
        await pool.stop()
    assert all(r.ok for r in results), json.dumps([(r.error, r.details) for r in results if not r.ok], default=str)
    starts = sorted(r.started_at for r in results)
    assert starts[4] - starts[0] >= 1.5, "the fifth call started only when one of the first four ended"
