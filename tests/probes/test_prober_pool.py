"""Supervision: a killed or hung worker is restarted, its probes fail with the reason, others go on."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import threading
import time

import pytest

from callmeter_tui.domain.probe import ProbeKind, ProbeSpec
from callmeter_tui.probes import ProberPool
from callmeter_tui.probes.supervisor import WorkerHandle
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


async def test_a_probe_arriving_during_a_worker_restart_waits_for_it_outside_its_timeout(
    registrar, monkeypatch
) -> None:
    pool = ProberPool(1, sip_bind=LOOPBACK)
    await pool.start()
    real_start = WorkerHandle.start

    async def slow_start(self: WorkerHandle) -> None:  # a start-up under load, longer than the probe's timeout
        await asyncio.sleep(1.5)
        await real_start(self)

    monkeypatch.setattr(WorkerHandle, "start", slow_start)
    try:
        (victim,) = pool.workers
        os.kill(victim.pid, signal.SIGKILL)
        await _until(lambda: not victim.alive)  # the pool saw the exit: the restart is under way
        t0 = time.monotonic()
        res = await pool.run(ProbeSpec(name="o", kind=ProbeKind.SIP_OPTIONS, target=registrar.uri(), timeout_s=1.0))
        waited = time.monotonic() - t0
    finally:
        await pool.stop()
    assert res.ok, res.error  # was "prober busy: no free worker slot within 1 s"
    assert res.details["prober_pid"] != victim.pid
    assert waited >= 1.0, "it waited for the restarted worker"


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


async def test_a_call_waits_until_pjsua_frees_the_slot_of_a_cancelled_call(echo_peer) -> None:
    """A hung-up call is DISCONNECTED for its probe at once, but pjsua frees its slot only when the CANCEL is
    answered: the next call on the worker waits for that (it failed with PJ_ETOOMANY) within its set-up timeout."""
    late = LateCancelPeer(late_s=1.5)
    pool = ProberPool(4, sip_bind=LOOPBACK)  # one worker: 4 calls at most
    await pool.start()
    try:
        ringing = [
            ProbeSpec(name=f"r{i}", kind=ProbeKind.SIP_CALL, target=late.uri(), timeout_s=1.0, call_duration_s=1.0)
            for i in range(4)
        ]
        unanswered = await asyncio.gather(*(pool.run(s) for s in ringing))
        t_next = time.monotonic()
        after = await pool.run(call(echo_peer.uri("echo"), 1.0))
    finally:
        await pool.stop()
        late.close()
    assert all(r.error == "timeout: no answer within 1 s (ringing)" for r in unanswered), [r.error for r in unanswered]
    assert after.ok, after.error
    assert after.metrics["setup_time_ms"] < 1000, "waiting for the slot is not set-up time"
    assert time.monotonic() - t_next >= 1.0, "the call was placed once the cancelled calls were gone"


class LateCancelPeer:
    """A UDP UAS that rings (180) and answers a CANCEL, and the INVITE with 487, only ``late_s`` later: until then
    pjsua keeps the cancelled call's slot although the call is DISCONNECTED for the probe."""

    def __init__(self, late_s: float) -> None:
        self.late_s = late_s
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.invites: dict[str, list[str]] = {}  # Call-ID -> the INVITE's headers to answer with
        threading.Thread(target=self._serve, daemon=True).start()

    def uri(self) -> str:
        return f"sip:ring@127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self) -> None:
        while True:
            try:
                data, addr = self.sock.recvfrom(65535)
            except OSError:
                return
            lines = data.decode(errors="replace").split("\r\n")
            keep = [ln for ln in lines if ln.split(":")[0].strip().lower() in ("via", "from", "to", "call-id", "cseq")]
            keep = [ln + ";tag=late" if ln.lower().startswith("to:") and "tag=" not in ln else ln for ln in keep]
            call_id = next((ln.split(":", 1)[1].strip() for ln in keep if ln.lower().startswith("call-id")), "")
            if lines[0].startswith("INVITE"):
                self.invites[call_id] = keep
                self._send(addr, "180 Ringing", keep)
            elif lines[0].startswith("CANCEL"):
                timer = threading.Timer(self.late_s, self._cancelled, (addr, keep, self.invites.get(call_id, [])))
                timer.daemon = True
                timer.start()

    def _cancelled(self, addr: tuple[str, int], cancel: list[str], invite: list[str]) -> None:
        self._send(addr, "200 OK", cancel)
        self._send(addr, "487 Request Terminated", invite)

    def _send(self, addr: tuple[str, int], status: str, headers: list[str]) -> None:
        head = "".join(h + "\r\n" for h in headers)
        with contextlib.suppress(OSError):
            self.sock.sendto(f"SIP/2.0 {status}\r\n{head}Content-Length: 0\r\n\r\n".encode(), addr)

    def close(self) -> None:
        self.sock.close()
