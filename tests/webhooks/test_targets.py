"""Where webhooks may go: HTTPS only, verified certificates, no redirects, no internal addresses (SSRF)."""

from __future__ import annotations

import time

import pytest
from aiohttp import web

from callmeter_tui.config.model import WebhookSettings
from callmeter_tui.webhooks import outbox
from callmeter_tui.webhooks.dispatcher import Dispatcher
from callmeter_tui.webhooks.guard import BlockedTarget, GuardedResolver, forbidden_reason
from callmeter_tui.webhooks.sender import Sender, signed_headers

from .conftest import add_probe, attempts, eventually, record_transition

INTERNAL = [
    "127.0.0.1",
    "10.1.2.3",
    "169.254.169.254",
    "::ffff:127.0.0.1",
    "fd00::1",
    "::1",
    "100.64.0.7",
    "192.168.1.1",
    "172.16.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "fe80::1",
    "::",
    "2002:a00:1::1",
    "64:ff9b::a9fe:a9fe",
]


@pytest.mark.parametrize("ip", INTERNAL)
def test_internal_addresses_are_refused(ip: str) -> None:
    assert forbidden_reason(ip)


@pytest.mark.parametrize("ip", ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_pass(ip: str) -> None:
    assert forbidden_reason(ip) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/h",
        "https://10.0.0.8:8443/h",
        "https://169.254.169.254/latest",
        "https://[::ffff:127.0.0.1]/h",
        "https://[fd00::1]/h",
        "https://localhost/h",
    ],
)
def test_creation_refuses_internal_targets_without_the_flag(sqlite_db, url) -> None:  # type: ignore[no-untyped-def]
    probe_id = add_probe(sqlite_db)
    with sqlite_db.session() as s:
        with pytest.raises(ValueError, match=r"^url: refused webhook target.*allow_private_targets"):
            outbox.create_webhook(s, probe_id, url, "generic", time.time())
        hook, secret = outbox.create_webhook(s, probe_id, url, "generic", time.time(), allow_private=True)
        assert hook.id and secret


def test_http_and_bad_input_are_refused_with_one_line(sqlite_db) -> None:  # type: ignore[no-untyped-def]
    probe_id = add_probe(sqlite_db)
    assert "HTTP webhook URLs are refused" in outbox.validate_webhook_url("http://hooks.example.com/x")
    assert outbox.validate_webhook_url("https://hooks.example.com/x") is None
    with sqlite_db.session() as s:
        for args, msg in [
            (("http://hooks.example.com/x", "generic"), "^url: HTTP webhook URLs are refused"),
            (("https://hooks.example.com/x", "discord"), "^format: expected one of"),
            (("https://hooks.example.com/x", "pagerduty"), "^routing_key_env: is required"),
        ]:
            with pytest.raises(ValueError, match=msg) as exc:
                outbox.create_webhook(s, probe_id, *args, time.time())
            assert "\n" not in str(exc.value)


async def test_send_time_guard_checks_every_resolved_address() -> None:
    calls: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        calls.append(host)
        return ["93.184.216.34", "10.0.0.5"]  # one bad answer is enough to refuse

    guard = GuardedResolver(allow_private=False, resolver=resolver)
    with pytest.raises(BlockedTarget, match=r"hooks\.example resolves to 10\.0\.0\.5 is a private address"):
        await guard.resolve("hooks.example", 443)
    assert calls == ["hooks.example"]


async def _post(sender: Sender, url: str):  # type: ignore[no-untyped-def]
    body = b'{"event":"probe.test"}'
    return await sender.post(url, signed_headers("s" * 43, int(time.time() * 1000), body, "k1"), body, 5.0)


async def test_connects_to_the_resolved_ip_with_the_hostname_for_sni_and_host(https_receiver, webhook_ca):
    calls: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        calls.append(host)
        return ["127.0.0.1"]

    sender = Sender(ca_bundle=webhook_ca.ca_bundle, allow_private=True, resolver=resolver)
    try:
        ok = await _post(sender, https_receiver.url("/pin", host="hooks.test"))
        # The certificate has no SAN "other.test": verification really uses the URL's hostname, not the IP.
        bad = await _post(sender, https_receiver.url("/pin", host="other.test"))
    finally:
        await sender.aclose()
    assert ok.ok, ok.error
    assert https_receiver.at("/pin")[0].host == f"hooks.test:{https_receiver.port}"
    assert sender.guard.pinned == [("hooks.test", "127.0.0.1"), ("other.test", "127.0.0.1")]
    assert calls == ["hooks.test", "other.test"]  # one lookup per connection, no re-resolve
    assert not bad.ok and "certificate" in bad.error.lower() and len(https_receiver.at("/pin")) == 1


