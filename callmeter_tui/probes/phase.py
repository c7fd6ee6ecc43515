"""Where the sent audio was when a call's recording began: the phase ``audio_delay_ms`` is measured from.

Why its own step: the call's received audio is recorded from the first conference-bridge tick after the
recorder is connected, and the looping player's position read right after that connect names the sent
audio of that tick. A thread held between the two (a loaded host) let ticks pass, so the position read
was late by whole frames and so was the call's audio delay: +60 ms in a CI run, and exactly +60 ms when
a 60 ms pause was put there on purpose. Reading the position before and after the connect tells: equal,
no tick fell between them (each tick moves the player on by a frame). Free of pjsua2 (the worker passes
the calls in), so the rule is tested without a worker.
"""

from __future__ import annotations

from collections.abc import Callable

PHASE_TRIES = 5  # connects tried; a tick falls inside one about once in twenty (a 20 ms frame)


def connect_at_phase(
    read_pos: Callable[[], int | None],
    connect: Callable[[], None],
    disconnect: Callable[[], None],
    tries: int = PHASE_TRIES,
) -> int | None:
    """``connect()`` the recorder and give the player's position at that moment. None when it is not
    known: the player cannot tell, or a tick fell inside every try (the recorder is connected anyway, and
    the call gets no audio delay rather than a wrong one)."""
    for _ in range(tries):
        before = read_pos()
        connect()
        after = read_pos()
        if before is None or after is None:
            return None
        if before == after:
            return after
        disconnect()
    connect()
    return None
