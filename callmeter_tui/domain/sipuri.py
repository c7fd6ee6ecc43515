"""SIP URI parsing for targets: one parser for config, forms and the prober."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

TRANSPORTS = ("udp", "tcp", "tls")
_HOST = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
_USER = re.compile(r"^[A-Za-z0-9\-_.!~*'()&=+$,;?/%]+$")


@dataclass(frozen=True)
class SipUri:
    scheme: str  # "sip" | "sips"
    user: str | None
    host: str  # without brackets for IPv6
    port: int | None
    transport: str  # "udp" | "tcp" | "tls"
    params: tuple[tuple[str, str], ...] = ()

    @property
    def hostport(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}" if self.port else host

    def __str__(self) -> str:
        user = f"{self.user}@" if self.user else ""
        params = "".join(f";{k}={v}" if v else f";{k}" for k, v in self.params)
        return f"{self.scheme}:{user}{self.hostport}{params}"


def parse_sip_uri(text: str) -> SipUri:
    """Parse ``sip:[user@]host[:port][;transport=udp|tcp|tls][;...]``. Raises ValueError (one line)."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("expected a SIP URI like 'sip:pbx.example.com:5060', got an empty value")
    raw = text.strip()
    m = re.match(r"^(sips?):(.*)$", raw, re.IGNORECASE)
    if not m:
        raise ValueError(f"expected a SIP URI starting with 'sip:' or 'sips:', got {raw!r}")
    scheme, rest = m.group(1).lower(), m.group(2)
    if any(c.isspace() for c in rest) or "<" in rest or ">" in rest:
        raise ValueError(f"SIP URI {raw!r} contains spaces or angle brackets")
    rest = rest.split("?", 1)[0]
    main, *param_parts = rest.split(";")
    user = None
    if "@" in main:
        user, main = main.rsplit("@", 1)
        if not user or not _USER.match(user):
            raise ValueError(f"SIP URI {raw!r} has an invalid user part")
    host, port = _split_hostport(main, raw)
    params: list[tuple[str, str]] = []
    transport = "tls" if scheme == "sips" else "udp"
    for part in param_parts:
        if not part:
            continue
        k, _, v = part.partition("=")
        k = k.lower()
        params.append((k, v))
        if k == "transport":
            if v.lower() not in TRANSPORTS:
                raise ValueError(f"SIP URI {raw!r}: transport must be one of {', '.join(TRANSPORTS)}, got {v!r}")
            transport = v.lower()
    return SipUri(scheme, user, host, port, transport, tuple(params))


def _split_hostport(main: str, raw: str) -> tuple[str, int | None]:
    port_text = None
    if main.startswith("["):
        end = main.find("]")
        if end < 0:
            raise ValueError(f"SIP URI {raw!r} has an unclosed IPv6 bracket")
        host, tail = main[1:end], main[end + 1 :]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"SIP URI {raw!r} has an invalid IPv6 address") from None
        if tail:
            if not tail.startswith(":"):
                raise ValueError(f"SIP URI {raw!r} has junk after the IPv6 address")
            port_text = tail[1:]
    else:
        host, sep, port_text = main.partition(":")
        if not sep:
            port_text = None
        if not host or not _HOST.match(host):
            raise ValueError(f"SIP URI {raw!r} has an invalid host {host!r}")
    port = None
    if port_text is not None:
        # isdigit() alone lets "²" and full-width "５０６０" through (int() then fails or silently converts)
        if not (port_text.isascii() and port_text.isdigit()) or not 0 < int(port_text) < 65536:
            raise ValueError(f"SIP URI {raw!r} has an invalid port {port_text!r} (ASCII digits, 1-65535)")
        port = int(port_text)
    return host, port
