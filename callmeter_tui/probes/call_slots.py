"""No new call may take a pjsua call slot whose previous owner's pjsua2 ``Call`` object still exists.

pjsua2 2.15.1 keeps a ``Call`` object's call id after the call is DISCONNECTED, and the object's C++
destructor then clears that id's user data and hangs up whatever call is active under the id. pjsua has
four call slots per worker and hands a freed slot to the next ``makeCall`` (round robin). So a finished
call whose object is destroyed after its slot went to a new call takes the new call down with it: the
new call loses its callbacks ("no answer within 5 s") or is hung up mid-media (its stream stats read
PJ_EINVAL). Back-to-back calls on one worker hit this whenever a finished call's thread was slow to let
go of its object (scoring under CPU load).

The rule: a call marks itself *retiring* when pjsua reports it DISCONNECTED (always before pjsua frees
its slot), and ``makeCall`` runs only while no retiring call object is alive. Marking, placing and
destroying share one lock, so no slot can be freed and handed out between a check and a ``makeCall``.
"""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

PLACE_WAIT_S = 5.0  # a retiring call object normally goes within milliseconds of its hangup


class CallSlots:
    """Orders ``makeCall`` after the destruction of every disconnected ``Call`` object of the worker."""

    def __init__(self, note: Callable[[str], None], wait_s: float = PLACE_WAIT_S) -> None:
        # An RLock: pjsua may report a call DISCONNECTED from inside makeCall, on the placing thread.
        self._cond = threading.Condition(threading.RLock())
        self._retiring: set[int] = set()  # id() of disconnected call objects not destroyed yet
        self._note = note
        self._wait_s = wait_s

    def retiring(self, call: Any) -> None:
        """Called from ``onCallState`` on DISCONNECTED (pjsua frees the slot only after that callback)."""
        with self._cond:
            self._retiring.add(id(call))

    @property
    def waiting_for(self) -> int:
        """How many disconnected call objects are still alive (tests read it)."""
        with self._cond:
            return len(self._retiring)

    @contextmanager
    def placing(self) -> Iterator[None]:
        """Hold this around ``makeCall``: it starts once no retiring call object is left."""
        with self._cond:
            if not self._cond.wait_for(lambda: not self._retiring, self._wait_s):
                self._note(f"call placed while {len(self._retiring)} finished call object(s) still exist")
            yield

    def destroy(self, box: list[Any]) -> None:
        """Destroy the call object held (as its last reference) in ``box`` and count it gone, in one step."""
        with self._cond:
            call = box.pop()
            key, ref = id(call), weakref.ref(call)
            del call
            gc.collect()  # a SWIG director object can sit in a reference cycle
            if ref() is not None:
                self._note("a finished call object is still referenced: its slot may be reused too early")
            self._retiring.discard(key)
            self._cond.notify_all()
