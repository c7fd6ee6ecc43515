"""The dispatcher's hot statements (claim, record successes), built once as Core statements with parameters.

Why: every loop cycle runs them. Built afresh from ORM attributes and run through the ORM's execute path,
their construction and the ORM's bookkeeping cost about 5 ms of CPU per cycle on this machine whatever the
batch size, more than the SQL itself; built once and run on the session's connection (same transaction) they
cost a fraction of that. What they do is unchanged (ledger.py says what and why).
"""

from __future__ import annotations

from functools import cache
from typing import cast

from sqlalchemy import Insert, Select, Table, Update, bindparam, insert, select, update

from ..store.models import Delivery, DeliveryAttempt, Webhook

D = cast(Table, Delivery.__table__)
W = cast(Table, Webhook.__table__)
A = cast(Table, DeliveryAttempt.__table__)


@cache
def claim_candidates(postgresql: bool) -> Select[tuple[object, ...]]:
    """Due deliveries of enabled webhooks not in ``:full``, oldest first, at most ``:n``, with what sending needs.

    On PostgreSQL the rows are locked and rows locked by another dispatcher skipped (FOR UPDATE SKIP LOCKED).
    """
    q = (
        select(
            D.c.id,
            D.c.webhook_id,
            D.c.key,
            D.c.body,
            D.c.attempts,
            W.c.url,
            W.c.format,
            W.c.secret,
            W.c.secret_env,
            W.c.routing_key_env,
        )
        .join(W, W.c.id == D.c.webhook_id)
        .where(
            D.c.status == "pending",
            D.c.next_attempt_at <= bindparam("b_now"),
            W.c.enabled.is_(True),
            D.c.webhook_id.not_in(bindparam("b_full", expanding=True)),
        )
        .order_by(D.c.next_attempt_at, D.c.id)
        .limit(bindparam("b_n"))
    )
    return q.with_for_update(skip_locked=True, of=D) if postgresql else q


@cache
def claim() -> Update:
    """``:ids`` that are still pending become in flight under our lease; RETURNING says which."""
    return (
        update(D)
        .where(D.c.id.in_(bindparam("b_ids", expanding=True)), D.c.status == "pending")
        .values(status="in_flight", lease_owner=bindparam("b_owner"), lease_until=bindparam("b_until"))
        .returning(D.c.id)
    )


@cache
def succeed() -> Update:
    """``:ids`` still in flight under our lease succeed (one attempt more, lease cleared); RETURNING says which."""
    return (
        update(D)
        .where(
            D.c.id.in_(bindparam("b_ids", expanding=True)),
            D.c.status == "in_flight",
            D.c.lease_owner == bindparam("b_owner"),
        )
        .values(status="succeeded", last_error=None, attempts=D.c.attempts + 1, lease_owner=None, lease_until=None)
        .returning(D.c.id)
    )


@cache
def add_attempts() -> Insert:
    """One DeliveryAttempt per parameter set (executemany)."""
    return insert(A)


@cache
def reset_failures() -> Update:
    """A webhook's failure count starts afresh at ``:b_at`` (executemany, one set per webhook)."""
    return update(W).where(W.c.id == bindparam("b_id")).values(failures_reset_at=bindparam("b_at"))
