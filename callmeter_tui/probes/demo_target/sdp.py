"""SDP offer parsing and the demo target's answer: one G.711 codec (+ telephone-event if offered).

Answering with exactly one audio codec matters: pjsua re-INVITEs to "lock" the codec when an
answer lists several.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_STATIC = {0: "PCMU", 8: "PCMA"}


@dataclass
class Offer:
    address: str | None = None
    port: int = 0
    payloads: list[int] = field(default_factory=list)
    names: dict[int, str] = field(default_factory=dict)  # payload type -> upper-case encoding name
    rtcp_port: int | None = None

    def pick(self) -> tuple[int, str] | None:
        """First G.711 payload in the caller's order of preference."""
        for pt in self.payloads:
            name = self.names.get(pt, _STATIC.get(pt, ""))
            if name in ("PCMU", "PCMA"):
                return pt, name
        return None

    def telephone_event(self) -> int | None:
        for pt in self.payloads:
            if self.names.get(pt) == "TELEPHONE-EVENT":
                return pt
        return None


def parse_offer(body: bytes) -> Offer | None:
    """The first audio stream of an SDP body, or None when there is none."""
    try:
        text = body.decode("utf-8", "replace")
    except Exception:  # pragma: no cover - decode with replace does not raise
        return None
    offer: Offer | None = None
    session_addr: str | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("c=") and (m := re.match(r"c=IN IP4 (\S+)", line)):
            if offer is None:
                session_addr = m.group(1)
            elif offer.address is None:
                offer.address = m.group(1)
        elif line.startswith("m="):
            if offer is not None:
                break  # only the first audio stream matters
            m = re.match(r"m=audio (\d+) RTP/\S+ ?(.*)$", line)
            if m:
                offer = Offer(port=int(m.group(1)), payloads=[int(p) for p in m.group(2).split() if p.isdigit()])
        elif offer is not None and (m := re.match(r"a=rtpmap:(\d+) ([^/\s]+)/", line)):
            offer.names[int(m.group(1))] = m.group(2).upper()
        elif offer is not None and (m := re.match(r"a=rtcp:(\d+)", line)):
            offer.rtcp_port = int(m.group(1))
    if offer is not None and offer.address is None:
        offer.address = session_addr
    return offer


def build_answer(
    host: str, rtp_port: int, rtcp_port: int, session_id: int, codec: tuple[int, str] | None, te_pt: int | None
) -> bytes:
    """Our SDP: the chosen codec (or both G.711 when we make the offer), ptime 20."""
    codecs = [codec] if codec else [(0, "PCMU"), (8, "PCMA")]
    pts = [str(pt) for pt, _ in codecs] + ([str(te_pt)] if te_pt is not None else [])
    lines = [
        "v=0",
        f"o=callmeter {session_id} 1 IN IP4 {host}",
        "s=callmeter demo target",
        f"c=IN IP4 {host}",
        "t=0 0",
        f"m=audio {rtp_port} RTP/AVP {' '.join(pts)}",
    ]
    lines += [f"a=rtpmap:{pt} {name}/8000" for pt, name in codecs]
    if te_pt is not None:
        lines += [f"a=rtpmap:{te_pt} telephone-event/8000", f"a=fmtp:{te_pt} 0-16"]
    lines += ["a=ptime:20", f"a=rtcp:{rtcp_port}", "a=sendrecv"]
    return ("\r\n".join(lines) + "\r\n").encode()
