"""Renders run with the GC paused and a short GIL switch interval, and both come back afterwards
(nested and concurrent renders included): see callmeter_tui.web.offloop."""

from __future__ import annotations

import gc
import sys
import threading

from callmeter_tui.web.offloop import RENDER_SWITCH_INTERVAL_S, responsive


def test_responsive_pauses_the_gc_and_restores_everything() -> None:
    before = sys.getswitchinterval()
    assert gc.isenabled()
    with responsive():
        assert not gc.isenabled() and sys.getswitchinterval() <= RENDER_SWITCH_INTERVAL_S
        with responsive():
            pass
        assert not gc.isenabled()  # the inner one ending does not end the outer one's pause
    assert gc.isenabled() and sys.getswitchinterval() == before


def test_concurrent_renders_restore_when_the_last_one_ends() -> None:
    before = sys.getswitchinterval()
    inside, leave = threading.Event(), threading.Event()

    def other() -> None:
        with responsive():
            inside.set()
            leave.wait(10)

    t = threading.Thread(target=other)
    with responsive():
        t.start()
        inside.wait(10)
    assert not gc.isenabled()  # the other render still runs
    leave.set()
    t.join(10)
    assert gc.isenabled() and sys.getswitchinterval() == before


def test_a_disabled_gc_stays_disabled() -> None:
    gc.disable()
    try:
        with responsive():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
