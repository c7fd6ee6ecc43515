"""OPTIONS probe (runs inside a worker): one request through the shared account, timed in the event thread."""

from __future__ import annotations

import os
import threading
import time

import pjsua2 as pj

from callmeter_tui.domain.results import ProbeResult

from .endpoint import PROBE_HEADER, WorkerEndpoint
from .outcome import Clock, pj_error_text, sip_failure_text, transport_failure
from .protocol import ProbeOrder


def code_is_healthy(code: int, expect_codes: tuple[int, ...]) -> bool:
    """Healthy on any 2xx unless the probe lists the codes it expects."""
    return code in expect_codes if expect_codes else 200 <= code < 300


def run_options(wep: WorkerEndpoint, order: ProbeOrder, cancel: threading.Event) -> ProbeResult:
    clock = Clock()
    tag = f"{os.getpid()}-{order.id}"
    box: list[tuple[float, int, str, bool]] = []
    got = threading.Event()

    def on_reply(outcome: tuple[float, int, str, bool]) -> None:
        box.append(outcome)
        got.set()

    wep.expect(tag, on_reply)
    prm = pj.SendRequestParam()
    prm.method = "OPTIONS"
    prm.txOption.targetUri = order.target
    hdr = pj.SipHeader()
    hdr.hName = PROBE_HEADER
    hdr.hValue = tag
    prm.txOption.headers.append(hdr)
    t_call = time.perf_counter()
    try:
        wep.shared.sendRequest(prm)
        # The clock starts when sendRequest returns: building the request takes ~0.2 ms of Python and
        # pjsip work before the datagram leaves (sendto is its last step), which is not network time.
        t_sent = time.perf_counter()
    except pj.Error as exc:
        wep.forget(tag)
        return clock.fail(f"target: {pj_error_text(exc)}")
    deadline = t_sent + order.timeout_s
    while not got.wait(0.05):
        if cancel.is_set() or time.perf_counter() >= deadline:
            wep.forget(tag)
            return clock.fail(f"timeout: no response within {order.timeout_s:g} s")
    t_reply, code, reason, received = box[0]
    # A reply handled before sendRequest returned (the event thread runs meanwhile) falls back to
    # the call's start.
    rt_ms = round((t_reply - (t_sent if t_reply > t_sent else t_call)) * 1000.0, 3)
    if not received:
        if code == 408:
            return clock.fail(f"timeout: no response within {rt_ms / 1000:.0f} s")
        # pjsip reports transport failures (refused TCP, TLS handshake) as a local status with the OS reason.
        return clock.fail(transport_failure(order.target, reason))
    if code_is_healthy(code, order.expect_codes):
        return ProbeResult(
            ok=True, started_at=clock.started_at, duration_ms=clock.ms(),
            metrics={"response_time_ms": rt_ms}, sip_code=code, sip_reason=reason,
        )
    expected = "any 2xx" if not order.expect_codes else "/".join(map(str, order.expect_codes))
    return clock.fail(
        f"{sip_failure_text(code, reason)} (expected {expected})",
        sip_code=code, sip_reason=reason, metrics={"response_time_ms": rt_ms},
    )

