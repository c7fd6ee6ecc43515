"""Rendering in worker threads without stalling the app's event loop.

Renders run in threads, but they share the GIL with the loop (the dashboard, the probes' scheduler, this
server). Two things let a render hold the loop up for tens of milliseconds: the cyclic GC, whose full passes
a render's many short-lived objects trigger and which stop every thread while they walk the whole heap,
and the GIL switch interval (5 ms by default: a thread running Python code keeps the loop waiting that
long each time). While any render runs, ``responsive()`` pauses the GC (a render's objects form no cycles:
reference counting frees them) and shortens the switch interval; both come back when the last one ends.
"""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

RENDER_SWITCH_INTERVAL_S = 0.001

_lock = threading.Lock()
_active = 0
_saved: tuple[bool, float] = (True, 0.005)


@contextmanager
def responsive() -> Iterator[None]:
    """Run the body with the GC paused and a short GIL switch interval (nested and concurrent uses count)."""
    global _active, _saved
    with _lock:
        if _active == 0:
            _saved = (gc.isenabled(), sys.getswitchinterval())
            gc.disable()
            sys.setswitchinterval(min(_saved[1], RENDER_SWITCH_INTERVAL_S))
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0:
                sys.setswitchinterval(_saved[1])
                if _saved[0]:
                    gc.enable()
