"""One shared UDP socket per address family that spots ICMP port-unreachable for every UDP probe of the process.

Why: pjsip gets no signal for a dead UDP port and would wait for its transaction timer, so each UDP run sends a
SIP keep-alive (CRLF CRLF, RFC 5626, which a live SIP server ignores) from a socket of our own and watches for
the ICMP error. A connected socket per run cost about 3 ms of system calls in the main process (create,
connect, register, close): the engine's main cost at 10,000 probes. On Linux an unconnected socket with
IP_RECVERR queues every ICMP error together with the destination it was about, so one socket serves all runs.
Elsewhere ``IcmpWatcher.watch`` returns None and the caller uses one connected socket per run (precheck.py).

A watch sends the keep-alive at once and once more after ``RESEND_S`` (in case the first ICMP reply was
rate-limited or lost), and its future turns True when an ICMP port-unreachable names its (address, port).
"""

from __future__ import annotations

import asyncio
import errno
import socket
import struct
import sys

KEEPALIVE = b"\r\n\r\n"
RESEND_S = 0.5
_SOL_IP, _IP_RECVERR = 0, getattr(socket, "IP_RECVERR", 11)
_SOL_IPV6, _IPV6_RECVERR = 41, getattr(socket, "IPV6_RECVERR", 25)
_EXTENDED_ERR = struct.Struct("=IBBBBII")  # struct sock_extended_err: ee_errno comes first

Key = tuple[str, int]


class Watch:
    """One run's watch: ``refused`` turns True on ICMP port-unreachable; ``close()`` when the run is over."""

    __slots__ = ("_resend", "_watcher", "key", "refused")

    def __init__(self, watcher: IcmpWatcher, key: Key, refused: asyncio.Future[bool]) -> None:
        self._watcher, self.key, self.refused = watcher, key, refused
        self._resend: asyncio.TimerHandle | None = None

    def close(self) -> None:
        if self._resend is not None:
            self._resend.cancel()
            self._resend = None
        self._watcher._forget(self)
        if not self.refused.done():
            self.refused.cancel()


class IcmpWatcher:
    """``watch(ip, port)`` per UDP run; ``close()`` when the prober stops."""

    def __init__(self) -> None:
        self._socks: dict[int, socket.socket | None] = {}  # family -> socket (None: this family cannot watch)
        self._waiting: dict[Key, set[Watch]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    def watch(self, ip: str, port: int) -> Watch | None:
        """Start watching ``ip``:``port`` (an address, not a name), or None when this platform cannot share."""
        if self._loop is not None and self._loop is not asyncio.get_running_loop():
            self.close()  # the prober moved to another event loop: the sockets were registered with the old one
        family = socket.AF_INET6 if ":" in ip else socket.AF_INET
        sock = self._socket(family)
        if sock is None:
            return None
        loop = asyncio.get_running_loop()
        key = (ip, port)
        w = Watch(self, key, loop.create_future())
        self._waiting.setdefault(key, set()).add(w)
        self._send(sock, key)
        w._resend = loop.call_later(RESEND_S, self._send, sock, key)
        return w

    def close(self) -> None:
        for w in [w for ws in self._waiting.values() for w in ws]:
            w.close()
        for sock in self._socks.values():
            if sock is not None:
                if self._loop is not None and not self._loop.is_closed():
                    self._loop.remove_reader(sock.fileno())
                sock.close()
        self._socks = {}
        self._loop = None

    # ---- internals ---------------------------------------------------------------------------------

    def _socket(self, family: int) -> socket.socket | None:
        if family in self._socks:
            return self._socks[family]
        sock = None
        if sys.platform == "linux":
            sock = socket.socket(family, socket.SOCK_DGRAM)
            try:
                if family == socket.AF_INET6:
                    sock.setsockopt(_SOL_IPV6, _IPV6_RECVERR, 1)
                else:
                    sock.setsockopt(_SOL_IP, _IP_RECVERR, 1)
                sock.setblocking(False)
                self._loop = asyncio.get_running_loop()
                self._loop.add_reader(sock.fileno(), self._on_ready, sock)
            except OSError:
                sock.close()
                sock = None
        self._socks[family] = sock
        return sock

    def _forget(self, w: Watch) -> None:
        ws = self._waiting.get(w.key)
        if ws is not None:
            ws.discard(w)
            if not ws:
                del self._waiting[w.key]

    def _send(self, sock: socket.socket, key: Key) -> None:
        for _ in range(2):  # a pending error of another destination fails one send (and is read from the queue)
            try:
                sock.sendto(KEEPALIVE, key)
                return
            except ConnectionRefusedError:
                continue
            except OSError:
                return  # e.g. no route: pjsip reports it in its own words

    def _on_ready(self, sock: socket.socket) -> None:
        """Drain the error queue (ICMP errors with their destination) and any datagram a target sent back."""
        for _ in range(256):
            try:
                _data, anc, _flags, addr = sock.recvmsg(1, 512, socket.MSG_ERRQUEUE)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                break
            if _refused(anc):
                self._refuse((str(addr[0]), int(addr[1])))
        for _ in range(256):
            try:
                sock.recv(2048)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:  # the socket's pending error (ECONNREFUSED): already read from the queue above
                continue

    def _refuse(self, key: Key) -> None:
        for w in self._waiting.get(key, ()):
            if not w.refused.done():
                w.refused.set_result(True)


def _refused(ancillary: list[tuple[int, int, bytes]]) -> bool:
    """True when the queued error is ECONNREFUSED (ICMP port unreachable)."""
    for level, kind, data in ancillary:
        if (level, kind) in ((_SOL_IP, _IP_RECVERR), (_SOL_IPV6, _IPV6_RECVERR)) and len(data) >= _EXTENDED_ERR.size:
            return bool(_EXTENDED_ERR.unpack_from(data)[0] == errno.ECONNREFUSED)
    return False
