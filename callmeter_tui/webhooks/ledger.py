"""The dispatcher's database work: claim due deliveries under a lease, reclaim dead leases, record attempts.

Claiming is a conditional UPDATE (``status='pending'`` -> ``'in_flight'``) per row, so two dispatchers can never
both own a delivery; on PostgreSQL the candidate SELECT also uses ``FOR UPDATE SKIP LOCKED`` so concurrent
dispatchers pick disjoint rows instead of queueing on each other's locks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from ..store.models import Delivery, DeliveryAttempt, Notification, Webhook
from . import statements
from .outbox import disable_webhook, fail_queued

log = logging.getLogger("callmeter_tui.webhooks")

RETRY_DELAYS = (1.0, 5.0, 30.0, 300.0)  # after failed attempt 1, 2, 3, 4; attempt 5 is the last
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
DISABLE_AFTER = 10  # failed attempts ...
DISABLE_WINDOW_S = 24 * 3600.0  # ... within this window
MAX_RETRY_AFTER_S = 24 * 3600.0
MAX_ERROR_CHARS = 500
INTERRUPTED = "interrupted:"  # prefix of attempts cut short by our own crash (not the endpoint's fault)
LOCAL = "not sent (local problem, not counted):"  # prefix of attempts that never left the process
LOCAL_RETRY_S = 300.0  # a missing secret or routing key: look again this often (a restart looks at once)


@dataclass(frozen=True)
class Claimed:
    """One claimed delivery with what sending it needs (secret only in memory, never logged)."""

    delivery_id: int
    webhook_id: int
    key: str
    body: bytes
    attempts: int
    url: str
    format: str
    secret: str | None
    secret_env: str | None
    routing_key_env: str | None


@dataclass(frozen=True)
class Finished:
    status: str  # pending | succeeded | failed | lost (lease taken over meanwhile)
    next_attempt_at: float | None = None
    disabled_reason: str | None = None
    notification: Notification | None = None


def host_of(url: str) -> str:
    """The host part only: webhook URLs (Slack, Teams) carry secrets in their path, so logs show just this."""
    try:
        return urlsplit(url).hostname or "?"
    except ValueError:
        return "?"


def claim_due(
    s: Session, *, owner: str, now: float, lease_s: float, limit: int, busy: dict[int, int], per_webhook: int
) -> list[Claimed]:
    """Claim up to ``limit`` due deliveries of enabled webhooks that still have per-webhook room.

    One SELECT reads the candidates with everything sending them needs, one conditional UPDATE claims the chosen
    ones (``status='pending'`` still holds, else another dispatcher got there first); RETURNING says which.
    """
    if limit <= 0:
        return []
    full = [wid for wid, n in busy.items() if n >= per_webhook]
    s.flush()  # the statements below run on the connection, past the session's autoflush
    conn = s.connection()
    q = statements.claim_candidates(conn.dialect.name == "postgresql")
    chosen: list[Claimed] = []
    counts = dict(busy)
    for row in conn.execute(q, {"b_now": now, "b_full": full, "b_n": limit * 4}).all():
        if len(chosen) >= limit:
            break
        if counts.get(row.webhook_id, 0) >= per_webhook:
            continue
        counts[row.webhook_id] = counts.get(row.webhook_id, 0) + 1
        chosen.append(
            Claimed(
                row.id,
                row.webhook_id,
                row.key,
                bytes(row.body),
                row.attempts,
                row.url,
                row.format,
                row.secret,
                row.secret_env,
                row.routing_key_env,
            )
        )
    if not chosen:
        return []
    ids = [c.delivery_id for c in chosen]
    taken = set(conn.execute(statements.claim(), {"b_ids": ids, "b_owner": owner, "b_until": now + lease_s}).scalars())
    return [c for c in chosen if c.delivery_id in taken]


def release(s: Session, ids: list[int], *, owner: str) -> int:
    """Deliveries claimed ahead but never sent go back to pending, due as they were, with no attempt recorded;
    those whose webhook was disabled meanwhile fail as its other queued deliveries did. Returns how many."""
    if not ids:
        return 0
    res = s.execute(
        update(Delivery)
        .where(Delivery.id.in_(ids), Delivery.status == "in_flight", Delivery.lease_owner == owner)
        .values(status="pending", lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    disabled = s.execute(
        select(Webhook.id, Webhook.disabled_reason)
        .where(Webhook.enabled.is_(False), Webhook.id.in_(select(Delivery.webhook_id).where(Delivery.id.in_(ids))))
        .order_by(Webhook.id)
    ).all()
    for webhook_id, reason in disabled:
        fail_queued(s, webhook_id, reason or "disabled")
    return int(res.rowcount or 0)  # type: ignore[attr-defined]


def reclaim_expired(s: Session, *, now: float, live: set[int]) -> int:
    """In-flight rows whose lease ran out (their dispatcher died or hung) go back to pending, due now."""
    q = select(Delivery).where(Delivery.status == "in_flight", Delivery.lease_until < now)
    if live:
        q = q.where(Delivery.id.not_in(live))
    if s.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    n = 0
    for d in s.scalars(q).all():
        owner = d.lease_owner
        res = s.execute(
            update(Delivery)
            .where(Delivery.id == d.id, Delivery.status == "in_flight", Delivery.lease_owner == owner)
            .values(status="pending", next_attempt_at=now, lease_owner=None, lease_until=None)
        )
        if res.rowcount == 1:  # type: ignore[attr-defined]
            s.add(
                DeliveryAttempt(
                    delivery_id=d.id,
                    webhook_id=d.webhook_id,
                    at=now,
                    http_status=None,
                    error=f"{INTERRUPTED} dispatcher {owner} stopped during the attempt (lease expired)",
                    duration_ms=0.0,
                    success=False,
                )
            )
            n += 1
    if n:
        log.warning("reclaimed %d webhook deliveries from expired leases", n)
    return n


def next_due(s: Session, *, owner: str, busy: dict[int, int], per_webhook: int) -> float | None:
    """When something needs this dispatcher next: a pending row with room to send it, or a foreign lease expiring."""
    full = [wid for wid, n in busy.items() if n >= per_webhook]
    q = (
        select(func.min(Delivery.next_attempt_at))
        .join(Webhook, Webhook.id == Delivery.webhook_id)
        .where(Delivery.status == "pending", Webhook.enabled.is_(True))
    )
    if full:
        q = q.where(Delivery.webhook_id.not_in(full))
    pending = s.scalar(q)
    lease = s.scalar(
        select(func.min(Delivery.lease_until)).where(
            Delivery.status == "in_flight", or_(Delivery.lease_owner.is_(None), Delivery.lease_owner != owner)
        )
    )
    times = [t for t in (pending, lease) if t is not None]
    return min(times) if times else None


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP date. None when absent or unreadable."""
    if not value or not value.isascii():  # "²" and other non-ASCII digits pass str.isdigit() (float() refuses)
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_S)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, min(when.timestamp() - now, MAX_RETRY_AFTER_S))


