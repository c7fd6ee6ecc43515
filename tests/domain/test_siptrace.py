"""The trace rules that hold for every run: redaction before storage, the 64 KB cap and its note, the ladder's
retransmission marks and its reason when empty, the stored form's round trip."""

from __future__ import annotations

import zlib

from callmeter_tui.domain.ladder import arrows, ladder_lines, message_detail
from callmeter_tui.domain.siptrace import (
    TRACE_CAP_BYTES,
    Direction,
    SipMessage,
    cap,
    decode_trace,
    redact,
    trace_blob,
)

T0 = 1_764_550_000_000_000


def _msg(
    first: str, at_ms: float, direction: Direction = Direction.TX, extra: str = "", cseq: str = "1 INVITE"
) -> SipMessage:
    text = f"{first}\r\nCall-ID: abc\r\nCSeq: {cseq}\r\n{extra}Content-Length: 0\r\n\r\n"
    return SipMessage(T0 + int(at_ms * 1000), direction, "UDP", "127.0.0.1:40000", "127.0.0.1:5070", text)


def test_authorization_values_and_passwords_are_redacted() -> None:
    text = (
        "REGISTER sip:example.com SIP/2.0\r\n"
        'Authorization: Digest username="alice", realm="x", nonce="n", response="0123abcd"\r\n'
        'proxy-authorization: Digest username="alice", response="feed"\r\n'
        "X-Note: password=hunter2; user=alice\r\n"
        "X-Other: s3cret-value here\r\n"
        'Authorization: username="alice",response="1"\r\n\r\n'
    )
    out = redact(text, secrets=("s3cret-value",))
    assert "Authorization: Digest <redacted>\r\n" in out
    assert "proxy-authorization: Digest <redacted>\r\n" in out
    assert "password=<redacted>; user=alice" in out
    assert "Authorization: <redacted>\r\n\r\n" in out  # no scheme: nothing of the value kept
    assert "X-Other: <redacted> here" in out
    for secret in ("0123abcd", "feed", "hunter2", "s3cret-value", "username"):
        assert secret not in out


def test_stored_blob_is_compressed_redacted_and_round_trips() -> None:
    msg = _msg("REGISTER sip:x SIP/2.0", 0, extra='Authorization: Digest response="zz"\r\n')
    blob = trace_blob([msg], secrets=("zz",))
    assert "zz" not in zlib.decompress(blob).decode()
    back = decode_trace(blob)
    assert back.cut == 0 and len(back.messages) == 1
    assert back.messages[0].label == "REGISTER" and back.messages[0].at_us == msg.at_us
    assert decode_trace(None).messages == ()


def test_trace_over_the_cap_is_cut_with_a_note() -> None:
    big = [
        _msg("INVITE sip:x SIP/2.0", i, extra="X-Pad: " + "a" * 3000 + "\r\n", cseq=f"{i} INVITE") for i in range(40)
    ]
    trace = cap(big)
    assert 0 < len(trace.messages) < 40 and trace.cut == 40 - len(trace.messages)
    assert sum(len(m.text) for m in trace.messages) <= TRACE_CAP_BYTES
    assert trace.note == f"trace cut at 64 KB: {trace.cut} later message(s) not kept"
    assert ladder_lines(trace)[-1] == f"({trace.note})"
    assert decode_trace(trace_blob(big)).cut == trace.cut


def test_ladder_marks_retransmissions_and_times_from_the_first_message() -> None:
    trace = cap(
        [
            _msg("OPTIONS sip:x SIP/2.0", 0, cseq="7 OPTIONS"),
            _msg("OPTIONS sip:x SIP/2.0", 500, cseq="7 OPTIONS"),
            _msg("SIP/2.0 200 OK", 501.25, Direction.RX, cseq="7 OPTIONS"),
        ]
    )
    rows = arrows(trace)
    assert [(a.label, a.retransmission, a.src, a.dst) for a in rows] == [
        ("OPTIONS", False, 0, 1),
        ("OPTIONS", True, 0, 1),
        ("200 OK", False, 1, 0),
    ]
    lines = ladder_lines(trace)
    assert lines[0].split() == ["prober", "127.0.0.1:40000", "127.0.0.1:5070"]
    assert "0.000 ms" in lines[1] and "OPTIONS (retx)" in lines[2] and "501.250 ms" in lines[3]
    assert lines[1].rstrip().endswith(">|") and "|<" in lines[3]
    assert message_detail(trace.messages[2], T0).startswith("RX UDP 127.0.0.1:5070 -> 127.0.0.1:40000 at +501.250 ms")


def test_empty_trace_says_why() -> None:
    assert ladder_lines(cap([]), "target: cannot resolve host") == [
        "no SIP messages were exchanged in this run: target: cannot resolve host"
    ]
