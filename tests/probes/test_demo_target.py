"""The demo target and the real peers, each exercised by a real client (sipsak or raw SIP/RTP)."""

from __future__ import annotations

import random
import re
import socket
import subprocess
import sys
import time

import pytest

from callmeter_tui.commands.demo_target import main as demo_target_main
from callmeter_tui.probes.demo_target import DEMO_TARGETS, DemoTarget, start_demo_targets
from callmeter_tui.probes.demo_target.impair import LossPattern, spread_for
from tests.fixtures.sip import HOST, Peer, RawSip, Sipsak, offer_sdp, raw_invite, run_echo

pytestmark = pytest.mark.peers


# --- the demo target ---------------------------------------------------------------------------


def test_sipsak_options_against_demo_target(demo_target: DemoTarget, sipsak: Sipsak) -> None:
    before = demo_target.stats.options
    res = sipsak.options(f"sip:{HOST}:{demo_target.port}")
    assert (res.code, res.ok) == (200, True), res.output
    assert res.response_ms is not None and res.response_ms > 0
    assert demo_target.stats.options == before + 1


def test_sipsak_register_with_digest(demo_target: DemoTarget, sipsak: Sipsak) -> None:
    uri = f"sip:demo@{HOST}:{demo_target.port}"
    good = sipsak.register(uri, "demo", "demo")
    assert good.ok and good.code == 200, good.output
    assert good.response_ms is not None
    bad = sipsak.register(uri, "demo", "not-the-password")
    assert not bad.ok and bad.code == 403, bad.output
    assert demo_target.stats.registers_failed >= 1


def test_invite_rings_then_answers_with_one_g711_codec(make_demo_target) -> None:  # type: ignore[no-untyped-def]
    target = make_demo_target(ring_ms=300)
    started = time.monotonic()
    call = raw_invite(target.uri, (HOST, target.port))
    waited = time.monotonic() - started
    assert call.provisional == [100, 180]
    assert call.answer.code == 200
    assert waited >= 0.3  # rang for ring_ms before answering
    sdp = call.answer.body.decode()
    assert "m=audio" in sdp and "RTP/AVP 0 101" in sdp and "a=rtpmap:8" not in sdp
    assert call.hangup().code == 200
    assert target.stats.calls == 1 and target.active_calls == 0


def test_reject_code_answers_invite_with_that_code(make_demo_target) -> None:  # type: ignore[no-untyped-def]
    target = make_demo_target(reject_code=503)
    call = raw_invite(target.uri, (HOST, target.port))
    call.client.close()
    assert call.answer.code == 503
    assert target.stats.calls_rejected == 1
    target.reject_code = 486  # settings change while running
    call = raw_invite(target.uri, (HOST, target.port))
    call.client.close()
    assert call.answer.code == 486


def test_cancel_while_ringing_ends_with_487(make_demo_target) -> None:  # type: ignore[no-untyped-def]
    target = make_demo_target(ring_ms=5000)
    client = RawSip()
    branch = client.request("INVITE", target.uri, (HOST, target.port), body=offer_sdp(40000))
    assert [client.recv().code, client.recv().code] == [100, 180]
    client.request("CANCEL", target.uri, (HOST, target.port), branch=branch, cseq=client.cseq)
    codes = {client.recv().code, client.recv().code}
    client.close()
    assert codes == {200, 487}
    assert target.stats.calls == 0


def test_malformed_sip_is_ignored_and_target_keeps_answering(make_demo_target, sipsak: Sipsak) -> None:  # type: ignore[no-untyped-def]
    target = make_demo_target()
    junk = [
        b"\xff\xfe garbage",
        b"INVITE nonsense\r\n\r\n",
        b"OPTIONS sip:x SIP/2.0\r\nVia: x\r\n\r\n",
        b"OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: x\r\n\r\n",
        bytes(random.Random(3).getrandbits(8) for _ in range(300)),
    ]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for data in junk:
            s.sendto(data, (HOST, target.port))
    time.sleep(0.2)
    assert target.stats.bad_messages == len(junk)
    assert sipsak.options(f"sip:{HOST}:{target.port}").code == 200


def test_echo_returns_audio_with_own_ssrc_and_applies_seeded_loss(make_demo_target) -> None:  # type: ignore[no-untyped-def]
    target = make_demo_target(loss_pct=10.0, seed=7)
    call = raw_invite(target.uri, (HOST, target.port))
    rtp, rtcp = call.media
    run = run_echo(rtp, rtcp, packets=200)
    call.hangup()
    truth = target.stats.media[-1]
    assert run.payload_ok and run.ssrcs and 0x1234ABCD not in run.ssrcs
    assert truth.packets_in == 200 and truth.packets_dropped == 20  # exactly one in every 10
    assert run.lost in (19, 20)  # a drop of the very last packet leaves no gap behind it
    assert run.received == truth.packets_out == 180
    assert run.reordered == 0


