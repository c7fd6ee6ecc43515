"""A hostile or odd endpoint must never make a delivery retry forever (issue 12 #2).

Every attempt ends as a recorded attempt (counted, retried on schedule, failed after 5, able to auto-disable),
whatever the endpoint answers and whatever URL an old row holds. Real TLS on loopback, real dispatcher.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import update

from callmeter_tui.store.models import Webhook
from callmeter_tui.webhooks import ledger, outbox
from callmeter_tui.webhooks.dispatcher import Dispatcher

from .conftest import FakeClock, add_probe, attempts, deliveries, eventually, record_transition

CLI = [sys.executable, "-m", "callmeter_tui.cli"]


@pytest.fixture
async def raw_https(webhook_ca) -> AsyncIterator[tuple[int, list[bytes]]]:  # type: ignore[no-untyped-def]
    """A TLS server answering every request with raw bytes aiohttp cannot produce: ``Retry-After: \\xb2`` (latin-1 ²)."""
    answer = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: \xb2\r\nContent-Length: 0\r\n\r\n"
    seen: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(v)
                        for k, _, v in (h.partition(b":") for h in head.split(b"\r\n"))
                        if k.lower() == b"content-length"
                    ),
                    0,
                )
                await reader.readexactly(length)
                seen.append(head)
                writer.write(answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=webhook_ca.server_ssl)
    try:
        yield server.sockets[0].getsockname()[1], seen
    finally:
        server.close()
        await server.wait_closed()


def _hook(db, probe_id, url, now) -> int:  # type: ignore[no-untyped-def]
    with db.session() as s:
        hook, _secret = outbox.create_webhook(s, probe_id, url, "generic", now, allow_private=True)
        return hook.id


async def _dispatch_until(db, settings, clock, check) -> None:  # type: ignore[no-untyped-def]
    d = Dispatcher(db.sessions, settings, owner="hostile", clock=clock, sleep=clock.sleep)
    await d.start()
    try:
        await eventually(check, timeout=15)
    finally:
        await d.stop(grace_s=1)


def test_retry_after_reads_ascii_digits_only() -> None:
    assert ledger.retry_after_seconds("\xb2", 0.0) is None  # "²".isdigit() is True, float("²") raises
    assert ledger.retry_after_seconds("\uff11\uff12", 0.0) is None  # full-width 12
    assert ledger.retry_after_seconds("12", 0.0) == 12.0


async def test_retry_after_superscript_two_is_a_recorded_failed_attempt(sqlite_db, raw_https, hook_settings) -> None:
    port, seen = raw_https
    clock = FakeClock(float(int(time.time())))
    t0 = clock.t
    probe_id = add_probe(sqlite_db)
    _hook(sqlite_db, probe_id, f"https://127.0.0.1:{port}/hook", t0)
    record_transition(sqlite_db, probe_id, "HEALTHY", "DEGRADED", now=t0)
    await _dispatch_until(sqlite_db, hook_settings, clock, lambda: deliveries(sqlite_db)[0].status == "failed")
    rows = attempts(sqlite_db)
    assert [a.at - t0 for a in rows] == [0.0, 1.0, 6.0, 36.0, 336.0]  # the unreadable Retry-After is ignored
    assert all(a.http_status == 503 and a.error == "HTTP 503" for a in rows)
    assert len(seen) == 5


async def test_non_ascii_url_of_an_old_row_is_a_recorded_failed_attempt(sqlite_db, https_receiver, hook_settings):
    clock = FakeClock(float(int(time.time())))
    t0 = clock.t
    probe_id = add_probe(sqlite_db)
    hook_id = _hook(sqlite_db, probe_id, https_receiver.url("/x"), t0)
    with sqlite_db.session() as s:  # a row written before check refused such URLs
        s.execute(update(Webhook).where(Webhook.id == hook_id).values(url=https_receiver.url("/caf\xe9")))
    record_transition(sqlite_db, probe_id, "HEALTHY", "DEGRADED", now=t0)
    await _dispatch_until(sqlite_db, hook_settings, clock, lambda: deliveries(sqlite_db)[0].status == "failed")
    rows = attempts(sqlite_db)
    assert len(rows) == 5 and all(not a.success and a.error.startswith("internal error: ") for a in rows), rows
    assert not https_receiver.received


@pytest.mark.parametrize(
    ("url", "hint"),
    [
        ("https://hooks.example.com/caf\xe9", "write it as 'https://hooks.example.com/caf%C3%A9'"),
        ("https://b\xfccher.example/x", "write it as 'https://xn--bcher-kva.example/x'"),
        ("https://hooks.example.com:\uff14\uff14\uff13/x", "use its ASCII form"),
    ],
)
def test_check_refuses_non_ascii_webhook_urls_naming_the_key(tmp_path: Path, url: str, hint: str) -> None:
    path = tmp_path / "u.toml"
    path.write_text(
        f'[[probes]]\nname = "p"\nkind = "sip_options"\ntarget = "sip:pbx.example.com"\n'
        f'webhooks = [ {{ url = "{url}" }} ]\n',
        encoding="utf-8",
    )
    r = subprocess.run([*CLI, "check", "--config", str(path)], capture_output=True, text=True, check=False)
    assert r.returncode == 2, r.stdout
    assert r.stderr.strip() == f"u.toml: probes[0].webhooks[0].url: non-ASCII characters in the URL: {hint}"


def test_an_error_quoting_nul_and_newlines_is_recorded_as_one_line(database) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL refuses NUL in text: a reason quoting what a peer sent must still be recorded, or the delivery
    comes back as "interrupted" forever, never counted."""
    now = time.time()
    probe_id = add_probe(database)
    _hook(database, probe_id, "https://127.0.0.1:9/h", now)
    record_transition(database, probe_id, "HEALTHY", "DEGRADED", now=now)
    with database.session() as s:
        [claimed] = ledger.claim_due(s, owner="o", now=now, lease_s=60, limit=1, busy={}, per_webhook=1)
    with database.session() as s:
        fin = ledger.finish(
            s, claimed, owner="o", at=now, now=now, http_status=None, error="HTTP protocol error: \x00\r\nX-Forged: 1" + "x" * 900,
            duration_ms=1.0, success=False, retry_after_s=None,
        )  # fmt: skip
    assert fin.status == "pending"
    [attempt] = attempts(database)
    assert attempt.error.startswith("HTTP protocol error: ???X-Forged: 1xx") and len(attempt.error) == 500