def finish(
    s: Session,
    c: Claimed,
    *,
    owner: str,
    at: float,
    now: float,
    http_status: int | None,
    error: str | None,
    duration_ms: float,
    success: bool,
    retry_after_s: float | None,
    local: bool = False,
) -> Finished:
    """Record one attempt and move the delivery on: succeeded, retry later, failed; disable the webhook if due.

    ``local``: the attempt never left the process (missing secret or routing key). It keeps the delivery's
    attempts for the endpoint and never counts toward auto-disable: the endpoint did nothing wrong.
    """
    error = _storable(error)
    # The webhook row is locked (PostgreSQL) so concurrent finishes count each other's failures.
    hook = s.get(Webhook, c.webhook_id, with_for_update=True)
    if hook is None:
        return Finished("lost")  # deleted meanwhile (its deliveries went with it)
    s.add(
        DeliveryAttempt(
            delivery_id=c.delivery_id,
            webhook_id=c.webhook_id,
            at=at,
            http_status=http_status,
            error=error,
            duration_ms=duration_ms,
            success=success,
        )
    )
    d = s.get(Delivery, c.delivery_id)
    if d is None:
        return Finished("lost")
    if d.status != "in_flight" or d.lease_owner != owner:
        return Finished("lost")  # our lease expired and another dispatcher took it over: only log the attempt
    d.lease_owner, d.lease_until = None, None
    if local:
        return _local_failure(d, error, now, retry_after_s or LOCAL_RETRY_S)
    d.attempts += 1
    if success:
        d.status, d.last_error = "succeeded", None
        hook.failures_reset_at = now
        return Finished("succeeded")
    d.last_error = error
    if http_status == 410:
        d.status = "failed"
        reason = "the endpoint answered 410 Gone"
        return Finished("failed", disabled_reason=reason, notification=_disable(s, hook, reason, now))
    if d.attempts >= MAX_ATTEMPTS:
        d.status = "failed"
    elif not hook.enabled:  # switched off while this attempt was in flight: no retry
        d.status, d.last_error = "failed", f"webhook disabled: {hook.disabled_reason or 'disabled'} (last: {error})"
        return Finished("failed", disabled_reason=hook.disabled_reason or "disabled")
    else:
        delay = RETRY_DELAYS[d.attempts - 1]
        if retry_after_s is not None and retry_after_s > delay:
            delay = retry_after_s
        d.status, d.next_attempt_at = "pending", now + delay
    result = Finished(d.status, d.next_attempt_at if d.status == "pending" else None)
    if hook.enabled:
        since = max(now - DISABLE_WINDOW_S, hook.failures_reset_at or 0.0)
        s.flush()
        failures = (
            s.scalar(
                select(func.count(DeliveryAttempt.id)).where(
                    DeliveryAttempt.webhook_id == hook.id,
                    DeliveryAttempt.success.is_(False),
                    DeliveryAttempt.at >= since,
                    or_(
                        DeliveryAttempt.error.is_(None),
                        DeliveryAttempt.error.not_like(f"{INTERRUPTED}%") & DeliveryAttempt.error.not_like(f"{LOCAL}%"),
                    ),
                )
            )
            or 0
        )
        if failures >= DISABLE_AFTER:
            reason = f"{failures} failed attempts within 24 h (last: {error})"
            return Finished("failed", disabled_reason=reason, notification=_disable(s, hook, reason, now))
    return result


