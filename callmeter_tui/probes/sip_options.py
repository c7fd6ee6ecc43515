"""OPTIONS probe (runs inside a worker): one request through the shared account, timed in the event thread.

Event-driven: a waiting OPTIONS holds no thread, so one worker keeps thousands in flight; the
event thread delivers the reply or the deadline and hands the result to ``finish``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pjsua2 as pj

from callmeter_tui.domain.results import ProbeResult

from .endpoint import Outcome, WorkerEndpoint, probe_header, run_tag
from .outcome import Clock, pj_error_text, sip_failure_text, transport_failure
from .protocol import ProbeOrder


def code_is_healthy(code: int, expect_codes: tuple[int, ...]) -> bool:
    """Healthy on any 2xx unless the probe lists the codes it expects."""
    return code in expect_codes if expect_codes else 200 <= code < 300


def start_options(wep: WorkerEndpoint, order: ProbeOrder, finish: Callable[[ProbeResult], None]) -> None:
    """Send the OPTIONS and return at once; ``finish`` is called exactly once with the result."""
    clock = Clock()
    tag = run_tag(order.id)
    once = threading.Lock()
    t_sent: list[float] = []

    def complete(result: ProbeResult) -> None:
        if once.acquire(blocking=False):
            finish(result)

    def on_reply(outcome: Outcome) -> None:
        complete(judge(order, clock, t_call, t_sent[0] if t_sent else None, outcome))

    def on_expire() -> None:
        complete(clock.fail(f"timeout: no response within {order.timeout_s:g} s"))

    prm = pj.SendRequestParam()
    prm.method = "OPTIONS"
    prm.txOption.targetUri = order.target
    prm.txOption.headers.append(probe_header(tag))
    t_call = time.perf_counter()
    wep.expect(tag, on_reply, t_call + order.timeout_s, on_expire)
    try:
        wep.shared.sendRequest(prm)
        wep.wake()  # a TCP/TLS connection it opened is watched now, not after the event thread's wait
        # The clock starts when sendRequest returns: building the request takes ~0.2 ms of Python and
        # pjsip work before the datagram leaves (sendto is its last step), which is not network time.
        t_sent.append(time.perf_counter())
    except pj.Error as exc:
        wep.forget(tag)
        complete(clock.fail(f"target: {pj_error_text(exc)}"))


def judge(order: ProbeOrder, clock: Clock, t_call: float, t_sent: float | None, outcome: Outcome) -> ProbeResult:
    t_reply, code, reason, received = outcome
    # A reply handled before sendRequest returned (the event thread runs meanwhile) counts from the call.
    start = t_sent if t_sent is not None and t_reply > t_sent else t_call
    rt_ms = round((t_reply - start) * 1000.0, 3)
    if not received:
        if code == 408:
            return clock.fail(f"timeout: no response within {rt_ms / 1000:.0f} s")
        # pjsip reports transport failures (refused TCP, TLS handshake) as a local status with the OS reason.
        return clock.fail(transport_failure(order.target, reason))
    if code_is_healthy(code, order.expect_codes):
        return clock.answered(rt_ms, code, reason)
    expected = "any 2xx" if not order.expect_codes else "/".join(map(str, order.expect_codes))
    return clock.fail(
        f"{sip_failure_text(code, reason)} (expected {expected})",
        sip_code=code,
        sip_reason=reason,
        metrics={"response_time_ms": rt_ms},
    )
