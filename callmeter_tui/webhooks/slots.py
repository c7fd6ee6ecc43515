"""The dispatcher's slots, and the deliveries claimed ahead of them: what may start now without a database hop.

Why: when a slot that an attempt freed stayed empty until the loop's next database hop (a hand-over to the
database thread and a transaction, tens of ms on a loaded machine), that hop, not HTTP, bounded deliveries per
second. So the loop claims deliveries ahead of the slots (per webhook one per slot, overall ``AHEAD`` per slot, so
that the queue outlasts a slow hop), and a finishing attempt starts the next claimed one at once while the loop
records outcomes and tops the queue up beside it. Claimed ahead means leased in the database like any attempt in
flight: a crash leaves it to the lease's expiry and another run sends it (at least once, as before; the reclaim
notes an "interrupted" attempt for it even when it never left, which counts toward nothing).

Rules kept:
- at most ``per_webhook`` requests of one webhook and ``max_concurrency`` overall are in flight (as before);
- a webhook whose last attempt failed starts nothing more until that outcome is recorded: the failure may have
  disabled it (410 Gone, the 10th failure within 24 h), and a disabled webhook gets no further request;
- a delivery claimed ahead is only started while its lease still covers a whole attempt; else it is released.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass

from .ledger import Claimed

AHEAD = 3  # deliveries claimed ahead per slot overall (per webhook: one per slot)


@dataclass(frozen=True)
class Waiting:
    claimed: Claimed
    claimed_at: float


class Slots:
    def __init__(self, max_concurrency: int, per_webhook: int) -> None:
        self.max_concurrency = max(1, max_concurrency)
        self.per_webhook = max(1, per_webhook)
        self.sending: dict[int, int] = {}  # delivery id -> webhook id while its request is out
        self.waiting: deque[Waiting] = deque()  # claimed ahead, not started (oldest claim first)
        self.held: Counter[int] = Counter()  # webhook id -> failed attempts whose outcome is not recorded yet

    # ---- what the loop may claim -----------------------------------------------------------------------

    @property
    def claim_cap(self) -> int:
        """Leases one webhook may hold at a time: its slots, and one delivery claimed ahead per slot."""
        return 2 * self.per_webhook

    def claim_room(self) -> int:
        """How many more deliveries the loop may claim now."""
        return (1 + AHEAD) * self.max_concurrency - len(self.sending) - len(self.waiting)

    def claim_counts(self) -> dict[int, int]:
        """Leases held per webhook (in flight or waiting)."""
        counts: Counter[int] = Counter(self.sending.values())
        counts.update(w.claimed.webhook_id for w in self.waiting)
        return dict(counts)

    def waiting_ids(self) -> set[int]:
        return {w.claimed.delivery_id for w in self.waiting}

    def add(self, claimed: list[Claimed], at: float) -> None:
        self.waiting.extend(Waiting(c, at) for c in claimed)

    # ---- what may start --------------------------------------------------------------------------------

    def startable(self, now: float, fresh_s: float) -> tuple[list[Claimed], list[Claimed]]:
        """(deliveries to start now, now marked as sending; deliveries claimed more than ``fresh_s`` ago, whose
        lease no longer covers an attempt: to be released, never sent)."""
        start: list[Claimed] = []
        stale: list[Claimed] = []
        if not self.waiting or len(self.sending) >= self.max_concurrency:
            return start, stale
        per_hook: Counter[int] = Counter(self.sending.values())
        kept: deque[Waiting] = deque()
        for w in self.waiting:
            c = w.claimed
            if now - w.claimed_at > fresh_s:
                stale.append(c)
            elif (
                len(self.sending) < self.max_concurrency
                and per_hook[c.webhook_id] < self.per_webhook
                and not self.held[c.webhook_id]
            ):
                self.sending[c.delivery_id] = c.webhook_id
                per_hook[c.webhook_id] += 1
                start.append(c)
            else:
                kept.append(w)
        self.waiting = kept
        return start, stale

    def finished(self, c: Claimed, ok: bool) -> None:
        """The request of ``c`` is answered (or gave up): its slot is free; a failure holds its webhook back."""
        self.sending.pop(c.delivery_id, None)
        if not ok:
            self.held[c.webhook_id] += 1

    def recorded(self, c: Claimed, ok: bool) -> None:
        """The outcome of ``c`` is in the database (or could not be written): its webhook may go on."""
        if not ok:
            self.held[c.webhook_id] -= 1
            if self.held[c.webhook_id] <= 0:
                del self.held[c.webhook_id]

    def drop_webhook(self, webhook_id: int) -> list[Claimed]:
        """Take the waiting deliveries of one webhook out (it was disabled): to be released."""
        dropped = [w.claimed for w in self.waiting if w.claimed.webhook_id == webhook_id]
        if dropped:
            self.waiting = deque(w for w in self.waiting if w.claimed.webhook_id != webhook_id)
        return dropped

    def drop_all(self) -> list[Claimed]:
        dropped = [w.claimed for w in self.waiting]
        self.waiting.clear()
        return dropped
