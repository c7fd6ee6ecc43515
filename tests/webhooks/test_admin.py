"""Secrets: generated, shown once, masked afterwards, rotated; the ``webhooks`` listing."""

from __future__ import annotations

import io
import time

import pytest

from callmeter_tui.webhooks import outbox
from callmeter_tui.webhooks.listing import list_webhooks

from .conftest import add_probe, deliveries, record_transition


def test_secret_is_masked_listing_reveals_on_request_and_rotation_replaces_it(sqlite_db) -> None:  # type: ignore[no-untyped-def]
    probe_id = add_probe(sqlite_db)
    url = "https://hooks.slack.com/services/T00/B00/XXXXSECRETPATH"
    with sqlite_db.session() as s:
        hook, secret = outbox.create_webhook(s, probe_id, url, "slack", time.time())
        env_hook, none = outbox.create_webhook(
            s, probe_id, "https://example.com/h", "generic", time.time(), secret_env="MY_HOOK_SECRET"
        )
        hook_id, env_id = hook.id, env_hook.id
    assert none is None
    masked = outbox.mask_secret(secret)
    assert masked == f"{secret[:4]}…{secret[-4:]}" and secret not in masked
    out = io.StringIO()
    list_webhooks(sqlite_db, False, out)
    text = out.getvalue()
    assert masked in text and secret not in text
    assert "XXXXSECRETPATH" not in text and "https://hooks.slack.com/…" in text
    assert "$MY_HOOK_SECRET" in text and "enabled" in text and "no deliveries yet" in text
    out = io.StringIO()
    list_webhooks(sqlite_db, True, out)
    assert secret in out.getvalue() and url in out.getvalue()
    with sqlite_db.session() as s:
        new = outbox.rotate_secret(s, hook_id)
        with pytest.raises(ValueError, match=r"^secret: .*\$MY_HOOK_SECRET"):
            outbox.rotate_secret(s, env_id)
    assert new != secret and len(new) >= 43


def test_listing_hides_query_strings_and_fragments_unless_revealing(sqlite_db) -> None:  # type: ignore[no-untyped-def]
    probe_id = add_probe(sqlite_db)
    urls = [
        "https://example.com/?token=QSECRET1",
        "https://example.com?token=QSECRET2",
        "https://example.com#FSECRET3",
        "https://example.com:8443/#FSECRET4",
        "https://example.com",
    ]
    with sqlite_db.session() as s:
        for url in urls:
            outbox.create_webhook(s, probe_id, url, "generic", time.time())
    out = io.StringIO()
    list_webhooks(sqlite_db, False, out)
    text = out.getvalue()
    assert "SECRET" not in text
    shown = [line.split("url:", 1)[1].strip() for line in text.splitlines() if "url:" in line]
    assert shown == [
        "https://example.com/…",
        "https://example.com/…",
        "https://example.com/…",
        "https://example.com:8443/…",
        "https://example.com/",
    ]
    revealed = io.StringIO()
    list_webhooks(sqlite_db, True, revealed)
    assert all(url in revealed.getvalue() for url in urls)


def test_listing_shows_disabled_state_and_last_delivery(sqlite_db) -> None:  # type: ignore[no-untyped-def]
    probe_id = add_probe(sqlite_db)
    with sqlite_db.session() as s:
        hook, _ = outbox.create_webhook(s, probe_id, "https://example.com/h", "teams", time.time())
        hook_id = hook.id
    record_transition(sqlite_db, probe_id, "HEALTHY", "DEGRADED", now=time.time())
    with sqlite_db.session() as s:
        outbox.set_enabled(s, hook_id, False)
    assert deliveries(sqlite_db)[0].status == "failed"  # queued rows do not linger for a disabled hook
    out = io.StringIO()
    list_webhooks(sqlite_db, False, out)
    assert "DISABLED (disabled by operator)" in out.getvalue()
    assert "last:    failed" in out.getvalue()


def test_same_to_same_queues_nothing_any_change_queues_one_per_enabled_hook(sqlite_db) -> None:  # type: ignore[no-untyped-def]
    probe_id = add_probe(sqlite_db)
    with sqlite_db.session() as s:
        outbox.create_webhook(s, probe_id, "https://example.com/a", "generic", time.time())
        outbox.create_webhook(s, probe_id, "https://example.com/b", "slack", time.time())
    assert record_transition(sqlite_db, probe_id, "DEGRADED", "DEGRADED")[1] == 0
    for prev, cur in [("HEALTHY", "UNKNOWN"), ("UNKNOWN", "HEALTHY"), ("HEALTHY", "UNHEALTHY")]:
        assert record_transition(sqlite_db, probe_id, prev, cur)[1] == 2
    assert len(deliveries(sqlite_db)) == 6
