"""The sent audio's phase at the start of a call's recording (probes.phase), against a fake conference
bridge whose clock ticks may fall anywhere, as on a loaded host."""

from __future__ import annotations

from callmeter_tui.probes.phase import PHASE_TRIES, connect_at_phase

FRAME = 160  # samples per 20 ms tick at 8 kHz


class Bridge:
    """A looping player read once per tick; ``ticks_inside``: ticks that pass during each connect."""

    def __init__(self, ticks_inside: list[int], known: bool = True) -> None:
        self.pos, self.ticks_inside, self.known = 1000, list(ticks_inside), known
        self.connected = False
        self.recording_from: int | None = None  # the player position of the first recorded tick
        self.connects = 0

    def read_pos(self) -> int | None:
        return self.pos if self.known else None

    def connect(self) -> None:
        self.connects += 1
        self.connected, self.recording_from = True, self.pos
        for _ in range(self.ticks_inside.pop(0) if self.ticks_inside else 0):
            self.pos += FRAME  # the thread was held: the bridge ticked on

    def disconnect(self) -> None:
        self.connected, self.recording_from = False, None


def run(bridge: Bridge) -> int | None:
    return connect_at_phase(bridge.read_pos, bridge.connect, bridge.disconnect)


def test_no_tick_inside_the_connect_gives_the_phase_at_once() -> None:
    bridge = Bridge([0])
    assert run(bridge) == 1000 == bridge.recording_from and bridge.connects == 1 and bridge.connected


def test_ticks_inside_a_connect_are_seen_and_it_is_connected_again() -> None:
    """Three ticks (60 ms, as on the CI host) fell between connect and read: taken as the phase, every
    audio delay of the call would be 60 ms late. Tried again, the phase is the recording's."""
    bridge = Bridge([3, 1, 0])
    assert run(bridge) == bridge.recording_from == 1000 + 4 * FRAME
    assert bridge.connects == 3 and bridge.connected


def test_a_phase_never_held_still_is_unknown_and_the_call_is_still_recorded() -> None:
    bridge = Bridge([1] * PHASE_TRIES)
    assert run(bridge) is None
    assert bridge.connected and bridge.connects == PHASE_TRIES + 1


def test_a_player_that_cannot_tell_its_position_records_without_a_phase() -> None:
    bridge = Bridge([0], known=False)
    assert run(bridge) is None and bridge.connected and bridge.connects == 1