@dataclass(frozen=True)
class Success:
    """One attempt the endpoint acknowledged with a 2xx."""

    claimed: Claimed
    at: float
    now: float
    http_status: int
    duration_ms: float


def finish_succeeded(s: Session, done: list[Success], *, owner: str) -> list[Finished]:
    """What ``finish`` does for each successful attempt, for many at once in three statements (the common case).

    The attempt is recorded when its delivery still exists; the delivery succeeds and its webhook's failure
    count starts afresh only while our lease holds; otherwise the result is "lost", as in ``finish``. Whether
    the others still exist is only asked when some delivery was not ours any more (rare).
    """
    s.flush()  # the statements below run on the connection, past the session's autoflush
    conn = s.connection()
    ids = [d.claimed.delivery_id for d in done]
    ours = set(conn.execute(statements.succeed(), {"b_ids": ids, "b_owner": owner}).scalars())
    others = set(ids) - ours
    existing = ours | (set(s.scalars(select(Delivery.id).where(Delivery.id.in_(others)))) if others else set())
    rows = [
        {
            "delivery_id": d.claimed.delivery_id,
            "webhook_id": d.claimed.webhook_id,
            "at": d.at,
            "http_status": d.http_status,
            "error": None,
            "duration_ms": d.duration_ms,
            "success": True,
        }
        for d in done
        if d.claimed.delivery_id in existing
    ]
    if rows:
        conn.execute(statements.add_attempts(), rows)
    reset: dict[int, float] = {}
    for d in done:
        if d.claimed.delivery_id in ours:
            reset[d.claimed.webhook_id] = max(reset.get(d.claimed.webhook_id, d.now), d.now)
    if reset:
        conn.execute(statements.reset_failures(), [{"b_id": wid, "b_at": at} for wid, at in sorted(reset.items())])
    s.expire_all()  # rows loaded by earlier ``finish`` calls in this session are stale now
    return [Finished("succeeded" if d.claimed.delivery_id in ours else "lost") for d in done]


def _storable(error: str | None) -> str | None:
    """One bounded line without control characters: PostgreSQL refuses NUL, and a recording that fails makes
    the delivery come back as "interrupted" again and again, never counted (reasons can quote what a peer sent)."""
    if error is None:
        return None
    return "".join(ch if ch.isprintable() else "?" for ch in error)[:MAX_ERROR_CHARS]


def _local_failure(d: Delivery, error: str | None, now: float, retry_s: float) -> Finished:
    """Retry until the process has what it lacked (a restart with the secret, free descriptors); give up after a day."""
    d.last_error = error
    if now - d.created_at >= DISABLE_WINDOW_S:
        d.status = "failed"
        return Finished("failed")
    d.status, d.next_attempt_at = "pending", now + retry_s
    return Finished("pending", d.next_attempt_at)


def retry_local_failures_now(s: Session, *, now: float) -> int:
    """At start (the environment may have been fixed): deliveries held back by a local problem are due now."""
    res = s.execute(
        update(Delivery)
        .where(Delivery.status == "pending", Delivery.last_error.like(f"{LOCAL}%"), Delivery.next_attempt_at > now)
        .values(next_attempt_at=now)
    )
    return int(res.rowcount or 0)  # type: ignore[attr-defined]


def _disable(s: Session, hook: Webhook, reason: str, now: float) -> Notification:
    disable_webhook(s, hook, f"auto-disabled: {reason}")
    note = Notification(
        at=now,
        level="error",
        kind="webhook_disabled",
        text=f"webhook #{hook.id} ({host_of(hook.url)}) of probe {hook.probe.name!r} was disabled: {reason}",
        read=False,
    )
    s.add(note)
    s.flush()
    return note
