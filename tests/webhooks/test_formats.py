"""Bodies checked against the published shapes: the contract payload, Slack attachments, PagerDuty Events API v2
enqueue, Teams MessageCard."""

from __future__ import annotations

import json
import re
import time

from callmeter_tui.config.model import WebhookSettings
from callmeter_tui.domain.isotime import iso_millis
from callmeter_tui.webhooks import outbox
from callmeter_tui.webhooks import payloads as formats
from callmeter_tui.webhooks.dispatcher import Dispatcher

from .conftest import T0, add_probe, deliveries, eventually, record_transition

BREACH = {
    "metric": "packet_loss_pct",
    "value": 6.0,
    "warning_threshold": 1.0,
    "critical_threshold": 5.0,
    "level": "critical",
}


def _event(current: str = "UNHEALTHY", previous: str = "HEALTHY", metrics=None, name: str = "PBX"):  # type: ignore[no-untyped-def]
    return formats.status_changed(
        probe_id=7,
        probe_name=name,
        project_id=1,
        project_name="Prod",
        previous=previous,
        current=current,
        at=T0,
        execution_id=42,
        metrics={"mos": 3.24, "jitter_ms": 45.3, "packet_loss_pct": 6.0, "rtt_ms": 180.4}
        if metrics is None
        else metrics,
        breaches=[BREACH],
    )


def test_timestamp_is_iso_utc_with_milliseconds_and_z() -> None:
    assert iso_millis(T0) == "2026-01-15T10:30:00.000Z"
    assert iso_millis(T0 + 1.25) == "2026-01-15T10:30:01.250Z"
    assert iso_millis(T0 + 59.9996) == "2026-01-15T10:31:00.000Z"  # rounding carries into the second
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", iso_millis(time.time()))


def test_generic_payload_types_and_omitted_metrics() -> None:
    ev = formats.status_changed(
        probe_id=7,
        probe_name="PBX",
        project_id=1,
        project_name="Prod",
        previous="HEALTHY",
        current="DEGRADED",
        at=T0,
        execution_id=None,
        metrics={"mos": 3.2, "rtt_ms": None, "jitter_ms": float("nan")},
        breaches=[],
    )
    assert list(ev) == [
        "event",
        "probe_id",
        "probe_name",
        "project_id",
        "project_name",
        "previous_status",
        "current_status",
        "timestamp",
        "execution_id",
        "metrics",
        "thresholds_breached",
    ]
    assert ev["probe_id"] == "7" and ev["project_id"] == "1" and ev["execution_id"] is None
    assert ev["metrics"] == {"mos": 3.2}
    body = formats.render("generic", ev, 1)
    assert json.loads(body.decode("utf-8")) == ev


def test_slack_incoming_webhook_attachment() -> None:
    for state, color in [
        ("HEALTHY", "#36a64f"),
        ("DEGRADED", "#daa520"),
        ("UNHEALTHY", "#ff0000"),
        ("UNKNOWN", "#ff0000"),
    ]:
        msg = json.loads(formats.render("slack", _event(state), 3))
        [att] = msg["attachments"]
        assert att["color"] == color
    msg = json.loads(formats.render("slack", _event(), 3))
    assert isinstance(msg["text"], str) and msg["text"]
    [att] = msg["attachments"]
    assert set(att) == {"fallback", "color", "title", "text", "fields", "ts"}
    assert att["title"] == "Probe Alert: PBX" and att["text"] == "Status changed from HEALTHY to UNHEALTHY"
    assert att["fields"] == [
        {"title": "MOS", "value": "3.2", "short": True},
        {"title": "Jitter", "value": "45ms", "short": True},
        {"title": "Packet Loss", "value": "6.0%", "short": True},
        {"title": "RTT", "value": "180ms", "short": True},
    ]
    assert att["ts"] == T0
    empty = json.loads(formats.render("slack", _event(metrics={}), 3))
    assert {f["value"] for f in empty["attachments"][0]["fields"]} == {"N/A"}


