"""The SIP messages of one probe run: the typed message, the one header parser, redaction, cap and encoding.

A probe's worker captures every SIP message it sends and receives; the run's trace is stored with its
execution, so a red probe can be diagnosed from the console instead of a packet capture. Rules that
hold for every trace live here once: secrets never reach storage (``redact``), a trace is capped at
``TRACE_CAP_BYTES`` with a note saying how much was cut (``cap``), and the stored form is zlib'd JSON
(``encode_trace`` / ``decode_trace``). Pure: stdlib only.
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

TRACE_CAP_BYTES = 64 * 1024  # per run, on the messages' text before compression
REDACTED = "<redacted>"
PROBE_HEADER = "X-Callmeter-Probe"  # our correlation header: ties a message's Call-ID to its probe run

# RFC 3261 compact header forms.
_COMPACT = {
    "v": "via",
    "f": "from",
    "t": "to",
    "i": "call-id",
    "m": "contact",
    "l": "content-length",
    "c": "content-type",
    "k": "supported",
    "s": "subject",
}
_STATUS_LINE = re.compile(r"^SIP/2\.0 (\d{3})(?: (.*))?$")
_REQUEST_LINE = re.compile(r"^([A-Za-z]+) (\S+) SIP/2\.0$")
_AUTH_HEADER = re.compile(
    r"^((?:proxy-)?authorization[ \t]*:[ \t]*)([A-Za-z][\w-]*(?=[ \t]))?[^\r\n]*", re.IGNORECASE | re.MULTILINE
)
_PASSWORD_PARAM = re.compile(r"(password[ \t]*[=:][ \t]*)(\"[^\"]*\"|[^\s;,&]+)", re.IGNORECASE)


class Direction(StrEnum):
    TX = "tx"  # sent by the prober
    RX = "rx"  # received by the prober


def header_lines(text: str, strict: bool = False) -> tuple[str, list[tuple[str, str]]]:
    """(first line, [(lower-case full header name, value)]) of a SIP message's head; folded lines joined.

    The one SIP header parser (traces, the worker's correlation header, the demo target's requests).
    ``strict`` raises ValueError on a header line without a colon instead of skipping it.
    """
    head = text.split("\r\n\r\n", 1)[0].replace("\r\n", "\n")
    lines = head.split("\n")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if not line.strip():
            continue
        if line[:1] in (" ", "\t") and headers:
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {line.strip()}")
            continue
        name, sep, value = line.partition(":")
        if not sep:
            if strict:
                raise ValueError(f"bad header line {line[:60]!r}")
            continue
        key = name.strip().lower()
        headers.append((_COMPACT.get(key, key), value.strip()))
    return lines[0].strip(), headers


def header_value(text: str, name: str) -> str | None:
    """The first value of header ``name`` (full or compact form) in a SIP message, or None."""
    want = name.lower()
    return next((v for n, v in header_lines(text)[1] if n == want), None)


@dataclass(frozen=True)
class SipMessage:
    """One SIP message as the prober sent or received it (``at_us``: wall clock, microseconds)."""

    at_us: int
    direction: Direction
    transport: str  # "UDP", "TCP", "TLS"
    local: str  # host:port of the prober's transport
    remote: str  # host:port of the peer
    text: str  # the whole message, redacted

    @cached_property
    def _head(self) -> tuple[str, list[tuple[str, str]]]:
        """Parsed once: a ladder asks each message for its first line, CSeq and Call-ID."""
        return header_lines(self.text)

    def header(self, name: str) -> str | None:
        want = name.lower()
        return next((v for n, v in self._head[1] if n == want), None)

    @property
    def first_line(self) -> str:
        return self._head[0]

    @property
    def status(self) -> int | None:
        m = _STATUS_LINE.match(self.first_line)
        return int(m.group(1)) if m else None

    @property
    def label(self) -> str:
        """What a ladder arrow says: the method of a request, "code reason" of a response."""
        first = self.first_line
        m = _STATUS_LINE.match(first)
        if m:
            return f"{m.group(1)} {m.group(2) or ''}".strip()
        m = _REQUEST_LINE.match(first)
        return m.group(1).upper() if m else first[:30]

    @property
    def call_id(self) -> str:
        return self.header("call-id") or ""

    @property
    def cseq(self) -> str:
        return self.header("cseq") or ""

    def to_dict(self) -> dict[str, object]:
        return {
            "at_us": self.at_us,
            "dir": self.direction.value,
            "transport": self.transport,
            "local": self.local,
            "remote": self.remote,
            "text": self.text,
        }

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> SipMessage:
        return cls(
            at_us=int(str(d["at_us"])),
            direction=Direction(str(d["dir"])),
            transport=str(d["transport"]),
            local=str(d["local"]),
            remote=str(d["remote"]),
            text=str(d["text"]),
        )


@dataclass(frozen=True)
class SipTrace:
    """A run's messages in time order; ``cut`` messages were left off at the cap."""

    messages: tuple[SipMessage, ...] = ()
    cut: int = 0

    @property
    def note(self) -> str | None:
        if not self.cut:
            return None
        return f"trace cut at {TRACE_CAP_BYTES // 1024} KB: {self.cut} later message(s) not kept"


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Authorization and Proxy-Authorization values, password parameters and the known secrets, blanked."""
    out = _AUTH_HEADER.sub(lambda m: f"{m.group(1)}{m.group(2) + ' ' if m.group(2) else ''}{REDACTED}", text)
    out = _PASSWORD_PARAM.sub(lambda m: f"{m.group(1)}{REDACTED}", out)
    for secret in secrets:
        if secret:
            out = out.replace(secret, REDACTED)
    return out


def cap(messages: list[SipMessage], limit: int = TRACE_CAP_BYTES) -> SipTrace:
    """The messages in time order, as many as fit in ``limit`` bytes of text; the rest counted as cut."""
    ordered = sorted(messages, key=lambda m: m.at_us)
    kept: list[SipMessage] = []
    used = 0
    for msg in ordered:
        size = len(msg.text.encode())
        if used + size > limit:
            break
        kept.append(msg)
        used += size
    return SipTrace(tuple(kept), len(ordered) - len(kept))


def encode_trace(trace: SipTrace) -> bytes:
    payload = {"v": 1, "cut": trace.cut, "messages": [m.to_dict() for m in trace.messages]}
    # A 4 KB window and small state: a run's few KB compress as well, and ~3x faster than zlib's defaults
    # (whose 256 KB state set-up dominated the cost of a 2-message OPTIONS trace).
    packer = zlib.compressobj(6, zlib.DEFLATED, 12, 4)
    return packer.compress(json.dumps(payload, separators=(",", ":")).encode()) + packer.flush()


def decode_trace(blob: bytes | None) -> SipTrace:
    """The stored trace; no blob (a run from before traces, or nothing captured) is an empty trace."""
    if not blob:
        return SipTrace()
    payload = json.loads(zlib.decompress(blob))
    return SipTrace(tuple(SipMessage.from_dict(m) for m in payload["messages"]), int(payload.get("cut", 0)))


def trace_blob(messages: list[SipMessage], secrets: tuple[str, ...] = ()) -> bytes:
    """What a run stores: redacted, capped, compressed (the one path from captured messages to storage)."""
    clean = [
        SipMessage(m.at_us, m.direction, m.transport, m.local, m.remote, redact(m.text, secrets)) for m in messages
    ]
    return encode_trace(cap(clean))
