"""The one pjsua2 Endpoint a worker process owns, driven by its own thread blocking in libHandleEvents.

Blocking (not polling) keeps measured times honest: a response is handled the moment it arrives.
pjsip's ioqueue waits in select() on the sockets it had when the wait began, so a connection opened
meanwhile (a TCP or TLS probe's, made when its request is sent) was not watched until the wait ran
out: up to 50 ms added to every TCP/TLS probe that opened a connection (measured: 50-57 ms for an
OPTIONS answered in 0.3 ms). ``wake`` ends the wait at once with a one-byte datagram to the worker's own
UDP transport, which pjsip drops unread (shorter than any SIP message).
Only the worker process imports this module.
"""

from __future__ import annotations

import ctypes
import gc
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pjsua2 as pj

from callmeter_tui.domain.siptrace import PROBE_HEADER, header_value

from .audio_tap import TapPool
from .call_slots import CallSlots
from .siplog import TraceCollector

TRANSPORT_TYPES = {
    "udp": pj.PJSIP_TRANSPORT_UDP,
    "tcp": pj.PJSIP_TRANSPORT_TCP,
    "tls": pj.PJSIP_TRANSPORT_TLS,
}
TRACE_LOG_LEVEL = 4  # pjsip logs whole SIP messages at level 4


def run_tag(order_id: int) -> str:
    """The X-Callmeter-Probe value of an order: ties replies, a cancel and the SIP trace to it."""
    return f"{os.getpid()}-{order_id}"


def probe_header(tag: str) -> pj.SipHeader:
    """Our correlation header: the tag of the probe run a request (and its Call-ID) belongs to."""
    hdr = pj.SipHeader()
    hdr.hName = PROBE_HEADER
    hdr.hValue = tag
    return hdr


