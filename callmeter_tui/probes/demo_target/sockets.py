"""The media sockets of one call: an RTP/RTCP port pair, read with the kernel's arrival time of each datagram.

The time at which our event loop gets round to a datagram is not when it arrived: on a busy host the loop
runs milliseconds late. The kernel stamps every datagram as it arrives (``SO_TIMESTAMPNS``), so what the
caller sent is judged, and what we send back is scheduled, from that time, not from our own lateness.
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Iterator

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux value; Python does not export it
_ANCILLARY = socket.CMSG_SPACE(16)


def bind_rtp_pair(host: str) -> tuple[socket.socket, socket.socket]:
    """Two non-blocking UDP sockets on an even port and the next one (RTP, RTCP), as RFC 3550 expects,
    both asking the kernel for arrival times."""
    for _ in range(50):
        rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rtp.bind((host, 0))
        port = rtp.getsockname()[1]
        if port % 2 == 0 and port < 65535:
            rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                rtcp.bind((host, port + 1))
            except OSError:
                rtcp.close()
                rtp.close()
                continue
            for sock in (rtp, rtcp):
                sock.setblocking(False)
                _stamp_arrivals(sock)
            return rtp, rtcp
        rtp.close()
    raise OSError(f"no free RTP/RTCP port pair on {host}")


def _stamp_arrivals(sock: socket.socket) -> None:
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    except OSError:  # no kernel stamps: arrival is then the time we read the datagram
        pass


def arrival_time(ancillary: list[tuple[int, int, bytes]]) -> float:
    """``time.monotonic()`` at which the kernel received the datagram (now, if it gave no stamp)."""
    now = time.monotonic()
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= 16:
            sec, nsec = struct.unpack("qq", data[:16])
            return now - max(0.0, time.time() - (sec + nsec / 1e9))
    return now


def read_stamped(sock: socket.socket) -> Iterator[tuple[bytes, tuple[str, int], float]]:
    """Every datagram waiting on ``sock`` as (data, source, arrival time). An ICMP error for an earlier
    send is skipped; any other socket error is raised."""
    while True:
        try:
            data, ancillary, _, addr = sock.recvmsg(2048, _ANCILLARY)
        except (BlockingIOError, InterruptedError):
            return
        except ConnectionRefusedError:  # ICMP port unreachable for an earlier send: one-shot, read on
            continue
        yield data, addr, arrival_time(ancillary)
