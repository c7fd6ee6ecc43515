"""pjsip's message log entries parsed back into messages and tied to their run (no pjsua2 needed)."""

from __future__ import annotations

from callmeter_tui.domain.siptrace import Direction
from callmeter_tui.probes.siplog import TraceCollector, parse_entry

TX = (
    "TX 300 bytes Request msg OPTIONS/cseq=5 (tdta0x1) to UDP 127.0.0.1:5070:\n"
    "OPTIONS sip:127.0.0.1:5070 SIP/2.0\r\nCall-ID: c1\r\nCSeq: 5 OPTIONS\r\nX-Callmeter-Probe: 9-1\r\n"
    "Content-Length: 0\r\n\r\n\n--end msg--"
)
RX = (
    "RX 200 bytes Response msg 200/OPTIONS/cseq=5 (rdata0x2) from UDP 127.0.0.1:5070:\n"
    "SIP/2.0 200 OK\r\ni: c1\r\nCSeq: 5 OPTIONS\r\nContent-Length: 0\r\n\r\n\n--end msg--"
)
OTHER = RX.replace("i: c1", "i: c2")


def test_log_entry_becomes_a_message() -> None:
    msg = parse_entry(TX, 123, {"udp": "127.0.0.1:40000"})
    assert msg is not None
    assert (msg.direction, msg.transport, msg.local, msg.remote) == (
        Direction.TX,
        "UDP",
        "127.0.0.1:40000",
        "127.0.0.1:5070",
    )
    assert msg.text.startswith("OPTIONS sip:") and msg.text.endswith("\r\n\r\n") and msg.label == "OPTIONS"
    assert parse_entry("Account 0 sending OPTIONS request..", 1, {}) is None


def test_collector_hands_a_run_its_call_ids_messages_only() -> None:
    c = TraceCollector()
    for i, text in enumerate((TX, "TX-less noise", RX, OTHER)):
        c.add(text, 1000 + i)
    got = c.claim("9-1")
    assert [(m.direction, m.label) for m in got] == [(Direction.TX, "OPTIONS"), (Direction.RX, "200 OK")]
    assert c.claim("9-1") == []  # claimed once
