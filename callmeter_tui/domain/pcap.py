"""A run's SIP trace as a pcap file: one synthesized UDP/IP frame per message, at the message's real time.

Wireshark and tshark decode the frames as SIP, so a trace can leave the console for the usual tools.
Messages that went over TCP or TLS are written as UDP too (the SIP text is what matters; TLS is shown
decrypted). Link type RAW (101): each frame starts with its IPv4 or IPv6 header. Pure: returns bytes.
"""

from __future__ import annotations

import ipaddress
import struct

from .siptrace import Direction, SipMessage, SipTrace

LINKTYPE_RAW = 101
_UNKNOWN_V4 = ipaddress.IPv4Address("192.0.2.1")  # TEST-NET-1 stands in for an address we cannot parse


def _endpoint(hostport: str) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]:
    host, _, port = hostport.rpartition(":")
    try:
        return ipaddress.ip_address(host.strip("[]")), int(port)
    except ValueError:
        return _UNKNOWN_V4, int(port) if port.isdigit() else 5060


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(int(word) for word in struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _frame(msg: SipMessage) -> bytes:
    local, remote = _endpoint(msg.local), _endpoint(msg.remote)
    (src, sport), (dst, dport) = (local, remote) if msg.direction is Direction.TX else (remote, local)
    if src.version != dst.version:  # a v4 prober talking to a v6 peer cannot happen; keep the frame valid anyway
        src = ipaddress.IPv6Address(f"::ffff:{src}") if src.version == 4 else src
        dst = ipaddress.IPv6Address(f"::ffff:{dst}") if dst.version == 4 else dst
    payload = msg.text.encode()
    length = 8 + len(payload)
    if src.version == 4:
        pseudo = src.packed + dst.packed + struct.pack("!BBH", 0, 17, length)
    else:
        pseudo = src.packed + dst.packed + struct.pack("!IxxxB", length, 17)
    udp = struct.pack("!HHHH", sport, dport, length, 0) + payload
    udp = udp[:6] + struct.pack("!H", _checksum(pseudo + udp) or 0xFFFF) + udp[8:]
    if src.version == 4:
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + length, 0, 0x4000, 64, 17, 0, src.packed, dst.packed)
        ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
    else:
        ip = struct.pack("!IHBB16s16s", 6 << 28, length, 17, 64, src.packed, dst.packed)
    return ip + udp


def pcap_bytes(trace: SipTrace) -> bytes:
    """The classic pcap format (microsecond timestamps), one record per message."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, LINKTYPE_RAW)]
    for msg in trace.messages:
        frame = _frame(msg)
        sec, usec = divmod(msg.at_us, 1_000_000)
        out.append(struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame)
    return b"".join(out)
