"""The confirm-N rule: a probe's confirmed state moves only after N identical new observations.

It damps flapping (one lost OPTIONS reply must not page anyone), except for a probe that has no
state yet: its first result is taken at once so a new probe does not sit grey for N intervals.
"""

from __future__ import annotations

from dataclasses import dataclass

from .health import HealthState


@dataclass(frozen=True)
class ConfirmResult:
    state: HealthState  # the confirmed state after this observation
    pending: HealthState | None  # a different state seen but not yet confirmed
    pending_count: int  # consecutive observations of ``pending``
    changed: bool  # the confirmed state changed with this observation


def apply_confirm(
    current: HealthState | None, pending: HealthState | None, pending_count: int, observed: HealthState, confirm: int
) -> ConfirmResult:
    """Fold one observation into (confirmed state, pending state, pending count).

    ``confirm`` is how many consecutive observations of the same new state it takes (1: at once).
    From UNKNOWN (or no state) the change is immediate. Seeing the current state again clears any
    pending change; seeing a different new state restarts the count.
    """
    if isinstance(confirm, bool) or not isinstance(confirm, int) or confirm < 1:
        raise ValueError(f"confirm must be a whole number of at least 1, got {confirm!r}")
    state = HealthState.parse(current) if current is not None else HealthState.UNKNOWN
    seen = HealthState.parse(observed)
    if seen == state:
        return ConfirmResult(state, None, 0, False)
    if state is HealthState.UNKNOWN or confirm == 1:
        return ConfirmResult(seen, None, 0, True)
    pend = HealthState.parse(pending) if pending is not None else None
    count = max(0, int(pending_count)) + 1 if pend == seen else 1
    if count >= confirm:
        return ConfirmResult(seen, None, 0, True)
    return ConfirmResult(state, seen, count, False)