def test_delay_is_one_way_and_rtcp_rtt_reflects_it(make_demo_target) -> None:  # type: ignore[no-untyped-def]
    target = make_demo_target(delay_ms=150.0)
    call = raw_invite(target.uri, (HOST, target.port))
    rtp, rtcp = call.media
    run = run_echo(rtp, rtcp, packets=100, sr_every=25)
    call.hangup()
    assert run.min_delay_ms >= 150.0
    assert run.rtt_ms, "the target answered no SR with LSR/DLSR"
    assert all(140.0 <= rtt <= 190.0 for rtt in run.rtt_ms), run.rtt_ms


def test_jitter_setting_is_the_rfc3550_jitter_the_caller_sees(make_demo_target) -> None:  # type: ignore[no-untyped-def]
    target = make_demo_target(jitter_ms=30.0, seed=11)
    call = raw_invite(target.uri, (HOST, target.port))
    rtp, rtcp = call.media
    run = run_echo(rtp, rtcp, packets=250)
    call.hangup()
    truth = target.stats.media[-1]
    assert run.reordered == 0 and run.lost == 0
    assert 30.0 * 0.75 <= truth.applied_jitter_ms <= 30.0 * 1.25
    assert abs(run.jitter_ms - truth.applied_jitter_ms) <= 0.2 * truth.applied_jitter_ms + 2.0


def test_inbound_jitter_is_the_callers_own_pacing_at_arrival(make_demo_target) -> None:  # type: ignore[no-untyped-def]
    # We send late on purpose (0-12 ms per packet, seeded). An echo hands that pacing back to the caller, so the
    # target reports it, from the kernel's arrival times: its own lag on a busy host is not the caller's.
    target = make_demo_target(seed=13)
    rng = random.Random(4)
    late = [rng.uniform(0.0, 0.012) for _ in range(250)]
    call = raw_invite(target.uri, (HOST, target.port))
    rtp, rtcp = call.media
    run = run_echo(rtp, rtcp, packets=250, late_s=late.__getitem__)
    call.hangup()
    truth = target.stats.media[-1]
    assert run.send_jitter_ms > 2.0, run  # the pacing really was irregular
    # Our send times are taken just before sendto: a preemption there shows as a small difference.
    assert abs(truth.inbound_jitter_ms - run.send_jitter_ms) <= 0.5 + 0.05 * run.send_jitter_ms, (truth, run)


