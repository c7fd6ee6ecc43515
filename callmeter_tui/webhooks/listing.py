"""``callmeter-tui webhooks``: list webhooks with their state and masked secrets (``--reveal`` shows them)."""

from __future__ import annotations

from typing import TextIO
from urllib.parse import urlsplit

from sqlalchemy import func, select

from ..domain.isotime import iso_millis
from ..store.database import Database
from ..store.models import Delivery, Probe, Webhook
from .ledger import LOCAL
from .outbox import mask_secret


def shown_secret(hook: Webhook, reveal: bool) -> str:
    """``$ENV`` for env secrets (never read here), the masked or (with reveal) full generated secret."""
    if hook.secret_env:
        return f"${hook.secret_env}"
    return (hook.secret or "(none)") if reveal else mask_secret(hook.secret)


def shown_url(url: str, reveal: bool) -> str:
    """Tokens ride in the path (chat webhooks), the query (``?token=``), the fragment or the userinfo: show
    only scheme://host[:port]/ and "…" for whatever else there was, unless revealing."""
    if reveal:
        return url
    try:
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "…"
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    hidden = parts.path.strip("/") or parts.query or parts.fragment or parts.username or parts.password
    return f"{parts.scheme}://{host}{port}/{'…' if hidden else ''}"


def list_webhooks(db: Database, reveal: bool, out: TextIO) -> None:
    """One block per webhook: id, probe, format, URL, state, secret, last delivery."""
    with db.session() as s:
        rows = s.execute(
            select(Webhook, Probe.name).join(Probe, Probe.id == Webhook.probe_id).order_by(Probe.name, Webhook.id)
        ).all()
        if not rows:
            out.write("no webhooks configured\n")
            return
        for hook, probe_name in rows:
            last = s.execute(
                select(Delivery.status, Delivery.created_at, Delivery.last_error)
                .where(Delivery.webhook_id == hook.id)
                .order_by(Delivery.created_at.desc(), Delivery.id.desc())
                .limit(1)
            ).first()
            queued = (
                s.scalar(
                    select(func.count(Delivery.id)).where(
                        Delivery.webhook_id == hook.id, Delivery.status.in_(("pending", "in_flight"))
                    )
                )
                or 0
            )
            state = "enabled" if hook.enabled else f"DISABLED ({hook.disabled_reason or 'no reason given'})"
            out.write(f"#{hook.id}  probe {probe_name!r}  format {hook.format}  [{hook.source}]\n")
            out.write(f"    url:     {shown_url(hook.url, reveal)}\n")
            out.write(f"    state:   {state}\n")
            out.write(f"    secret:  {shown_secret(hook, reveal)}\n")
            if hook.routing_key_env:
                out.write(f"    routing: ${hook.routing_key_env}\n")
            if last is None:
                out.write("    last:    no deliveries yet\n")
            else:
                err = f" ({last.last_error})" if last.last_error and last.status != "succeeded" else ""
                out.write(f"    last:    {last.status} {iso_millis(last.created_at)}{err}; {queued} queued\n")
                if last.status == "pending" and (last.last_error or "").startswith(LOCAL):
                    out.write(
                        "    held:    never sent: fix the environment of serve and restart it (not the endpoint's fault)\n"
                    )
