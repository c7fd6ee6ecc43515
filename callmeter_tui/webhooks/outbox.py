"""The webhook outbox: Delivery rows written in the caller's transaction, plus webhook administration.

The engine calls ``enqueue_for_transition`` in the same transaction that records the execution and its
Transition, so a crash at any moment either loses both or keeps both: nothing is ever half-notified.
Nothing here commits; callers own the unit of work.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..config.validate import validate_webhook_url
from ..domain.health import HealthState, notifies
from ..domain.netaddr import literal_target_reason
from ..domain.probe import WebhookFormat
from ..store.models import Delivery, Probe, Project, Transition, Webhook
from . import payloads as formats
from .holds import hold, split_held

__all__ = [
    "add_delivery",
    "check_target",
    "create_webhook",
    "delete_webhook",
    "disable_webhook",
    "enqueue_for_transition",
    "enqueue_test",
    "fail_queued",
    "mask_secret",
    "new_secret",
    "redeliver",
    "rotate_secret",
    "set_enabled",
    "validate_webhook_url",
]

DISABLED_BY_OPERATOR = "disabled by operator"


def new_secret() -> str:
    """A fresh signing secret: 32 random bytes, URL-safe text."""
    return secrets.token_urlsafe(32)


def mask_secret(secret: str | None) -> str:
    """What may be shown after creation: first 4 + "…" + last 4 (or dots for short/absent secrets)."""
    if not secret:
        return "(none)"
    if len(secret) < 16:
        return "••••"
    return f"{secret[:4]}…{secret[-4:]}"


def new_key() -> str:
    """A delivery key (X-CallMeter-Delivery): unique, stable across the retries of one delivery."""
    return uuid.uuid4().hex


def check_target(url: str, *, allow_private: bool) -> str | None:
    """``validate_webhook_url`` plus, without ``allow_private``, a refusal of internal IP literals.

    Hostnames are checked when sent (their addresses can change); see guard.py.
    """
    err = validate_webhook_url(url)
    if err or allow_private:
        return err
    from urllib.parse import urlsplit

    reason = literal_target_reason(urlsplit(url.strip()).hostname or "")
    return f"refused webhook target: {reason} (set webhooks.allow_private_targets to allow)" if reason else None


def create_webhook(
    session: Session,
    probe_id: int,
    url: str,
    format: WebhookFormat,
    now: float,
    *,
    allow_private: bool = False,
    secret_env: str | None = None,
    routing_key_env: str | None = None,
    source: str = "interactive",
    enabled: bool = True,
) -> tuple[Webhook, str | None]:
    """Add a webhook to a probe. Returns (row, secret): the secret in full, to be shown once (None with secret_env).

    Raises ValueError with a one-line reason naming the field.
    """
    err = check_target(url, allow_private=allow_private)
    if err:
        raise ValueError(f"url: {err}")
    try:
        fmt = WebhookFormat(format).value
    except ValueError:
        raise ValueError(
            f"format: expected one of {', '.join(f.value for f in WebhookFormat)}, got {format!r}"
        ) from None
    if fmt == WebhookFormat.PAGERDUTY.value and not routing_key_env:
        raise ValueError("routing_key_env: is required for format 'pagerduty' (the Events API v2 routing key)")
    probe = session.get(Probe, probe_id)
    if probe is None:
        raise ValueError(f"probe: no probe with id {probe_id}")
    url = url.strip()
    if (
        session.scalar(
            select(Webhook.id).where(Webhook.probe_id == probe_id, Webhook.url == url, Webhook.format == fmt)
        )
        is not None
    ):
        raise ValueError(f"url: probe {probe.name!r} already has a {fmt} webhook to {url}")
    secret = None if secret_env else new_secret()
    hook = Webhook(
        probe_id=probe_id,
        url=url,
        format=fmt,
        secret=secret,
        secret_env=secret_env,
        routing_key_env=routing_key_env,
        enabled=enabled,
        source=source,
        created_at=now,
        failures_reset_at=now,
    )
    session.add(hook)
    session.flush()
    return hook, secret


def _webhook(session: Session, webhook_id: int) -> Webhook:
    hook = session.get(Webhook, webhook_id)
    if hook is None:
        raise ValueError(f"webhook: no webhook with id {webhook_id}")
    return hook


def set_enabled(session: Session, webhook_id: int, enabled: bool, now: float | None = None) -> None:
    """Operator switch. Re-enabling starts the failure count afresh (failures_reset_at = now)."""
    import time

    hook = _webhook(session, webhook_id)
    at = time.time() if now is None else now
    if enabled:
        hook.enabled, hook.disabled_reason, hook.failures_reset_at = True, None, at
    elif hook.enabled:
        disable_webhook(session, hook, DISABLED_BY_OPERATOR)


def disable_webhook(session: Session, hook: Webhook, reason: str) -> int:
    """Turn a webhook off and fail its queued deliveries (they can be redelivered). Returns how many failed."""
    hook.enabled, hook.disabled_reason = False, reason
    return fail_queued(session, hook.id, reason)


def fail_queued(session: Session, webhook_id: int, reason: str) -> int:
    """Fail the pending deliveries of a disabled webhook (they can be redelivered). Returns how many failed."""
    res = session.execute(
        update(Delivery)
        .where(Delivery.webhook_id == webhook_id, Delivery.status == "pending")
        .values(status="failed", last_error=f"webhook disabled: {reason}")
    )
    return int(getattr(res, "rowcount", 0) or 0)


def rotate_secret(session: Session, webhook_id: int) -> str:
    """A new generated secret (returned in full, shown once). Refused when the secret comes from the environment."""
    hook = _webhook(session, webhook_id)
    if hook.secret_env:
        raise ValueError(f"secret: webhook {webhook_id} takes its secret from ${hook.secret_env}; rotate it there")
    hook.secret = new_secret()
    return hook.secret


def delete_webhook(session: Session, webhook_id: int) -> None:
    session.delete(_webhook(session, webhook_id))


def _enabled_hooks(session: Session, probe_id: int) -> list[Webhook]:
    return list(
        session.scalars(
            select(Webhook).where(Webhook.probe_id == probe_id, Webhook.enabled.is_(True)).order_by(Webhook.id)
        )
    )


def enqueue_for_transition(session: Session, transition: Transition, probe: Probe, project: Project, now: float) -> int:
    """One Delivery per enabled webhook of the probe, body rendered per format and frozen. No commit.

    Same -> same is never a notification (the domain rule); the engine should not call us for one anyway.
    Inside a maintenance window, webhooks without ``notify_during_maintenance`` hold the transition (it is
    recorded, not delivered); ``webhooks.maintenance.catch_up`` sends one catch-up when the window ends.
    """
    if not notifies(HealthState.parse(transition.previous_state), HealthState.parse(transition.current_state)):
        return 0
    hooks = _enabled_hooks(session, probe.id)
    if not hooks:
        return 0
    hooks, held = split_held(session, probe.id, transition.at, hooks)
    hold(held, transition)
    if not hooks:
        return 0
    if transition.id is None:
        session.flush()
    event = formats.status_changed(
        probe_id=probe.id,
        probe_name=probe.name,
        project_id=project.id,
        project_name=project.name,
        previous=transition.previous_state,
        current=transition.current_state,
        at=transition.at,
        execution_id=transition.execution_id,
        metrics=transition.metrics,
        breaches=transition.breaches,
    )
    for hook in hooks:
        add_delivery(session, hook, event, transition.id, now)
        hook.last_notified_state, hook.held_since = transition.current_state, None
    return len(hooks)


def add_delivery(
    session: Session,
    hook: Webhook,
    event: dict[str, Any],
    transition_id: int | None,
    now: float,
    *,
    is_test: bool = False,
) -> Delivery:
    """A pending Delivery of ``event`` to ``hook``, its body rendered in the hook's format and frozen."""
    row = Delivery(
        webhook_id=hook.id,
        transition_id=transition_id,
        key=new_key(),
        body=formats.render(hook.format, event, hook.id),
        status="pending",
        attempts=0,
        next_attempt_at=now,
        is_test=is_test,
        created_at=now,
    )
    session.add(row)
    return row


def enqueue_test(session: Session, webhook_id: int, now: float) -> int:
    """Queue a clearly marked test event (``probe.test``, ``test: true``) to one webhook. Returns the Delivery id."""
    hook = _webhook(session, webhook_id)
    probe = session.get(Probe, hook.probe_id)
    assert probe is not None
    project = session.get(Project, probe.project_id)
    event = formats.test_event(
        probe_id=probe.id,
        probe_name=probe.name,
        project_id=probe.project_id,
        project_name=project.name if project else "",
        state=probe.state,
        at=now,
    )
    row = add_delivery(session, hook, event, None, now, is_test=True)
    session.flush()
    return row.id


def redeliver(session: Session, delivery_id: int, now: float) -> int:
    """A new Delivery with the same body bytes and a new key (the receiver sees it as a new delivery)."""
    old = session.get(Delivery, delivery_id)
    if old is None:
        raise ValueError(f"delivery: no delivery with id {delivery_id}")
    row = Delivery(
        webhook_id=old.webhook_id,
        transition_id=old.transition_id,
        key=new_key(),
        body=bytes(old.body),
        status="pending",
        attempts=0,
        next_attempt_at=now,
        is_test=old.is_test,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row.id
