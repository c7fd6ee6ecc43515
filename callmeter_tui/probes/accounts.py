"""A probe's own pjsua2 ``Account`` is deleted by its destructor only, so its account id is freed with the object.

pjsua2 2.15.1's ``Account.shutdown()`` deletes the pjsua account but leaves the object's account id set, and
the object's destructor calls ``shutdown()`` again: it deletes whatever account holds that id by then. pjsua
gives the next ``create`` the lowest free account id. So a probe that shut its account down and let go of the
object later deleted the account another probe had just created in the same worker: a call kept its object
through scoring (seconds under CPU load), and the next call on the worker, in that account id, failed in
``makeCall`` with PJ_EINVALIDOP; a REGISTER probe's thread that lost the GIL between ``shutdown()`` and dropping
its object could do the same to a concurrent REGISTER, which then never saw its final response.

The rule: no probe calls ``shutdown()`` on its own account. The account is held as the only reference in a
one-item list and given to ``let_go``, which drops it: the destructor deletes the pjsua account as the object
goes, so its id can never be handed out while the object lives. An object still referenced elsewhere keeps its
account (and id) until it goes: a note, never a deleted neighbour.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable
from typing import Any


def let_go(box: list[Any], note: Callable[[str], None]) -> None:
    """Drop the account held (as its last reference) in ``box``; its destructor deletes the pjsua account."""
    if not box:
        return
    account = box.pop()
    ref = weakref.ref(account)
    del account  # pjsua2's ~Account: pjsua_acc_del, and the id is free only now
    if ref() is not None:
        gc.collect()  # a SWIG director object can sit in a reference cycle
    if ref() is not None:
        note("a finished account object is still referenced: its account stays until the object goes")