def test_a_new_process_echoes_its_first_jittered_packets_on_time() -> None:
    # The jitter calibration (~0.3 s of numpy, once per process) is built when a target starts. Built on the
    # first jittered packet instead, it held the echo of every call on the event loop: the measurement-truth
    # calls began with a 200-440 ms burst that left the prober's jitter buffer 350 ms deep (E-model MOS 2.98
    # for 2 % loss); here, in a new process on a loaded host, 0 or 1 of these 50 packets came back in time,
    # the one 1.55 s late. A new process, so nothing is cached; 5 ms of jitter is a 15 ms spread.
    proc = subprocess.Popen(
        [sys.executable, "-m", "callmeter_tui.cli", "demo-target", "--port", "0", "--jitter", "5"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        started = re.search(r"@[\d.]+:(\d+) \(udp\)", proc.stdout.readline())
        assert started, "the demo target did not say where it listens"
        port = int(started.group(1))
        call = raw_invite(f"sip:demo@{HOST}:{port}", (HOST, port))
        rtp, rtcp = call.media
        run = run_echo(rtp, rtcp, packets=50)
        call.hangup()
    finally:
        proc.terminate()
        proc.wait(10)
    assert run.received == 50, run
    assert run.max_delay_ms < 150.0, run


# --- the impairment model (pure) ------------------------------------------------------------


@pytest.mark.parametrize("pct", [2.0, 4.0, 5.0, 10.0, 3.3])
def test_loss_pattern_is_within_one_packet_of_the_rate_at_every_point(pct: float) -> None:
    pattern = LossPattern(random.Random(5))
    drops = 0
    for n in range(1, 2001):
        drops += pattern.drop(pct)
        assert abs(drops - n * pct / 100) <= 1.0


def test_loss_pattern_is_reproducible_and_random_in_position() -> None:
    first = LossPattern(random.Random(9))
    second = LossPattern(random.Random(9))
    seq1 = [first.drop(5.0) for _ in range(400)]
    seq2 = [second.drop(5.0) for _ in range(400)]
    assert seq1 == seq2 and sum(seq1) == 20
    positions = [i % 20 for i, d in enumerate(seq1) if d]
    assert len(set(positions)) > 5  # not a fixed period


def test_spread_calibration() -> None:
    assert spread_for(0) == 0
    assert spread_for(5, 20) == pytest.approx(15, rel=0.05)  # no overtaking: jitter = spread / 3
    assert spread_for(40, 20) > spread_for(20, 20) > spread_for(10, 20)


# --- app and CLI entry points -----------------------------------------------------------------


async def test_start_demo_targets_gives_clean_impaired_and_rejecting_targets() -> None:
    targets = await start_demo_targets(free_ports=True)
    try:
        assert [t.reject_code for t in targets] == [None, None, 503]
        assert targets[1].loss_pct == 4.0 and targets[1].jitter_ms > 0
        assert len({t.port for t in targets}) == 3 and all(t.port for t in targets)
    finally:
        for t in targets:
            await t.stop()
    assert [p for p, _ in DEMO_TARGETS] == [5070, 5071, 5072]


def test_cli_rejects_bad_values_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert demo_target_main(["--port", "70000"]) == 2
    assert "--port" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        demo_target_main(["--loss", "150"])
    assert exc.value.code == 2
    assert "between 0 and 100" in capsys.readouterr().err


# --- external peers ---------------------------------------------------------------------------


def test_sipsak_options_and_register_against_kamailio(kamailio_registrar: Peer, sipsak: Sipsak) -> None:
    res = sipsak.options(f"sip:{HOST}:{kamailio_registrar.port}")
    assert res.code == 200, res.output
    user, password = next(iter(kamailio_registrar.users.items()))
    uri = f"sip:{user}@{HOST}:{kamailio_registrar.port}"
    assert sipsak.register(uri, user, password).ok
    bad = sipsak.register(uri, user, password + "x")
    assert not bad.ok and bad.code == 401, bad.output


def test_raw_invite_to_baresip_echo_is_answered(baresip_echo: Peer) -> None:
    call = raw_invite(baresip_echo.uri, (HOST, baresip_echo.port))
    assert call.answer.code == 200, call.answer.raw
    assert b"m=audio" in call.answer.body
    assert call.hangup().code == 200


def test_call_through_kamailio_proxy_reaches_baresip(kamailio_registrar: Peer) -> None:
    call = raw_invite(kamailio_registrar.uri, (HOST, kamailio_registrar.port))
    assert call.answer.code == 200, call.answer.raw
    assert "record-route" in call.answer.headers
    assert b"baresip" in call.answer.raw.lower() or b"m=audio" in call.answer.body
    assert call.hangup().code == 200


def test_tcp_messages_are_framed_by_content_length(demo_target: DemoTarget) -> None:
    def options(n: int) -> bytes:
        return (
            f"OPTIONS sip:{HOST}:{demo_target.port} SIP/2.0\r\nVia: SIP/2.0/TCP {HOST}:9;branch=z9hG4bKtcp{n}\r\n"
            f"From: <sip:t@{HOST}>;tag=t{n}\r\nTo: <sip:{HOST}>\r\nCall-ID: tcp{n}@{HOST}\r\nCSeq: {n} OPTIONS\r\n"
            "Content-Length: 0\r\n\r\n"
        ).encode()

    with socket.create_connection((HOST, demo_target.port), timeout=5) as conn:
        stream = b"\r\n\r\n" + options(1) + options(2)  # a keep-alive, then two pipelined requests
        conn.sendall(stream[:50])
        time.sleep(0.05)
        conn.sendall(stream[50:])
        got = b""
        while got.count(b"SIP/2.0 200 OK") < 2:
            chunk = conn.recv(4096)
            assert chunk, f"connection closed after {got!r}"
            got += chunk
    assert b"CSeq: 1 OPTIONS" in got and b"CSeq: 2 OPTIONS" in got


def test_split_stream_keeps_partial_messages() -> None:
    from callmeter_tui.probes.demo_target.sipmsg import split_stream

    msg = b"INFO sip:x SIP/2.0\r\nl: 4\r\n\r\nbody"
    assert split_stream(msg + msg[:10]) == ([msg], msg[:10])
    assert split_stream(msg[:-1]) == ([], msg[:-1])
