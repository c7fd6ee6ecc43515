"""REGISTER probe (runs inside a worker): digest auth through a short-lived account, then unregister.

The account is deleted by letting go of its object, never by ``shutdown()``: accounts.py says why.
"""

from __future__ import annotations

import threading
import time

import pjsua2 as pj

from callmeter_tui.domain.results import ProbeResult
from callmeter_tui.domain.sipuri import parse_sip_uri

from .accounts import let_go
from .endpoint import ProbeAccount, WorkerEndpoint, media_config, probe_header, run_tag
from .outcome import Clock, pj_error_text, sip_failure_text, transport_failure
from .protocol import ProbeOrder

UNREGISTER_WAIT_S = 2.0


def account_config(order: ProbeOrder, registrar: bool, bind_address: str) -> pj.AccountConfig:
    """An account for ``order``: identity user@target-host, digest credentials, optional proxy."""
    uri = parse_sip_uri(order.target)
    user = order.username or "callmeter"
    cfg = pj.AccountConfig()
    cfg.idUri = f"sip:{user}@{uri.host}"
    if registrar:
        tp = "" if uri.transport == "udp" else f";transport={uri.transport}"
        cfg.regConfig.registrarUri = f"{uri.scheme}:{uri.hostport}{tp}"
        cfg.regConfig.registerOnAdd = False
        cfg.regConfig.retryIntervalSec = 0
        cfg.regConfig.timeoutSec = 60
        cfg.regConfig.dropCallsOnFail = False
        cfg.regConfig.headers.append(probe_header(run_tag(order.id)))  # ties the REGISTERs to this run
    if order.username:
        cfg.sipConfig.authCreds.append(pj.AuthCredInfo("digest", "*", order.username, 0, order.password or ""))
    if order.outbound_proxy:
        proxy = order.outbound_proxy.strip()
        # Without ;lr pjsip would use strict routing and rewrite the Request-URI to the proxy.
        cfg.sipConfig.proxies.append(proxy if ";lr" in proxy.lower() else proxy + ";lr")
    media_config(cfg, bind_address)
    return cfg


def wait_reg(
    acc: ProbeAccount, seen: int, deadline: float, cancel: threading.Event
) -> tuple[float, int, str, int, bool] | None:
    """The next onRegState after the first ``seen`` ones, or None on deadline/cancel."""
    with acc.reg_cond:
        while len(acc.reg_events) <= seen:
            left = deadline - time.perf_counter()
            if left <= 0 or cancel.is_set():
                return None
            acc.reg_cond.wait(min(left, 0.05))
        return acc.reg_events[seen]


def run_register(wep: WorkerEndpoint, order: ProbeOrder, cancel: threading.Event) -> ProbeResult:
    clock = Clock()
    if not order.username:
        return clock.fail("username: a REGISTER probe needs a username")
    box = [ProbeAccount(wep)]  # the only reference: let_go deletes the account with the object (accounts.py)
    try:
        return _register(wep, box[0], order, cancel, clock)
    finally:
        let_go(box, wep.note)


def _register(
    wep: WorkerEndpoint, acc: ProbeAccount, order: ProbeOrder, cancel: threading.Event, clock: Clock
) -> ProbeResult:
    """REGISTER with ``acc`` and wait for the final response; never shuts the account down (accounts.py)."""
    try:
        acc.create(account_config(order, registrar=True, bind_address=wep.bind_address))
    except pj.Error as exc:
        return clock.fail(f"target: {pj_error_text(exc)}")
    t_sent = time.perf_counter()
    try:
        acc.setRegistration(True)
        wep.wake()  # see endpoint.wake: a TCP/TLS connection it opened is watched now
    except pj.Error as exc:
        return clock.fail(f"target: {pj_error_text(exc)}")
    ev = wait_reg(acc, 0, t_sent + order.timeout_s, cancel)
    if ev is None:
        return clock.fail(f"timeout: no final response within {order.timeout_s:g} s")
    return _verdict(acc, order, cancel, clock, t_sent, ev)


def _verdict(
    acc: ProbeAccount,
    order: ProbeOrder,
    cancel: threading.Event,
    clock: Clock,
    t_sent: float,
    ev: tuple[float, int, str, int, bool],
) -> ProbeResult:
    """The result of the REGISTER's final response ``ev``; a success is unregistered first."""
    t_reply, code, reason, expiration, received = ev
    rt_ms = round((t_reply - t_sent) * 1000.0, 3)
    if received and 200 <= code < 300 and expiration > 0:
        # Unregister so probes leave no bindings behind; its outcome does not change the verdict.
        try:
            acc.setRegistration(False)
            unreg = wait_reg(acc, 1, time.perf_counter() + UNREGISTER_WAIT_S, cancel)
        except pj.Error:
            unreg = None
        return clock.answered(
            rt_ms, code, reason, expires_s=expiration, unregistered=bool(unreg and 200 <= unreg[1] < 300)
        )
    if code in (401, 403, 407):
        hint = "; no password given" if not order.password else ""
        return clock.fail(
            f"authentication rejected ({sip_failure_text(code, reason)}{hint})",
            sip_code=code,
            sip_reason=reason,
            metrics={"response_time_ms": rt_ms},
        )
    if not received:
        what = "timeout: no response" if code == 408 else transport_failure(order.target, reason)
        return clock.fail(what)
    return clock.fail(
        sip_failure_text(code, reason), sip_code=code, sip_reason=reason, metrics={"response_time_ms": rt_ms}
    )
