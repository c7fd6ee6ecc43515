"""Which webhooks hold a transition because the probe is under scheduled maintenance, and the bookkeeping
that lets one catch-up go out when the window ends (``webhooks.maintenance.catch_up``).

A held webhook keeps ``last_notified_state`` (what its receiver last heard) and ``held_since``; a
delivery clears the hold. ``notify_during_maintenance = true`` opts a webhook out of holding.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..store.maintenance import under_maintenance
from ..store.models import Transition, Webhook


def split_held(session: Session, probe_id: int, at: float, hooks: list[Webhook]) -> tuple[list[Webhook], list[Webhook]]:
    """(deliver now, hold) for a transition of ``probe_id`` at ``at``."""
    quiet = [h for h in hooks if not h.notify_during_maintenance]
    if not quiet or not under_maintenance(session, probe_id, at):
        return hooks, []
    return [h for h in hooks if h.notify_during_maintenance], quiet


def hold(hooks: list[Webhook], transition: Transition) -> None:
    """Record the hold: the receiver last heard the state before this transition (unless it already
    missed earlier ones, then what it heard before those)."""
    for h in hooks:
        if h.held_since is None:
            h.held_since = transition.at
        if h.last_notified_state is None:
            h.last_notified_state = transition.previous_state
