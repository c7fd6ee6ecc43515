"""What a webhook says: the contract payload (``generic``) and its Slack, PagerDuty and Teams renderings.

The body is rendered once, at enqueue, and frozen in ``Delivery.body`` so every attempt sends the same bytes.
Only the PagerDuty routing key is *not* frozen (it is a secret read from the environment at send time):
its body starts with an empty ``routing_key`` placeholder that ``fill_routing_key`` replaces byte-exactly.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from ..domain.health import HealthState
from ..domain.isotime import iso_millis
from ..domain.probe import WebhookFormat

EVENT = "probe.status_changed"
TEST_EVENT = "probe.test"
ROUTING_KEY_PLACEHOLDER = b'{"routing_key":"",'

# Colours by state, as in the published integration examples (anything not healthy/degraded is red).
_COLOR = {HealthState.HEALTHY.value: "#36a64f", HealthState.DEGRADED.value: "#daa520"}
_RED = "#ff0000"

# PagerDuty: (event_action, severity) per new state. UNKNOWN keeps (or opens) the incident at "info":
# the probe stopped reporting, so we cannot claim the problem is fixed, nor that it is critical.
_PD_ACTION = {
    HealthState.HEALTHY.value: ("resolve", "info"),
    HealthState.DEGRADED.value: ("trigger", "warning"),
    HealthState.UNHEALTHY.value: ("trigger", "critical"),
    HealthState.UNKNOWN.value: ("trigger", "info"),
}
PD_SOURCE = "callmeter-tui"


def _measured(metrics: dict[str, Any] | None) -> dict[str, float]:
    """Only what was measured: drop None/NaN, never invent a value."""
    out: dict[str, float] = {}
    for name, value in (metrics or {}).items():
        if value is None or isinstance(value, bool):
            continue
        if isinstance(value, float) and value != value:  # NaN
            continue
        out[str(name)] = value
    return out


def status_changed(
    *,
    probe_id: int,
    probe_name: str,
    project_id: int,
    project_name: str,
    previous: str,
    current: str,
    at: float,
    execution_id: int | None,
    metrics: dict[str, Any] | None,
    breaches: list[dict[str, Any]] | None,
) -> dict[str, Any]:
    """The contract payload, field for field (ids as strings; execution_id null when no execution caused it)."""
    return {
        "event": EVENT,
        "probe_id": str(probe_id),
        "probe_name": probe_name,
        "project_id": str(project_id),
        "project_name": project_name,
        "previous_status": previous,
        "current_status": current,
        "timestamp": iso_millis(at),
        "execution_id": None if execution_id is None else str(execution_id),
        "metrics": _measured(metrics),
        "thresholds_breached": [dict(b) for b in (breaches or [])],
    }


def test_event(
    *, probe_id: int, probe_name: str, project_id: int, project_name: str, state: str, at: float
) -> dict[str, Any]:
    """A clearly marked test: ``event: probe.test`` plus ``test: true`` beside the contract fields."""
    payload = status_changed(
        probe_id=probe_id,
        probe_name=probe_name,
        project_id=project_id,
        project_name=project_name,
        previous=state,
        current=state,
        at=at,
        execution_id=None,
        metrics={},
        breaches=[],
    )
    payload["event"] = TEST_EVENT
    payload["test"] = True
    return payload


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


def _num(metrics: dict[str, Any], name: str, digits: int, unit: str = "") -> str:
    value = metrics.get(name)
    return "N/A" if value is None else f"{float(value):.{digits}f}{unit}"


def _prefix(event: dict[str, Any]) -> str:
    return "[TEST] " if event.get("test") else ""


def _chat_text(text: str) -> str:
    """Slack and Teams read &, < and > as markup (<!channel>, <url|label>, HTML): names must come out literal."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack(event: dict[str, Any]) -> dict[str, Any]:
    """Slack Incoming Webhook message with one legacy attachment (color, title, text, fields, ts)."""
    m = event["metrics"]
    title = f"{_prefix(event)}Probe Alert: {_chat_text(event['probe_name'])}"
    text = f"Status changed from {event['previous_status']} to {event['current_status']}"
    at = datetime.strptime(event["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return {
        "text": f"{title}: {text}",
        "attachments": [
            {
                "fallback": f"{title}: {text}",
                "color": _COLOR.get(event["current_status"], _RED),
                "title": title,
                "text": text,
                "fields": [
                    {"title": "MOS", "value": _num(m, "mos", 1), "short": True},
                    {"title": "Jitter", "value": _num(m, "jitter_ms", 0, "ms"), "short": True},
                    {"title": "Packet Loss", "value": _num(m, "packet_loss_pct", 1, "%"), "short": True},
                    {"title": "RTT", "value": _num(m, "rtt_ms", 0, "ms"), "short": True},
                ],
                "ts": at.timestamp(),
            }
        ],
    }


def pagerduty(event: dict[str, Any], webhook_id: int) -> dict[str, Any]:
    """PagerDuty Events API v2 enqueue body; ``routing_key`` is filled at send time (see module doc)."""
    action, severity = _PD_ACTION[event["current_status"]]
    dedup = f"callmeter-test-{webhook_id}" if event.get("test") else f"callmeter-probe-{event['probe_id']}"
    summary = f'{_prefix(event)}CallMeter probe "{event["probe_name"]}" is {event["current_status"]}'
    return {
        "routing_key": "",
        "event_action": action,
        "dedup_key": dedup,
        "payload": {
            "summary": summary[:1024],
            "severity": severity,
            "source": PD_SOURCE,
            "timestamp": event["timestamp"],
            "component": event["probe_name"],
            "group": event["project_name"],
            "class": "probe.status_changed",
            "custom_details": {
                "previous_status": event["previous_status"],
                "current_status": event["current_status"],
                "execution_id": event["execution_id"],
                "metrics": event["metrics"],
                "thresholds_breached": event["thresholds_breached"],
            },
        },
    }


def teams(event: dict[str, Any]) -> dict[str, Any]:
    """Microsoft Teams connector MessageCard with themeColor, summary and a facts section."""
    m = event["metrics"]
    name = _chat_text(event["probe_name"])
    return {
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "themeColor": _COLOR.get(event["current_status"], _RED).lstrip("#"),
        "summary": f"{_prefix(event)}Probe Alert: {name}",
        "title": f"{_prefix(event)}Probe Alert: {name}",
        "sections": [
            {
                "activityTitle": f"Probe: {name}",
                "activitySubtitle": event["timestamp"],
                "facts": [
                    {"name": "Previous Status", "value": event["previous_status"]},
                    {"name": "Current Status", "value": event["current_status"]},
                    {"name": "MOS", "value": _num(m, "mos", 1)},
                    {"name": "Jitter", "value": _num(m, "jitter_ms", 0, "ms")},
                    {"name": "Packet Loss", "value": _num(m, "packet_loss_pct", 1, "%")},
                    {"name": "RTT", "value": _num(m, "rtt_ms", 0, "ms")},
                ],
            }
        ],
    }


def render(fmt: str, event: dict[str, Any], webhook_id: int) -> bytes:
    """The frozen body bytes for one webhook format (compact UTF-8 JSON)."""
    kind = WebhookFormat(fmt)
    if kind is WebhookFormat.SLACK:
        return _dumps(slack(event))
    if kind is WebhookFormat.PAGERDUTY:
        body = _dumps(pagerduty(event, webhook_id))
        assert body.startswith(ROUTING_KEY_PLACEHOLDER)
        return body
    if kind is WebhookFormat.TEAMS:
        return _dumps(teams(event))
    return _dumps(event)


def fill_routing_key(body: bytes, routing_key: str) -> bytes:
    """The PagerDuty body with the routing key in place of the placeholder (same bytes otherwise)."""
    if not body.startswith(ROUTING_KEY_PLACEHOLDER):
        raise ValueError("not a PagerDuty body with a routing_key placeholder")
    return b'{"routing_key":' + _dumps(routing_key) + b"," + body[len(ROUTING_KEY_PLACEHOLDER) :]
