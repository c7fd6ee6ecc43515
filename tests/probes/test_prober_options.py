"""OPTIONS probes against real peers (kamailio, baresip), compared with sipsak; bad targets fail fast."""

from __future__ import annotations

import socket
import statistics
import threading
import time

import pytest

from callmeter_tui.domain.probe import ProbeKind, ProbeSpec
from callmeter_tui.probes import ProberPool, run_once
from tests.fixtures.sip import HOST as LOOPBACK  # the prober binds where the test peers listen

from .conftest import dead_udp_port, free_port

pytestmark = pytest.mark.peers


def options(target: str, **kw: object) -> ProbeSpec:
    kw.setdefault("timeout_s", 2.0)
    return ProbeSpec(name="opt", kind=ProbeKind.SIP_OPTIONS, target=target, **kw)  # type: ignore[arg-type]


async def test_options_ok_and_response_time_like_sipsak(registrar, echo_peer, sipsak_options) -> None:
    pool = ProberPool(4, sip_bind=LOOPBACK)
    await pool.start()
    try:
        for _peer, uri in ((registrar, registrar.uri()), (echo_peer, echo_peer.uri("echo"))):
            ours = [await pool.run(options(uri)) for _ in range(5)]
            ref = sipsak_options(uri, 5)
            assert all(r.ok for r in ours), [r.error for r in ours]
            assert {r.sip_code for r in ours} == {200}
            assert {code for code, _ in ref} == {200}, "sipsak sees the same peer answer 200"
            ms = [r.metrics["response_time_ms"] for r in ours]
            assert all(m > 0 for m in ms)
            # Same loopback target: both round trips are tiny; ours must be of the same order, not a
            # polling interval (10 ms) or a timeout. (Figures: bench/bench_probes.py.)
            assert statistics.median(ms) < statistics.median(t for _, t in ref) + 5.0
    finally:
        await pool.stop()


async def test_options_over_tcp(registrar) -> None:
    res = await run_once(options(registrar.uri(transport="tcp")), sip_bind=LOOPBACK)
    assert res.ok, res.error
    assert res.sip_code == 200 and res.metrics["response_time_ms"] > 0


async def test_expect_codes_turn_a_2xx_into_a_failure(registrar) -> None:
    res = await run_once(options(registrar.uri(), expect_codes=(404,)), sip_bind=LOOPBACK)
    assert not res.ok
    assert res.sip_code == 200
    assert res.error == "SIP 200 OK (expected 404)"
    assert "\n" not in res.error


async def test_options_to_dead_udp_port_fails_at_once_from_icmp() -> None:
    port = dead_udp_port()
    t0 = time.monotonic()
    res = await run_once(options(f"sip:127.0.0.1:{port}", timeout_s=5.0), sip_bind=LOOPBACK)
    took = time.monotonic() - t0
    assert not res.ok
    assert res.error == f"transport: port unreachable: nothing listens on UDP 127.0.0.1:{port} (ICMP)"
    assert res.duration_ms < 1000, "ICMP port-unreachable, not the 5 s probe timeout (nor pjsip's 32 s Timer F)"
    assert took < 5.0


async def test_options_to_a_silent_udp_peer_fails_within_the_probe_timeout() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:  # receives, never answers
        silent.bind(("127.0.0.1", 0))
        t0 = time.monotonic()
        res = await run_once(options(f"sip:127.0.0.1:{silent.getsockname()[1]}", timeout_s=1.5), sip_bind=LOOPBACK)
        took = time.monotonic() - t0
    assert not res.ok
    assert res.error.startswith("timeout:")
    assert took < 1.5 + 2.0, "the hard timeout applies, not pjsip's 32 s Timer F (plus worker start-up)"
    assert 1400 < res.duration_ms < 1.5 * 1000 + 200


async def test_bad_targets_fail_with_one_line_reasons() -> None:
    pool = ProberPool(1, sip_bind=LOOPBACK)
    await pool.start()
    try:
        unresolvable = await pool.run(options("sip:no-such-host.invalid"))
        malformed = await pool.run(options("sip:pbx example com"))
        bad_port = await pool.run(options("sip:127.0.0.1:99999"))
        refused_tcp = await pool.run(options(f"sip:127.0.0.1:{free_port()};transport=tcp"))
        refused_tls = await pool.run(options(f"sip:127.0.0.1:{free_port()};transport=tls"))
    finally:
        await pool.stop()
    assert unresolvable.error.startswith("target: cannot resolve host 'no-such-host.invalid'")
    assert malformed.error.startswith("target: ")
    assert bad_port.error.startswith("target: ") and "port" in bad_port.error
    assert refused_tcp.error == "transport: Connection refused"
    assert refused_tls.error == "transport: Connection refused (TLS)"
    for r in (unresolvable, malformed, bad_port, refused_tcp, refused_tls):
        assert not r.ok and "\n" not in r.error and "Traceback" not in r.error


async def test_options_over_tls_and_a_failed_handshake(echo_peer) -> None:
    assert echo_peer.tls_port, "baresip serves TLS with a trustme certificate"
    closer = socket.socket()
    closer.bind(("127.0.0.1", 0))
    closer.listen(1)

    seen: dict[str, float] = {}  # what the peer saw and when (a failure message tells where the time went)

    def close_on_hello() -> None:  # a TCP peer that drops the connection at the ClientHello
        conn, _ = closer.accept()
        seen["accepted"] = time.monotonic()
        seen["hello_bytes"] = len(conn.recv(1024))
        seen["closed"] = time.monotonic()
        conn.close()

    threading.Thread(target=close_on_hello, daemon=True).start()
    pool = ProberPool(1, sip_bind=LOOPBACK)
    await pool.start()
    try:
        ok = await pool.run(options(echo_peer.uri("echo", transport="tls")))
        t_broken = time.monotonic()
        broken = await pool.run(options(f"sip:127.0.0.1:{closer.getsockname()[1]};transport=tls", timeout_s=3.0))
    finally:
        await pool.stop()
        closer.close()
    assert ok.ok, ok.error
    assert ok.sip_code == 200 and ok.metrics["response_time_ms"] > 0
    assert not broken.ok
    # Under CPU load (8 busy processes on 2 cores) this takes 10-75 ms; the peer's view says where a slow one stalled.
    peer = {k: round(v - t_broken, 3) if k != "hello_bytes" else v for k, v in seen.items()}
    assert broken.error.startswith("transport: ") and broken.error.endswith("(TLS)"), f"{broken.error}; peer: {peer}"
    assert "\n" not in broken.error


async def test_a_new_tcp_connection_adds_no_event_wait_to_the_response_time(echo_peer) -> None:
    """The worker's event thread waits up to 50 ms in pjsip's select() on the sockets it had when the wait
    began: a TCP/TLS probe's new connection was watched only after that wait, so every such probe read
    ~50 ms (49-52 ms measured, for a reply that takes 0.5 ms) until the sender woke the thread. Best of
    three fresh connections (a fresh worker each), so a loaded host's one slow moment does not decide."""
    first_tcp = []
    for _ in range(3):
        pool = ProberPool(1, sip_bind=LOOPBACK)
        await pool.start()
        try:
            await pool.run(options(echo_peer.uri("echo")))  # the worker is up and its event thread waiting
            res = await pool.run(options(echo_peer.uri("echo", transport="tcp")))
        finally:
            await pool.stop()
        assert res.ok, res.error
        first_tcp.append(res.metrics["response_time_ms"])
    assert min(first_tcp) < 20.0, f"first request on a new TCP connection: {first_tcp} ms"
