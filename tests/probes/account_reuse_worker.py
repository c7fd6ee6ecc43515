"""Run as a script by test_account_reuse.py: one worker endpoint and two probes with accounts of their own, the
first letting go of its account object late, while the second probe's account has taken the freed account id.
Prints, as JSON, each probe's outcome, the account id each was given, and the worker's notes.

- ``call``: the first call's thread is slow to score what came back (CPU load); the second call (the pool's next
  call on this worker) creates its account meanwhile, and its ``makeCall`` comes once the first call's thread
  has ended (the second thread was slow too, e.g. waiting for the codec lock or a finished call's object).
- ``register``: the first REGISTER probe's account object is still referenced when the probe ends (a thread
  that lost the GIL right after its probe let go, or a frame kept by a traceback); it goes while the second
  REGISTER probe's request is in flight.

argv: call <echo URI> | register <registrar URI> <user>:<password> <user>:<password>
"""

from __future__ import annotations

import json
import os
import sys
import threading
from typing import Any

WAIT_S = 10.0  # bound on every hand-over between the two threads (they take milliseconds)


def main(mode: str, target: str, *users: str) -> None:
    from callmeter_tui.probes.endpoint import ProbeAccount, WorkerEndpoint

    wep = WorkerEndpoint(on_heartbeat=lambda: None, bind_address="127.0.0.1")
    ids: dict[str, int] = {}
    real_create = ProbeAccount.create

    def create(self: Any, *args: Any) -> None:
        real_create(self, *args)
        ids[_tag()] = int(self.getId())

    ProbeAccount.create = create
    scenario = _call_scenario if mode == "call" else _register_scenario
    results, staged = scenario(wep, target, users)
    wep.shutdown()
    print(json.dumps({"results": results, "accounts": ids, "staged": staged, "notes": wep.notes}), flush=True)
    os._exit(0)  # as the worker does: pjsip is destroyed, skip interpreter teardown of SWIG objects


def _tag() -> str:
    return threading.current_thread().name


def _start(wep: Any, name: str, run: Any, results: dict[str, Any]) -> threading.Thread:
    def body() -> None:
        wep.ep.libRegisterThread(name)
        r = run()
        results[name] = {"ok": r.ok, "error": r.error}

    t = threading.Thread(target=body, name=name)
    t.start()
    return t


def _call_scenario(wep: Any, target: str, users: tuple[str, ...]) -> tuple[dict[str, Any], bool]:
    from callmeter_tui.probes import listening, sip_call
    from callmeter_tui.probes.protocol import ProbeOrder

    scoring, second_account, first_done = threading.Event(), threading.Event(), threading.Event()
    real_hear, real_make, real_init = listening.hear, sip_call.ProbeCall.makeCall, sip_call.ProbeCall.__init__

    def hear(*args: Any) -> Any:
        if _tag() == "first":
            scoring.set()
            second_account.wait(WAIT_S)  # slow scoring: the second call has its account by the time it ends
        return real_hear(*args)

    def init(self: Any, *args: Any) -> None:
        real_init(self, *args)
        if _tag() == "second":
            second_account.set()

    def make_call(self: Any, *args: Any) -> None:
        if _tag() == "second":
            first_done.wait(WAIT_S)  # the first call's thread has ended (its objects are gone)
        real_make(self, *args)

    listening.hear, sip_call.ProbeCall.__init__, sip_call.ProbeCall.makeCall = hear, init, make_call
    results: dict[str, Any] = {}

    def call(order_id: int, name: str) -> Any:
        order = ProbeOrder(  # a username: an account of its own
            id=order_id, kind="sip_call", target=target, timeout_s=5.0, call_duration_s=1.0, username=name
        )
        return lambda: sip_call.run_call(wep, order, threading.Event())

    first = _start(wep, "first", call(1, "first"), results)
    staged = scoring.wait(WAIT_S)
    second = _start(wep, "second", call(2, "second"), results)
    first.join()
    first_done.set()
    second.join()
    return results, staged and second_account.is_set()


def _register_scenario(wep: Any, target: str, users: tuple[str, ...]) -> tuple[dict[str, Any], bool]:
    from callmeter_tui.probes import sip_register
    from callmeter_tui.probes.endpoint import ProbeAccount
    from callmeter_tui.probes.protocol import ProbeOrder

    kept: list[Any] = []  # the first probe's account object, referenced beyond its probe
    real_init, real_set = ProbeAccount.__init__, ProbeAccount.setRegistration
    staged = threading.Event()

    def init(self: Any, *args: Any) -> None:
        real_init(self, *args)
        if _tag() == "first":
            kept.append(self)

    def set_registration(self: Any, renew: bool) -> None:
        real_set(self, renew)
        if renew and _tag() == "second" and kept:
            staged.set()
            kept.clear()  # the first account object goes while the second REGISTER is in flight

    ProbeAccount.__init__, ProbeAccount.setRegistration = init, set_registration
    results: dict[str, Any] = {}

    def register(order_id: int, user_password: str) -> Any:
        user, password = user_password.split(":", 1)
        order = ProbeOrder(
            id=order_id, kind="sip_register", target=target, timeout_s=3.0, username=user, password=password
        )
        return lambda: sip_register.run_register(wep, order, threading.Event())

    _start(wep, "first", register(1, users[0]), results).join()
    _start(wep, "second", register(2, users[1]), results).join()
    return results, staged.is_set()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], *sys.argv[3:])
