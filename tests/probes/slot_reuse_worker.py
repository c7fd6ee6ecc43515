"""Run as a script by test_call_slots.py: one worker endpoint, four calls filling its four pjsua call slots,
then a fifth call placed as the pool places it (when one call has reported back), while the first call's
thread is slow to let go of its Call object: slow scoring (``scoring``) or a slow teardown (``teardown``),
which is what CPU load does. Prints, as JSON, each call's outcome and the call slot it was given.

argv: <mode: scoring | teardown> <target URI>
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import Any

SLOW_S = 3.0  # the first call's thread holds on this long; the fifth call is up meanwhile
DURATIONS = {1: 1.0, 2: 1.5, 3: 7.0, 4: 7.0}  # calls 3 and 4 keep their slots busy until the fifth is placed


def main(mode: str, target: str) -> None:
    from callmeter_tui.probes import listening, sip_call
    from callmeter_tui.probes.endpoint import WorkerEndpoint
    from callmeter_tui.probes.protocol import ProbeOrder

    first = threading.Event()  # set once the first call (to finish) has been slowed down

    def slow_once() -> None:
        if not first.is_set():
            first.set()
            time.sleep(SLOW_S)

    if mode == "scoring":
        real_hear = listening.hear

        def hear(*args: Any) -> Any:
            slow_once()
            return real_hear(*args)

        listening.hear = hear
    else:
        real_dispose = sip_call._dispose

        def dispose(*args: Any) -> None:
            real_dispose(*args)
            slow_once()

        sip_call._dispose = dispose

    slots: dict[int, int] = {}
    real_make = sip_call.ProbeCall.makeCall

    def make_call(self: Any, *args: Any) -> None:
        real_make(self, *args)
        slots[int(self.tag)] = int(self.getId())

    sip_call.ProbeCall.makeCall = make_call
    real_init = sip_call.ProbeCall.__init__

    def init(self: Any, *args: Any) -> None:
        real_init(self, *args)
        self.tag = threading.current_thread().name.removeprefix("call-")

    sip_call.ProbeCall.__init__ = init

    wep = WorkerEndpoint(on_heartbeat=lambda: None, bind_address="127.0.0.1")
    results: dict[int, Any] = {}

    def start(i: int, seconds: float) -> threading.Thread:
        order = ProbeOrder(id=i, kind="sip_call", target=target, timeout_s=5.0, call_duration_s=seconds)

        def run() -> None:
            wep.ep.libRegisterThread(f"call-{i}")
            r = sip_call.run_call(wep, order, threading.Event())
            results[i] = {"ok": r.ok, "error": r.error, "held_s": r.details.get("held_s")}

        t = threading.Thread(target=run, name=f"call-{i}")
        t.start()
        return t

    threads = []
    for i, seconds in DURATIONS.items():
        threads.append(start(i, seconds))
        time.sleep(0.2)  # placed in this order: slots 0, 1, 2, 3
    threads[1].join()  # the second call reported back: the pool hands its worker the fifth call now
    threads.append(start(5, 3.0))
    for t in threads:
        t.join()
    wep.shutdown()
    print(json.dumps({"results": results, "slots": slots, "slowed": first.is_set()}), flush=True)
    os._exit(0)  # as the worker does: pjsip is destroyed, skip interpreter teardown of SWIG objects


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
