"""One call's media at the demo target: an impaired RTP echo plus honest RTCP reports.

RTP: every packet from the caller is echoed back to where it came from (symmetric RTP) with our
own SSRC, the caller's payload and timestamp (plus a fixed offset), and sequence numbers given
in send order. Loss, delay and jitter (see ``impair``) are applied to this return path only.
A dropped packet still consumes a sequence number at the moment it would have been sent, so
the caller counts exactly the packets we dropped as lost. Delay and jitter count from the
kernel's arrival time of the caller's packet (``sockets``), not from when our loop got to it.

An echo hands the caller's own pacing back: a caller that sends late gets its packets back late,
and on a busy host we send late too. ``MediaStats`` keeps both apart from what we applied on purpose:
``inbound_jitter_ms`` is the caller's pacing as it reached us (kernel arrival times), ``lag_jitter_ms``
how unevenly our own sends ran late (send time minus due time). Host timing, not impairment.

RTCP: on each caller SR we answer with an SR whose report block carries LSR/DLSR and the
RFC 3550 loss and jitter of what *we* received
(the caller->target path is not impaired). Reports go out through the same ``delay_ms`` as RTP
but without jitter, so the caller's RTCP round-trip time is ``delay_ms`` plus loopback time.
A report also goes out every 5 s when no SR came, so the caller always gets a far-end view.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from .impair import LossPattern, Rfc3550Jitter, spread_for
from .prompt import Prompt, payload
from .sockets import bind_rtp_pair, read_stamped

log = logging.getLogger("callmeter.demo_target")

NTP_EPOCH_OFFSET = 2208988800
REPORT_INTERVAL_S = 5.0


class Impairment(Protocol):
    """What the media reads live for every packet (the DemoTarget's settings)."""

    loss_pct: float
    jitter_ms: float
    delay_ms: float
    mute: bool  # echo RTP carrying silence (one-way audio)
    no_rtp: bool  # send no RTP at all
    prompt: Prompt | None  # play this instead of echoing


@dataclass
class MediaStats:
    """Ground truth for one call, as the target applied it."""

    call_id: str
    packets_in: int = 0
    packets_out: int = 0
    packets_dropped: int = 0
    rtcp_in: int = 0
    rtcp_out: int = 0
    applied_jitter_ms: float = 0.0  # mean RFC 3550 jitter of what we emitted (pjmedia's "mean")
    inbound_jitter_ms: float = 0.0  # the same for the caller's packets as they arrived: the caller's own pacing
    lag_jitter_ms: float = 0.0  # the same for our lateness (send time minus due time): our own scheduling

    @property
    def loss_pct(self) -> float:
        sent = self.packets_out + self.packets_dropped
        return 100.0 * self.packets_dropped / sent if sent else 0.0


class MediaSession:
    """RTP echo and RTCP for one call; ``impairment`` is read for every packet."""

    def __init__(self, impairment: Impairment, stats: MediaStats, seed: int, host: str) -> None:
        self._imp = impairment
        self.stats = stats
        self._rng = random.Random(seed)
        self._loss = LossPattern(random.Random(seed + 1))
        self.host = host
        self.ssrc = self._rng.getrandbits(32)
        self._seq = self._rng.getrandbits(16)
        self._ts_offset = self._rng.getrandbits(32)
        self._rtp_sock: socket.socket | None = None
        self._rtcp_sock: socket.socket | None = None
        self.rtp_port = 0
        self.rtcp_port = 0
        self.remote_rtp: tuple[str, int] | None = None
        self.remote_rtcp: tuple[str, int] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._timers: set[asyncio.TimerHandle] = set()
        self._emitted_jitter = Rfc3550Jitter()
        self._arrival_jitter = Rfc3550Jitter()
        self._lag_jitter = Rfc3550Jitter()
        # Inbound (caller -> target) stream state for our report block (RFC 3550 A.1/A.3/A.8).
        self._peer_ssrc = 0
        self._base_seq = -1
        self._max_seq = 0
        self._cycles = 0
        self._received = 0
        self._expected_prior = 0
        self._received_prior = 0
        self._in_jitter = 0.0  # in samples
        self._in_transit: float | None = None
        self._ptime_ms = 20.0
        self._prompt = impairment.prompt.cursor() if impairment.prompt is not None else None
        self._first_ts: int | None = None
        self._last_ts_out = 0
        self._last_ts_out_at = 0.0
        self._octets_out = 0
        self._lsr = 0
        self._lsr_at = 0.0
        self._last_report_at = 0.0
        self.last_activity = time.monotonic()

    async def open(self) -> None:
        """Bind the port pair and read both sockets by hand, with the kernel's arrival times: an SR that
        waited while our loop was busy must not shorten DLSR (that lag would show as network delay in the
        caller's RTT), and an RTP packet that waited must not be delayed or jittered by our lag."""
        self._loop = asyncio.get_running_loop()
        self._rtp_sock, self._rtcp_sock = bind_rtp_pair(self.host)
        self.rtp_port, self.rtcp_port = self._rtp_sock.getsockname()[1], self._rtcp_sock.getsockname()[1]
        self._loop.add_reader(self._rtp_sock.fileno(), self._read, self._rtp_sock, self._on_rtp)
        self._loop.add_reader(self._rtcp_sock.fileno(), self._read, self._rtcp_sock, self._on_rtcp)

    def close(self) -> None:
        self._closed = True
        for h in self._timers:
            h.cancel()
        self._timers.clear()
        for sock in (self._rtp_sock, self._rtcp_sock):
            if sock is not None:
                if self._loop is not None:
                    self._loop.remove_reader(sock.fileno())
                sock.close()
        self._rtp_sock = self._rtcp_sock = None

    def _read(self, sock: socket.socket, handle: Callable[[bytes, tuple[str, int], float], None]) -> None:
        try:
            for data, addr, arrived in read_stamped(sock):
                try:
                    handle(data, addr, arrived)
                except Exception as exc:  # a bad packet must never stop the echo
                    log.warning("demo target: media packet from %s:%s ignored: %s", addr[0], addr[1], exc)
        except OSError as exc:
            log.debug("demo target: media socket error: %s", exc)

    # --- RTP -------------------------------------------------------------------------------

    def _on_rtp(self, data: bytes, addr: tuple[str, int], arrived: float) -> None:
        if self._closed or len(data) < 12 or data[0] >> 6 != 2:
            return
        self.last_activity = arrived
        seq, ts, ssrc = struct.unpack_from("!HII", data, 2)
        self.remote_rtp = addr
        self._track_inbound(seq, ts, ssrc, arrived)
        self._arrival_jitter.update(arrived * 1000.0, ts / 8.0)
        self.stats.inbound_jitter_ms = self._arrival_jitter.mean
        self.stats.packets_in += 1
        if self._imp.no_rtp:
            return
        data = payload(data, bool(self._imp.mute), self._prompt)
        drop = self._loss.drop(float(self._imp.loss_pct))
        jitter = float(self._imp.jitter_ms)
        extra_ms = max(0.0, float(self._imp.delay_ms))
        if jitter > 0:
            extra_ms += self._rng.uniform(0.0, spread_for(jitter, self._ptime_ms))
        due = arrived + extra_ms / 1000.0
        if extra_ms <= 0:
            self._emit(data, drop, due)
        else:  # due from the arrival time; through the timer queue even when overdue, so order is kept
            self._later(max(0.0, due - time.monotonic()), self._emit, data, drop, due)

    def _emit(self, data: bytes, drop: bool, due: float) -> None:
        if self._closed:
            return
        seq = self._seq
        self._seq = (self._seq + 1) & 0xFFFF
        if drop:
            self.stats.packets_dropped += 1
            return
        ts = (struct.unpack_from("!I", data, 4)[0] + self._ts_offset) & 0xFFFFFFFF
        out = data[:2] + struct.pack("!HII", seq, ts, self.ssrc) + data[12:]
        if self._rtp_sock is not None and self.remote_rtp is not None:
            try:
                self._rtp_sock.sendto(out, self.remote_rtp)
            except OSError as exc:  # e.g. the caller already closed its port
                log.debug("demo target: RTP to %s:%s not sent: %s", *self.remote_rtp, exc)
        now = time.monotonic()
        self.stats.packets_out += 1
        self._octets_out += max(0, len(data) - 12)
        self._last_ts_out, self._last_ts_out_at = ts, now
        self._emitted_jitter.update(now * 1000.0, ts / 8.0)
        self.stats.applied_jitter_ms = self._emitted_jitter.mean
        self._lag_jitter.update(now * 1000.0, due * 1000.0)
        self.stats.lag_jitter_ms = self._lag_jitter.mean

    def _track_inbound(self, seq: int, ts: int, ssrc: int, now: float) -> None:
        if self._base_seq < 0 or ssrc != self._peer_ssrc:
            self._peer_ssrc, self._base_seq, self._max_seq, self._cycles = ssrc, seq, seq, 0
            self._received = self._expected_prior = self._received_prior = 0
            self._in_transit, self._in_jitter, self._first_ts = None, 0.0, ts
        else:
            delta = (seq - self._max_seq) & 0xFFFF
            if 0 < delta < 3000:
                if seq < self._max_seq:
                    self._cycles += 1 << 16
                self._max_seq = seq
            if self._first_ts is not None and self._received == 1:
                step = (ts - self._first_ts) & 0xFFFFFFFF
                if 0 < step <= 8000:
                    self._ptime_ms = step / 8.0
        self._received += 1
        transit = now * 8000.0 - ts
        if self._in_transit is not None:
            d = abs(transit - self._in_transit)
            if d < 8000 * 10:  # ignore wrap-around and restarts
                self._in_jitter += (d - self._in_jitter) / 16.0
        self._in_transit = transit

    # --- RTCP ------------------------------------------------------------------------------

    def _on_rtcp(self, data: bytes, addr: tuple[str, int], arrived: float) -> None:
        if self._closed:
            return
        self.remote_rtcp = addr
        self.last_activity = time.monotonic()
        self.stats.rtcp_in += 1
        pos = 0
        saw_sr = False
        while pos + 8 <= len(data):
            first, pt, length = struct.unpack_from("!BBH", data, pos)
            if first >> 6 != 2:
                break
            if pt == 200 and pos + 28 <= len(data):  # SR: keep the middle 32 bits of its NTP time
                ntp_sec, ntp_frac = struct.unpack_from("!II", data, pos + 8)
                self._lsr = ((ntp_sec & 0xFFFF) << 16) | (ntp_frac >> 16)
                self._lsr_at = arrived
                saw_sr = True
            pos += (length + 1) * 4
        if saw_sr:
            self.send_report()

    def report_due(self, now: float) -> bool:
        return self._received > 0 and now - self._last_report_at >= REPORT_INTERVAL_S

    def send_report(self) -> None:
        """Send a report ``delay_ms`` from now. It is built when it leaves, with DLSR = time held
        minus the delay we add on purpose, so our own scheduling lag is not mistaken for network
        delay: the caller's RTT is the configured delay plus the real loopback time."""
        if self._closed or self._rtcp_sock is None:
            return
        dest = self.remote_rtcp
        if dest is None and self.remote_rtp is not None:
            dest = (self.remote_rtp[0], self.remote_rtp[1] + 1)
        if dest is None:
            return
        self._last_report_at = time.monotonic()
        delay_s = max(0.0, float(self._imp.delay_ms)) / 1000.0
        last_sr = (self._lsr, self._lsr_at + delay_s)  # the SR this report answers, as of now
        if delay_s:
            self._later(delay_s, self._send_rtcp, dest, last_sr)
        else:
            self._send_rtcp(dest, last_sr)

    def _send_rtcp(self, dest: tuple[str, int], last_sr: tuple[int, float]) -> None:
        if not self._closed and self._rtcp_sock is not None:
            try:
                self._rtcp_sock.sendto(self._build_report(time.monotonic(), last_sr), dest)
                self.stats.rtcp_out += 1
            except OSError as exc:  # e.g. the caller already closed its port
                log.debug("demo target: RTCP to %s:%s not sent: %s", dest[0], dest[1], exc)

    def _report_block(self, now: float, last_sr: tuple[int, float]) -> bytes:
        ext_max = self._cycles + self._max_seq
        expected = ext_max - self._base_seq + 1
        lost = max(0, expected - self._received)
        exp_int = expected - self._expected_prior
        rec_int = self._received - self._received_prior
        self._expected_prior, self._received_prior = expected, self._received
        lost_int = exp_int - rec_int
        fraction = (lost_int << 8) // exp_int if exp_int > 0 and lost_int > 0 else 0
        lsr, held_since = last_sr  # held_since: SR arrival plus the delay we add on purpose
        dlsr = max(1, int((now - held_since) * 65536)) if lsr else 0  # 0 would make pjmedia skip the RTT
        return struct.pack(
            "!IB3sIIII",
            self._peer_ssrc,
            min(fraction, 255),
            min(lost, 0x7FFFFF).to_bytes(3, "big"),
            ext_max & 0xFFFFFFFF,
            int(self._in_jitter) & 0xFFFFFFFF,
            lsr,
            dlsr,
        )

    def _build_report(self, now: float, last_sr: tuple[int, float]) -> bytes:
        block = self._report_block(now, last_sr)
        if self.stats.packets_out:
            wall = time.time()
            ntp_sec = int(wall) + NTP_EPOCH_OFFSET
            ntp_frac = int((wall % 1.0) * (1 << 32)) & 0xFFFFFFFF
            rtp_ts = (self._last_ts_out + int((now - self._last_ts_out_at) * 8000)) & 0xFFFFFFFF
            head = struct.pack(
                "!BBHIIIIII",
                0x81,
                200,
                12,
                self.ssrc,
                ntp_sec,
                ntp_frac,
                rtp_ts,
                self.stats.packets_out & 0xFFFFFFFF,
                self._octets_out & 0xFFFFFFFF,
            )
        else:
            head = struct.pack("!BBHI", 0x81, 201, 7, self.ssrc)
        cname = b"demo@" + self.host.encode()
        chunk = struct.pack("!IBB", self.ssrc, 1, len(cname)) + cname + b"\x00"
        chunk += b"\x00" * (-len(chunk) % 4)
        sdes = struct.pack("!BBH", 0x81, 202, len(chunk) // 4) + chunk
        return head + block + sdes

    def _later(self, delay_s: float, fn, *args) -> None:
        assert self._loop is not None
        handle: asyncio.TimerHandle

        def run() -> None:
            self._timers.discard(handle)
            fn(*args)

        handle = self._loop.call_later(delay_s, run)
        self._timers.add(handle)