class TraceWriter(pj.LogWriter):
    """pjsip's log writer: message dumps go to the collector with the wall-clock time (never raises)."""

    def __init__(self, collector: TraceCollector) -> None:
        super().__init__()
        self.collector = collector

    def write(self, entry: Any) -> None:
        try:
            self.collector.add(entry.msg, time.time_ns() // 1000)
        except Exception:
            pass


def media_config(acc_cfg: pj.AccountConfig, bind_address: str) -> None:
    """RTP on the bind address, any free port; no codec lock re-INVITE after answer."""
    acc_cfg.mediaConfig.transportConfig.boundAddress = bind_address
    acc_cfg.mediaConfig.transportConfig.port = 0
    acc_cfg.mediaConfig.lockCodecEnabled = False


Outcome = tuple[float, int, str, bool]  # (perf_counter at reply, status code, reason, received from the wire)


@dataclass
class Pending:
    on_reply: Callable[[Outcome], None]
    deadline: float  # perf_counter
    on_expire: Callable[[], None]


class ProbeAccount(pj.Account):
    """An account whose callbacks feed the waiting probe threads (callbacks must never raise)."""

    def __init__(self, owner: WorkerEndpoint) -> None:
        super().__init__()
        self.owner = owner
        self.reg_events: list[tuple[float, int, str, int, bool]] = []
        self.reg_cond = threading.Condition()

    def onSendRequest(self, prm: Any) -> None:
        try:
            now = time.perf_counter()
            tsx = prm.e.body.tsxState.tsx
            probe_id = header_value(tsx.lastTx.wholeMsg, PROBE_HEADER)
            received = prm.e.body.tsxState.type == pj.PJSIP_EVENT_RX_MSG  # else a local timeout/transport error
            self.owner.deliver(probe_id, (now, int(tsx.statusCode), str(tsx.statusText), received))
        except Exception as exc:
            self.owner.note(f"onSendRequest: {exc}")

    def onRegState(self, prm: Any) -> None:
        try:
            with self.reg_cond:
                received = bool(prm.rdata.wholeMsg)  # empty when pjsip itself gave up (timeout, transport error)
                self.reg_events.append(
                    (time.perf_counter(), int(prm.code), str(prm.reason), int(prm.expiration), received)
                )
                self.reg_cond.notify_all()
        except Exception as exc:
            self.owner.note(f"onRegState: {exc}")


TRIM_AFTER = 2000


def _malloc_trim() -> None:
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class WorkerEndpoint:
    """Owns the Endpoint, its transports, the shared account and the event thread."""

    def __init__(
        self, on_heartbeat: Callable[[], None], bind_address: str, traces: bool = True, heartbeat_s: float = 0.5
    ) -> None:
        self.bind_address = bind_address  # engine.sip_bind, passed by the pool on the worker's command line
        self.ep = pj.Endpoint()
        self.ep.libCreate()
        cfg = pj.EpConfig()
        cfg.uaConfig.threadCnt = 0  # our own thread drives events (see _pump)
        cfg.uaConfig.mainThreadOnly = False
        cfg.uaConfig.maxCalls = 4
        cfg.uaConfig.userAgent = "callmeter-tui"
        self.traces = TraceCollector()
        self._writer: TraceWriter | None = None
        if traces:  # engine.sip_traces, passed by the pool on the worker's command line
            self._writer = TraceWriter(self.traces)  # referenced for the process's life: pjsip calls it
            cfg.logConfig.writer = self._writer
            cfg.logConfig.decor = 0  # the bare message: the writer stamps the time itself
            cfg.logConfig.level = cfg.logConfig.consoleLevel = TRACE_LOG_LEVEL
            cfg.logConfig.msgLogging = True
        else:
            cfg.logConfig.level = 1
            cfg.logConfig.consoleLevel = 1
        cfg.medConfig.noVad = True
        self.ep.libInit(cfg)
        self.transports: dict[str, str] = {}
        tcfg = pj.TransportConfig()
        tcfg.port = 0
        tcfg.boundAddress = bind_address
        tcfg.tlsConfig.verifyServer = False
        for name, ttype in TRANSPORT_TYPES.items():
            tid = self.ep.transportCreate(ttype, tcfg)
            self.transports[name] = str(self.ep.transportGetInfo(tid).localName)
        self.traces.locals_by_transport = dict(self.transports)
        self._udp = _address(self.transports["udp"])
        self._waker = socket.socket(socket.AF_INET6 if ":" in self._udp[0] else socket.AF_INET, socket.SOCK_DGRAM)
        self.ep.audDevManager().setNullDev()
        self.ep.libStart()
        self.sink = self.ep.audDevManager().getPlaybackDevMedia()  # the null device: calls' audio ends here
        self.taps = TapPool(cfg.uaConfig.maxCalls, int(cfg.medConfig.clockRate))  # never destroyed: see recording.py
        self.codecs = tuple(c.codecId for c in self.ep.codecEnum2())
        self.codec_lock = threading.Lock()
        self._pending: dict[str, Pending] = {}
        self._pending_lock = threading.Lock()
        self.notes: list[str] = []
        self.call_slots = CallSlots(self.note)  # a call slot is reused only once its old Call object is gone
        self._players: dict[str, list[pj.AudioMediaPlayer]] = {}  # free players per file
        self._all_players: list[Any] = []  # every player and tone generator, referenced for the process's life
        self._tones: list[pj.ToneGenerator] = []  # free DTMF tone generators
        self.finished_since_trim = 0
        self._players_lock = threading.Lock()
        self._stopping = False
        self._on_heartbeat = on_heartbeat
        self._heartbeat_s = heartbeat_s
        acc_cfg = pj.AccountConfig()
        acc_cfg.idUri = f"sip:callmeter@{bind_address}"
        media_config(acc_cfg, bind_address)
        self.shared = ProbeAccount(self)
        self.shared.create(acc_cfg)
        self._thread = threading.Thread(target=self._pump, name="pj-events", daemon=True)
        self._thread.start()

    # -- events ---------------------------------------------------------------------------------
    def _pump(self) -> None:
        self.ep.libRegisterThread("pj-events")
        last = last_trim = 0.0
        while not self._stopping:
            self.ep.libHandleEvents(50)
            if self._pending:
                self._expire_due(time.perf_counter())
            now = time.monotonic()
            if now - last >= self._heartbeat_s:
                last = now
                self._on_heartbeat()
            if self.finished_since_trim >= TRIM_AFTER and now - last_trim >= 10.0:
                # After a burst, pjsip has freed its transactions (Timer K, 5 s) but glibc keeps the
                # pages: hand them back so a worker's memory follows its load.
                last_trim, self.finished_since_trim = now, 0
                _malloc_trim()

    def wake(self) -> None:
        """End the event thread's current wait now: call after sending, so a connection the send opened is
        watched from this moment (see the module's docstring)."""
        try:
            self._waker.sendto(b"\0", self._udp)
        except OSError:  # the wait then ends by itself, at most 50 ms later
            pass

    # Requests waiting for a reply hold no thread: the event thread delivers replies and deadlines.
    def expect(
        self, probe_id: str, on_reply: Callable[[Outcome], None], deadline: float, on_expire: Callable[[], None]
    ) -> None:
        with self._pending_lock:
            self._pending[probe_id] = Pending(on_reply, deadline, on_expire)

    def forget(self, probe_id: str) -> None:
        with self._pending_lock:
            self._pending.pop(probe_id, None)

    def give_up(self, probe_id: str) -> None:
        """Cancel a pending request now (its on_expire runs)."""
        with self._pending_lock:
            entry = self._pending.pop(probe_id, None)
        if entry is not None:
            entry.on_expire()

    def deliver(self, probe_id: str | None, outcome: Outcome) -> None:
        self.finished_since_trim += 1
        with self._pending_lock:
            entry = self._pending.pop(probe_id or "", None)
        if entry is not None:
            entry.on_reply(outcome)

    def _expire_due(self, now: float) -> None:
        with self._pending_lock:
            due = [k for k, v in self._pending.items() if v.deadline <= now]
            entries = [self._pending.pop(k) for k in due]
        for entry in entries:
            entry.on_expire()

    def player_for(self, path: str) -> pj.AudioMediaPlayer:
        """A looping player for ``path`` lent to one call, rewound to the start: every call sends the same
        audio from its first sample (a listening score then compares like with like). Give it back with
        ``return_player``.

        Players are never destroyed before the process ends: pjsua 2.15.1 may free a player's memory while
        the asynchronous conference bridge still uses it (pjproject #4526: a crash now and then). So there
        are at most as many per file as calls run at once.
        """
        with self._players_lock:
            free = self._players.setdefault(path, [])
            if free:
                player = free.pop()
            else:
                player = pj.AudioMediaPlayer()
                player.createPlayer(path, 0)  # 0 = loop
                self._all_players.append(player)
        try:
            player.setPos(0)
        except pj.Error:
            pass
        return player

    def return_player(self, path: str, player: pj.AudioMediaPlayer) -> None:
        with self._players_lock:
            self._players.setdefault(path, []).append(player)

    def tone_generator(self) -> pj.ToneGenerator:
        """A DTMF tone generator lent to one call (never destroyed, like players); ``return_tones`` gives it back."""
        with self._players_lock:
            if self._tones:
                return self._tones.pop()
            tones = pj.ToneGenerator()
            tones.createToneGenerator()
            self._all_players.append(tones)
            return tones

    def return_tones(self, tones: pj.ToneGenerator) -> None:
        with self._players_lock:
            self._tones.append(tones)

    def note(self, text: str) -> None:
        self.notes.append(text)
        del self.notes[:-20]

    def codec_id(self, codec: str) -> str | None:
        """The endpoint's codec id for a probe's codec name ("PCMU", "g722", "speex/16000")."""
        want = codec.strip().lower()
        for cid in self.codecs:
            if cid.lower() == want or cid.lower().startswith(want + "/"):
                return cid
        return None

    def prefer_codec(self, codec_id: str) -> None:
        """Offer only ``codec_id``. Caller holds codec_lock until the INVITE's SDP is built."""
        for cid in self.codecs:
            self.ep.codecSetPriority(cid, 255 if cid == codec_id else 0)

    # -- shutdown -------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Hang up, pump, stop the pump, shut accounts down, drop refs, collect, then libDestroy (the safe order).

        The event pump stops before the last account goes: a request arriving with no account left made
        pjsua2 look up an invalid account (pjsua_acc_get_user_data's assertion aborted the worker).
        Players stay referenced: the process ends with os._exit right after libDestroy, so their
        destructors never run against a destroyed library."""
        try:
            self.ep.hangupAllCalls()
        except pj.Error:
            pass
        time.sleep(0.2)
        self._stopping = True
        self._thread.join(timeout=2)
        try:
            self.shared.shutdown()
        except pj.Error:
            pass
        del self.shared
        gc.collect()
        # Calls are hung up and accounts unregistered above; NO_RX_MSG skips pjsua's blind 1 s wait.
        self.ep.libDestroy(pj.PJSUA_DESTROY_NO_RX_MSG)


def _address(local_name: str) -> tuple[str, int]:
    """("127.0.0.1", 5060) from pjsip's "127.0.0.1:5060" (or "[::1]:5060")."""
    host, _, port = local_name.rpartition(":")
    return host.strip("[]"), int(port)
