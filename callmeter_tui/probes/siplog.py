"""Capture SIP messages from pjsip's message log and hand each probe run its own (worker side, no pjsua2 here).

pjsip logs every message it sends or receives at level 4 as ``TX 520 bytes Request msg OPTIONS/cseq=1
(tdta0x..) to UDP 127.0.0.1:5070:\\n<message>\\n--end msg--``; the worker's log writer passes those
entries here with the wall-clock time of the call (it runs synchronously as pjsip sends or receives).
Messages are grouped by Call-ID; a request we send carries our ``X-Callmeter-Probe`` header, which ties
its Call-ID (and so every response, retransmission, ACK and BYE of that dialog or registration) to the
probe run that claims the tag. Unclaimed messages are dropped after ``KEEP_S``.
"""

from __future__ import annotations

import re
import threading
import time

from callmeter_tui.domain.siptrace import PROBE_HEADER, Direction, SipMessage

KEEP_S = 120.0
_ENTRY = re.compile(r"(TX|RX) \d+ bytes .* (?:to|from) ([A-Za-z0-9]+) (\S+):\r?\n")
_CALL_ID = re.compile(r"^(?:call-id|i)[ \t]*:[ \t]*(\S+)", re.IGNORECASE | re.MULTILINE)
_TAG = re.compile(rf"^{PROBE_HEADER}[ \t]*:[ \t]*(\S+)", re.IGNORECASE | re.MULTILINE)
_END = "\n--end msg--"


def parse_entry(text: str, at_us: int, locals_by_transport: dict[str, str]) -> SipMessage | None:
    """One log entry as a message, or None when the entry is not a message dump."""
    if not text.startswith(("TX ", "RX ")):
        return None
    m = _ENTRY.match(text)
    if m is None:
        return None
    body = text[m.end() :]
    if body.endswith(_END):
        body = body[: -len(_END)]
    elif body.endswith(_END + "\n"):
        body = body[: -len(_END) - 1]
    transport = m.group(2).upper()
    return SipMessage(
        at_us=at_us,
        direction=Direction.TX if m.group(1) == "TX" else Direction.RX,
        transport=transport,
        local=locals_by_transport.get(transport.lower(), ""),
        remote=m.group(3),
        text=body,
    )


class TraceCollector:
    """Thread-safe: pjsip logs from the event thread and from probe threads."""

    def __init__(self) -> None:
        self.locals_by_transport: dict[str, str] = {}
        self._lock = threading.Lock()
        self._by_call: dict[str, list[tuple[int, str]]] = {}  # Call-ID -> [(at_us, raw log text)]
        self._calls_of_tag: dict[str, set[str]] = {}
        self._last_prune = time.monotonic()

    def add(self, text: str, at_us: int) -> None:
        """Called for every log entry: cheap for entries that are not messages (parsed at claim time)."""
        if not text.startswith(("TX ", "RX ")):
            return
        cid = _CALL_ID.search(text)
        if cid is None:
            return
        call_id = cid.group(1)
        tag = _TAG.search(text) if text[0] == "T" else None
        with self._lock:
            self._by_call.setdefault(call_id, []).append((at_us, text))
            if tag is not None:
                self._calls_of_tag.setdefault(tag.group(1), set()).add(call_id)
        if time.monotonic() - self._last_prune > KEEP_S / 4:
            self._prune(at_us)

    def claim(self, tag: str) -> list[SipMessage]:
        """Every message of the run tagged ``tag``, in time order; forgotten here afterwards."""
        with self._lock:
            raw = [item for cid in self._calls_of_tag.pop(tag, ()) for item in self._by_call.pop(cid, [])]
        parsed = (parse_entry(text, at_us, self.locals_by_transport) for at_us, text in sorted(raw))
        return [m for m in parsed if m is not None]

    def _prune(self, now_us: int) -> None:
        cutoff = now_us - int(KEEP_S * 1_000_000)
        with self._lock:
            self._last_prune = time.monotonic()
            stale = [cid for cid, items in self._by_call.items() if items[-1][0] < cutoff]
            for cid in stale:
                del self._by_call[cid]
            for tag in [t for t, cids in self._calls_of_tag.items() if not cids & self._by_call.keys()]:
                del self._calls_of_tag[tag]
