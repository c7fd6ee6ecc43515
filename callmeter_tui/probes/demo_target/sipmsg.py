"""Just enough SIP message handling for the demo target: parse, build responses, MD5 digest.

The demo target is our own test peer, so this is a small, strict instrument, not a SIP stack:
it parses one UDP datagram into a request (or rejects it with a one-line reason) and builds
responses that copy the headers RFC 3261 section 8.2.6 says a UAS must copy.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field

from callmeter_tui.domain.siptrace import header_lines

_REQUEST_LINE = re.compile(r"^([A-Za-z]+) (\S+) SIP/2\.0$")
_CSEQ = re.compile(r"^\s*(\d+)\s+([A-Za-z]+)\s*$")

REASONS = {
    100: "Trying",
    180: "Ringing",
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    415: "Unsupported Media Type",
    480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    500: "Server Internal Error",
    503: "Service Unavailable",
    600: "Busy Everywhere",
    603: "Decline",
}
ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, UPDATE, INFO"


class SipParseError(ValueError):
    """A datagram that is not a SIP request we can answer (the message is one line)."""


@dataclass
class SipRequest:
    method: str
    uri: str
    headers: list[tuple[str, str]] = field(default_factory=list)  # (lower-case name, value) in order
    body: bytes = b""

    def get(self, name: str, default: str | None = None) -> str | None:
        for n, v in self.headers:
            if n == name:
                return v
        return default

    def get_all(self, name: str) -> list[str]:
        return [v for n, v in self.headers if n == name]

    @property
    def call_id(self) -> str:
        return self.get("call-id", "") or ""

    @property
    def cseq(self) -> tuple[int, str]:
        m = _CSEQ.match(self.get("cseq", "") or "")
        if not m:
            raise SipParseError("bad CSeq header")
        return int(m.group(1)), m.group(2).upper()

    @property
    def branch(self) -> str:
        vias = self.get_all("via")
        m = re.search(r";\s*branch=([^;,\s]+)", vias[0]) if vias else None
        return m.group(1) if m else ""

    def tag(self, header: str) -> str | None:
        m = re.search(r";\s*tag=([^;>\s]+)", self.get(header, "") or "")
        return m.group(1) if m else None


def parse_request(data: bytes) -> SipRequest | None:
    """A request, or None for a response/keep-alive; raises SipParseError on garbage."""
    if not data.strip():
        return None  # CRLF keep-alive
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = data.partition(b"\n\n")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SipParseError("header section is not UTF-8") from exc
    try:
        first, raw_headers = header_lines(text, strict=True)
    except ValueError as exc:
        raise SipParseError(str(exc)) from exc
    if first.startswith("SIP/2.0 "):
        return None  # a response; we never send requests that expect one
    m = _REQUEST_LINE.match(first)
    if not m:
        raise SipParseError(f"bad request line {first[:60]!r}")
    headers: list[tuple[str, str]] = []
    for name, value in raw_headers:
        # Via may carry several comma-separated values; keep each as its own entry.
        if name == "via":
            headers.extend(("via", part.strip()) for part in value.split(",") if part.strip())
        else:
            headers.append((name, value))
    req = SipRequest(method=m.group(1).upper(), uri=m.group(2), headers=headers)
    for needed in ("via", "from", "to", "call-id", "cseq"):
        if req.get(needed) is None:
            raise SipParseError(f"{req.method} without {needed} header")
    _ = req.cseq  # validates
    length = req.get("content-length")
    if length is not None:
        try:
            size = int(length)
        except ValueError as exc:
            raise SipParseError("bad Content-Length header") from exc
        body = body[:size]
    req.body = body
    return req


def _via_with_received(via: str, src: tuple[str, int]) -> str:
    """RFC 3581: fill rport and add received so the response finds its way back."""
    if re.search(r";\s*rport(?=[;\s]|$)", via):
        via = re.sub(r";\s*rport(?=[;\s]|$)", f";rport={src[1]}", via, count=1)
    if ";received=" not in via:
        via += f";received={src[0]}"
    return via


def build_response(
    req: SipRequest,
    code: int,
    src: tuple[str, int],
    *,
    to_tag: str | None = None,
    extra: list[tuple[str, str]] | None = None,
    body: bytes = b"",
    content_type: str = "application/sdp",
    reason: str | None = None,
) -> bytes:
    """A response copying Via/From/To/Call-ID/CSeq; adds our To tag unless one is there."""
    lines = [f"SIP/2.0 {code} {reason or REASONS.get(code, 'Unknown')}"]
    vias = req.get_all("via")
    lines += [f"Via: {_via_with_received(vias[0], src)}"] + [f"Via: {v}" for v in vias[1:]]
    lines.append(f"From: {req.get('from')}")
    to = req.get("to") or ""
    if to_tag and req.tag("to") is None and code > 100:
        to += f";tag={to_tag}"
    lines.append(f"To: {to}")
    lines.append(f"Call-ID: {req.call_id}")
    lines.append(f"CSeq: {req.get('cseq')}")
    lines.append("Server: callmeter-demo-target")
    for name, value in extra or []:
        lines.append(f"{name}: {value}")
    if body:
        lines.append(f"Content-Type: {content_type}")
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


# --- MD5 digest (RFC 2617 / RFC 8760 with algorithm MD5) -------------------------------------


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def parse_digest(value: str) -> dict[str, str]:
    """The parameters of an Authorization header, keys lower-case, quotes removed."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "digest":
        return {}
    params: dict[str, str] = {}
    for m in re.finditer(r'([A-Za-z0-9_-]+)\s*=\s*("([^"]*)"|[^,\s]+)', rest):
        params[m.group(1).lower()] = m.group(3) if m.group(3) is not None else m.group(2)
    return params