async def test_untrusted_certificate_fails(https_receiver) -> None:  # type: ignore[no-untyped-def]
    sender = Sender(ca_bundle=None, allow_private=True)  # system CAs only: trustme CA unknown
    try:
        res = await _post(sender, https_receiver.url("/tls"))
    finally:
        await sender.aclose()
    assert not res.ok and res.status is None
    assert "certificate verify failed" in res.error
    assert https_receiver.received == []


async def test_redirects_are_not_followed(https_receiver, webhook_ca) -> None:  # type: ignore[no-untyped-def]
    https_receiver.handlers["/moved"] = lambda _r: web.Response(status=302, headers={"Location": "/elsewhere"})
    sender = Sender(ca_bundle=webhook_ca.ca_bundle, allow_private=True)
    try:
        res = await _post(sender, https_receiver.url("/moved"))
    finally:
        await sender.aclose()
    assert res.status == 302 and not res.ok and res.error == "HTTP 302: redirects are not followed"
    assert [r.path for r in https_receiver.received] == ["/moved"]


async def test_dispatcher_refuses_loopback_without_the_flag(sqlite_db, https_receiver, webhook_ca) -> None:  # type: ignore[no-untyped-def]
    probe_id = add_probe(sqlite_db)
    with sqlite_db.session() as s:  # created under a permissive config, sent under a strict one
        outbox.create_webhook(
            s, probe_id, https_receiver.url("/x", host="localhost"), "generic", time.time(), allow_private=True
        )
    record_transition(sqlite_db, probe_id, "HEALTHY", "DEGRADED", now=time.time())
    strict = WebhookSettings(allow_private_targets=False, ca_bundle=webhook_ca.ca_bundle, timeout_s=2.0)
    d = Dispatcher(sqlite_db.sessions, strict, owner="t1")
    await d.start()
    try:
        [a] = await eventually(lambda: attempts(sqlite_db))
    finally:
        await d.stop()
    assert not a.success and a.http_status is None
    assert a.error.startswith("refused webhook target: localhost resolves to ") and "loopback" in a.error
    assert https_receiver.received == []


async def test_a_hanging_endpoint_times_out(https_receiver, webhook_ca) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    gate = asyncio.Event()

    async def hang(_rec):  # type: ignore[no-untyped-def]
        await gate.wait()
        return web.Response(status=200)

    https_receiver.handlers["/hang"] = hang
    sender = Sender(ca_bundle=webhook_ca.ca_bundle, allow_private=True)
    try:
        body = b"{}"
        res = await sender.post(https_receiver.url("/hang"), signed_headers("s" * 43, 1, body, "k"), body, 0.3)
    finally:
        gate.set()
        await sender.aclose()
    assert not res.ok and res.status is None and res.error == "timed out after 0.3 s"


def test_unreadable_ca_bundle_is_a_one_line_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate\n")
    for path in (str(bad), str(tmp_path / "missing.pem")):
        with pytest.raises(ValueError, match=r"^webhooks\.ca_bundle: cannot load") as exc:
            Sender(ca_bundle=path)
        assert "\n" not in str(exc.value)


@pytest.mark.parametrize("host", ["127.0.0.1", "[::ffff:127.0.0.1]"])
async def test_an_internal_ip_literal_is_refused_when_sent(https_receiver, webhook_ca, host) -> None:  # type: ignore[no-untyped-def]
    """The HTTP client connects to IP literals without asking any resolver: the guard must still refuse them."""
    sender = Sender(ca_bundle=webhook_ca.ca_bundle, allow_private=False)
    try:
        res = await _post(sender, https_receiver.url("/lit", host=host))
    finally:
        await sender.aclose()
    assert not res.ok and res.status is None
    assert res.error.startswith("refused webhook target: ") and "loopback" in res.error, res.error
    assert https_receiver.received == [] and sender.guard.pinned == []
