"""Checks done in the main process before an order reaches pjsip: a malformed URI or an unknown host
fails at once with a one-line reason naming the field, instead of an opaque pjsip status."""

from __future__ import annotations

import asyncio
import ipaddress
import socket

from callmeter_tui.domain.probe import ProbeKind, ProbeSpec
from callmeter_tui.domain.sipuri import SipUri, parse_sip_uri

DEFAULT_PORTS = {"udp": 5060, "tcp": 5060, "tls": 5061}


def check_spec(spec: ProbeSpec) -> tuple[SipUri, SipUri | None]:
    """Parse target (and outbound proxy). Raises ValueError("target: ...") with one line."""
    try:
        kind = ProbeKind(spec.kind)
    except ValueError:
        raise ValueError(f"kind: unknown probe kind {spec.kind!r}") from None
    try:
        uri = parse_sip_uri(spec.target)
    except ValueError as exc:
        raise ValueError(f"target: {exc}") from None
    proxy = None
    if spec.outbound_proxy and kind.places_call:
        try:
            proxy = parse_sip_uri(spec.outbound_proxy)
        except ValueError as exc:
            raise ValueError(f"outbound_proxy: {exc}") from None
    if kind.registers and not spec.username:
        raise ValueError("username: a sip_register probe needs a username")
    if not spec.timeout_s or spec.timeout_s <= 0:
        raise ValueError(f"timeout_s: must be above 0, got {spec.timeout_s!r}")
    return uri, proxy


async def resolve(uri: SipUri, field: str, timeout_s: float) -> str:
    """The host's first address; fails fast on a host that does not resolve (pjsip would say only 70018)."""
    try:
        return str(ipaddress.ip_address(uri.host.strip("[]")))
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    port = uri.port or DEFAULT_PORTS[uri.transport]
    try:
        infos = await asyncio.wait_for(loop.getaddrinfo(uri.host, port, type=socket.SOCK_DGRAM), timeout_s)
    except TimeoutError:
        raise ValueError(f"{field}: resolving host {uri.host!r} took longer than {timeout_s:g} s") from None
    except (socket.gaierror, OSError) as exc:
        reason = exc.strerror if getattr(exc, "strerror", None) else str(exc)
        raise ValueError(f"{field}: cannot resolve host {uri.host!r} ({reason})") from None
    if not infos:
        raise ValueError(f"{field}: cannot resolve host {uri.host!r} (no address)")
    return str(infos[0][4][0])


class _Unreachable(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.refused = asyncio.get_running_loop().create_future()

    def error_received(self, exc: Exception) -> None:
        if isinstance(exc, ConnectionRefusedError) and not self.refused.done():
            self.refused.set_result(True)


async def udp_port_unreachable(uri: SipUri, within_s: float) -> bool:
    """True when the target's UDP port answers with ICMP port-unreachable.

    pjsip gets no signal for a dead UDP port and would wait for its transaction timer; a connected
    UDP socket of our own sees the ICMP error at once. Where the shared watcher works (Linux, icmpwatch.py)
    the prober uses that instead of one socket per run. It sends a SIP keep-alive (CRLF CRLF, RFC 5626),
    which a live SIP server ignores, twice in case the first ICMP reply is rate-limited or lost.
    """
    loop = asyncio.get_running_loop()
    port = uri.port or DEFAULT_PORTS["udp"]
    try:
        transport, proto = await loop.create_datagram_endpoint(_Unreachable, remote_addr=(uri.host, port))
    except OSError:
        return False
    try:
        for wait in (0.5, max(within_s - 0.5, 0.0)):
            transport.sendto(b"\r\n\r\n")
            try:
                return await asyncio.wait_for(asyncio.shield(proto.refused), wait)
            except TimeoutError:
                continue
        return False
    finally:
        transport.close()