def digest_response(
    user: str,
    realm: str,
    password: str,
    method: str,
    uri: str,
    nonce: str,
    qop: str | None = None,
    nc: str = "",
    cnonce: str = "",
) -> str:
    """The expected ``response`` value of a digest Authorization (MD5, qop auth or none)."""
    ha1 = _md5(f"{user}:{realm}:{password}")
    ha2 = _md5(f"{method}:{uri}")
    if qop:
        return _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
    return _md5(f"{ha1}:{nonce}:{ha2}")


_CONTENT_LENGTH = re.compile(rb"(?im)^(?:content-length|l)[ \t]*:[ \t]*(\d+)")


def split_stream(buf: bytes) -> tuple[list[bytes], bytes]:
    """Whole SIP messages framed by Content-Length from a TCP byte stream, and the unread rest."""
    messages: list[bytes] = []
    while True:
        buf = buf.lstrip(b"\r\n")  # CRLF keep-alives
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            if len(buf) > 65536:
                raise ValueError("header section over 64 KiB")
            return messages, buf
        m = _CONTENT_LENGTH.search(buf[:end])
        total = end + 4 + (int(m.group(1)) if m else 0)
        if len(buf) < total:
            return messages, buf
        messages.append(buf[:total])
        buf = buf[total:]


def update_bindings(bindings: dict[str, dict[str, float]], req: SipRequest, now: float) -> list[tuple[str, str]]:
    """Apply a REGISTER's Contacts to ``bindings`` (AOR -> contact -> expiry); the 200's headers."""
    aor = (req.get("to") or "").split(";")[0].strip()
    default = int(req.get("expires", "3600") or 3600)
    current = bindings.setdefault(aor, {})
    for value in req.get_all("contact"):
        for contact in _split_top_level(value):
            if contact == "*":
                current.clear()
                continue
            if ">" in contact:  # name-addr: parameters inside <...> belong to the URI
                close = contact.index(">") + 1
                uri, params = contact[:close], contact[close:]
            else:
                uri, _, params = contact.partition(";")
            expires = default
            for p in params.split(";"):
                if p.strip().lower().startswith("expires="):
                    expires = int(p.split("=", 1)[1])
            if expires <= 0:
                current.pop(uri, None)
            else:
                current[uri] = now + expires
    headers = [("Contact", f"{uri};expires={max(0, int(exp - now))}") for uri, exp in current.items()]
    return [*headers, ("Expires", str(default))]


def _split_top_level(value: str) -> list[str]:
    """Split a header value on commas outside <...> and quotes (Contact lists)."""
    parts, depth, quoted, start = [], 0, False, 0
    for i, ch in enumerate(value):
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in "<>":
            depth += 1 if ch == "<" else -1
        elif ch == "," and not quoted and depth == 0:
            parts.append(value[start:i])
            start = i + 1
    parts.append(value[start:])
    return [p.strip() for p in parts if p.strip()]


def echo_info(invite: SipRequest, to_tag: str, info: SipRequest, cseq: int, contact: tuple[str, str]) -> bytes:
    """Our in-dialog INFO carrying the body of the caller's DTMF INFO back to the caller (the UAS side of
    the dialog the INVITE made: From is the INVITE's To with our tag, the request URI the caller's Contact)."""
    raw_contact = invite.get("contact") or invite.uri
    m = re.search(r"<([^>]+)>", raw_contact)
    target = m.group(1) if m else raw_contact.split(";")[0].strip()
    host = contact[1].split("@", 1)[-1].rstrip(">")
    lines = [
        f"INFO {target} SIP/2.0",
        f"Via: SIP/2.0/UDP {host};branch=z9hG4bK{secrets.token_hex(8)}",
        "Max-Forwards: 70",
        f"From: {invite.get('to')};tag={to_tag}",
        f"To: {invite.get('from')}",
        f"Call-ID: {invite.call_id}",
        f"CSeq: {cseq} INFO",
        f"{contact[0]}: {contact[1]}",
        f"Content-Type: {info.get('content-type')}",
        f"Content-Length: {len(info.body)}",
        "",
        "",
    ]
    return "\r\n".join(lines).encode() + info.body