def test_pagerduty_events_v2_shape_and_actions() -> None:
    expected = {
        "HEALTHY": ("resolve", "info"),
        "DEGRADED": ("trigger", "warning"),
        "UNHEALTHY": ("trigger", "critical"),
        "UNKNOWN": ("trigger", "info"),
    }
    for state, (action, severity) in expected.items():
        raw = formats.render("pagerduty", _event(state), 3)
        filled = formats.fill_routing_key(raw, "R0UT1NGKEY0123456789abcdef012345")
        ev = json.loads(filled)
        assert set(ev) == {"routing_key", "event_action", "dedup_key", "payload"}
        assert ev["routing_key"] == "R0UT1NGKEY0123456789abcdef012345"
        assert ev["event_action"] == action and ev["event_action"] in ("trigger", "acknowledge", "resolve")
        assert ev["dedup_key"] == "callmeter-probe-7" and len(ev["dedup_key"]) <= 255
        p = ev["payload"]
        assert {"summary", "source", "severity"} <= set(p)  # the required payload fields
        assert p["severity"] == severity and p["severity"] in ("critical", "error", "warning", "info")
        assert p["summary"] == f'CallMeter probe "PBX" is {state}' and len(p["summary"]) <= 1024
        assert isinstance(p["source"], str) and p["source"]
        assert isinstance(p["custom_details"], dict) and p["custom_details"]["metrics"]["mos"] == 3.24
        assert filled.endswith(raw[len(b'{"routing_key":"",') :])  # the rest is byte-identical
    test = json.loads(
        formats.render(
            "pagerduty",
            formats.test_event(probe_id=7, probe_name="PBX", project_id=1, project_name="Prod", state="HEALTHY", at=T0),
            3,
        )
    )
    assert test["dedup_key"] == "callmeter-test-3" and test["payload"]["summary"].startswith("[TEST] ")


def test_teams_message_card() -> None:
    card = json.loads(formats.render("teams", _event("DEGRADED"), 3))
    assert card["@type"] == "MessageCard" and card["@context"] == "https://schema.org/extensions"
    assert card["themeColor"] == "daa520" and re.fullmatch(r"[0-9a-f]{6}", card["themeColor"])
    assert card["summary"] == "Probe Alert: PBX"
    [section] = card["sections"]
    assert section["activityTitle"] == "Probe: PBX" and section["activitySubtitle"] == "2026-01-15T10:30:00.000Z"
    assert all(set(f) == {"name", "value"} and isinstance(f["value"], str) for f in section["facts"])
    assert {f["name"]: f["value"] for f in section["facts"]}["Current Status"] == "DEGRADED"


def test_chat_bodies_escape_markup_in_names() -> None:
    """Slack mrkdwn and Teams cards read <!channel>, <url|label> and HTML: a name shows as typed, pings nobody."""
    name = "R&D <!channel> <https://evil.example|click> </b>"
    escaped = "R&amp;D &lt;!channel&gt; &lt;https://evil.example|click&gt; &lt;/b&gt;"
    msg = json.loads(formats.render("slack", _event(name=name), 3))
    [att] = msg["attachments"]
    assert att["title"] == f"Probe Alert: {escaped}"
    assert msg["text"].startswith(f"Probe Alert: {escaped}:") and att["fallback"].startswith(f"Probe Alert: {escaped}")
    card = json.loads(formats.render("teams", _event(name=name), 3))
    assert card["title"] == card["summary"] == f"Probe Alert: {escaped}"
    assert card["sections"][0]["activityTitle"] == f"Probe: {escaped}"
    for body in (msg, card):
        assert "<" not in json.dumps(body) and ">" not in json.dumps(body)
    generic = json.loads(formats.render("generic", _event(name=name), 3))
    assert generic["probe_name"] == name  # the contract payload carries the name as is


async def test_pagerduty_routing_key_is_read_at_send_time_never_stored(
    sqlite_db, https_receiver, hook_settings, monkeypatch
):
    monkeypatch.setenv("CM_TEST_PD_KEY", "R0UT1NGKEY0123456789abcdef012345")
    probe_id = add_probe(sqlite_db)
    with sqlite_db.session() as s:
        _hook, secret = outbox.create_webhook(
            s,
            probe_id,
            https_receiver.url("/pd"),
            "pagerduty",
            T0,
            allow_private=True,
            routing_key_env="CM_TEST_PD_KEY",
        )
    https_receiver.secrets["/pd"] = secret
    record_transition(sqlite_db, probe_id, "DEGRADED", "HEALTHY", now=time.time())
    d = Dispatcher(sqlite_db.sessions, WebhookSettings(True, hook_settings.ca_bundle, 2.0), owner="t1")
    await d.start()
    try:
        [req] = await https_receiver.wait_for(1, "/pd")
        await eventually(lambda: deliveries(sqlite_db)[0].status == "succeeded")
    finally:
        await d.stop()
    assert req.verdict is None  # signed over the bytes actually sent
    sent = json.loads(req.body)
    assert sent["routing_key"] == "R0UT1NGKEY0123456789abcdef012345" and sent["event_action"] == "resolve"
    assert b"R0UT1NGKEY" not in deliveries(sqlite_db)[0].body  # the secret never lands in the database
