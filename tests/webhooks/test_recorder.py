"""Attempts recorded in batches: what each attempt records is unchanged, many attempts share one transaction,
and an outcome that cannot be written never costs the others of its batch their records."""

from __future__ import annotations

import asyncio
import time

import pytest

from callmeter_tui.webhooks import ledger, outbox
from callmeter_tui.webhooks.recorder import AttemptRecorder, Outcome
from callmeter_tui.webhooks.sender import SendResult

from .conftest import add_probe, attempts, deliveries, record_transition


def _claim_all(db, n: int) -> list[ledger.Claimed]:  # type: ignore[no-untyped-def]
    probe_id = add_probe(db)
    with db.session() as s:
        outbox.create_webhook(s, probe_id, "https://hooks.example.com/a", "generic", time.time())
        outbox.create_webhook(s, probe_id, "https://hooks.example.com/b", "generic", time.time())
    for i in range(n):
        record_transition(db, probe_id, *(("HEALTHY", "DEGRADED") if i % 2 == 0 else ("DEGRADED", "HEALTHY")))
    with db.session() as s:
        return ledger.claim_due(s, owner="me", now=time.time() + 1, lease_s=60, limit=100, busy={}, per_webhook=100)


def _outcome(c: ledger.Claimed, ok: bool) -> Outcome:
    now = time.time()
    result = SendResult(204, None, None, 3.0) if ok else SendResult(500, "HTTP 500", None, 3.0)
    return Outcome(c, now, now, result, None)


async def test_attempts_finishing_together_share_transactions_and_keep_their_order(sqlite_db) -> None:  # type: ignore[no-untyped-def]
    claimed = _claim_all(sqlite_db, 10)  # 20 deliveries over 2 webhooks
    assert len(claimed) == 20
    rec = AttemptRecorder(sqlite_db.sessions, "me", asyncio.to_thread)
    oks = [i % 5 != 3 for i in range(20)]  # successes with a few failures in between
    finished = await asyncio.gather(*(rec.record(_outcome(c, ok)) for c, ok in zip(claimed, oks, strict=True)))
    assert rec.batches <= 2  # the first alone, the 19 that queued meanwhile together
    assert [f.status for f in finished] == ["succeeded" if ok else "pending" for ok in oks]
    by_id = {d.id: d for d in deliveries(sqlite_db)}
    for c, ok in zip(claimed, oks, strict=True):
        d = by_id[c.delivery_id]
        assert (d.status, d.attempts, d.lease_owner) == ("succeeded" if ok else "pending", 1, None)
    assert sorted((a.delivery_id, a.success, a.http_status) for a in attempts(sqlite_db)) == sorted(
        (c.delivery_id, ok, 204 if ok else 500) for c, ok in zip(claimed, oks, strict=True)
    )


async def test_one_outcome_that_cannot_be_written_costs_the_others_nothing(sqlite_db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    claimed = _claim_all(sqlite_db, 3)
    bad = claimed[2].delivery_id
    real = ledger.finish

    def finish(s, c, **kw):  # type: ignore[no-untyped-def]
        if c.delivery_id == bad:
            raise RuntimeError("disk full")
        return real(s, c, **kw)

    monkeypatch.setattr(ledger, "finish", finish)
    rec = AttemptRecorder(sqlite_db.sessions, "me", asyncio.to_thread)
    results = await asyncio.gather(
        *(rec.record(_outcome(c, ok=c.delivery_id != bad and i % 2 == 0)) for i, c in enumerate(claimed)),
        return_exceptions=True,
    )
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1 and "disk full" in str(errors[0])
    recorded = {a.delivery_id for a in attempts(sqlite_db)}
    assert recorded == {c.delivery_id for c in claimed} - {bad}
    [row] = [d for d in deliveries(sqlite_db) if d.id == bad]
    assert row.status == "in_flight"  # its lease expires and another tick reclaims it: nothing lost
    with pytest.raises(RuntimeError):
        await rec.record(_outcome(claimed[2], ok=False))


async def test_successes_of_deleted_or_taken_over_deliveries_are_lost_and_the_others_recorded(sqlite_db) -> None:  # type: ignore[no-untyped-def]
    """A delivery deleted meanwhile records nothing; one whose lease another dispatcher took keeps its attempt
    but is not marked succeeded by us ("lost"); the rest of the batch succeeds as usual."""
    from sqlalchemy import delete, update

    from callmeter_tui.store.models import Delivery

    claimed = _claim_all(sqlite_db, 3)  # 6 deliveries
    gone, taken = claimed[1].delivery_id, claimed[4].delivery_id
    with sqlite_db.session() as s:
        s.execute(delete(Delivery).where(Delivery.id == gone))
        s.execute(update(Delivery).where(Delivery.id == taken).values(lease_owner="someone-else"))
    rec = AttemptRecorder(sqlite_db.sessions, "me", asyncio.to_thread)
    finished = await asyncio.gather(*(rec.record(_outcome(c, ok=True)) for c in claimed))
    assert [f.status for f in finished] == ["succeeded", "lost", "succeeded", "succeeded", "lost", "succeeded"]
    assert sorted(a.delivery_id for a in attempts(sqlite_db)) == sorted(
        c.delivery_id for c in claimed if c.delivery_id != gone
    )
    by_id = {d.id: d for d in deliveries(sqlite_db)}
    assert gone not in by_id
    assert (by_id[taken].status, by_id[taken].lease_owner, by_id[taken].attempts) == ("in_flight", "someone-else", 0)
    assert all(by_id[c.delivery_id].status == "succeeded" for c in claimed if c.delivery_id not in (gone, taken))
