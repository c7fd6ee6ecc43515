"""Call probe (runs inside a worker): INVITE, hold the call playing a WAV, read RTP/RTCP stats, hang up.

Stats are read before hangup because pjsua drops them once the call is DISCONNECTED. What comes back
is measured from the call's conference port level while the call is held and recorded through a tap
port (recording.py): destroying a WAV player or recorder in pjsua 2.15.1 races the asynchronous
conference bridge and crashes now and then (pjproject issue #4526, reproduced here as SIGSEGV), so
players and taps are per worker and never destroyed, and no pjsua recorder is used. The Call object
itself is destroyed right after hangup, before the verdict (call_verdict.py): call_slots.py says why; and
so is the call's own account, if it has one: accounts.py says why.
"""

from __future__ import annotations

import os
import threading
import time
import traceback
from typing import Any

import pjsua2 as pj

from callmeter_tui.domain.results import ProbeResult

from .accounts import let_go
from .audio_tap import Tap
from .call_stats import read_stream
from .call_verdict import Held, conclude
from .dtmf import dtmf_at, send_dtmf, stop_tones
from .endpoint import ProbeAccount, WorkerEndpoint, probe_header, run_tag
from .outcome import Clock, one_line, pj_error_text, sip_failure_text, transport_failure
from .phase import connect_at_phase
from .protocol import ProbeOrder
from .signal import REFERENCE_SPEECH
from .sip_register import account_config

HANGUP_WAIT_S = 3.0
PJ_ETOOMANY = 70010  # pjsua has no free call slot (PJ_ERRNO_START_STATUS + 10)
SLOT_RETRY_S = 0.05


class ProbeCall(pj.Call):
    """Records call-state times (perf counter) and connects the worker's player when media comes up."""

    def __init__(self, acc: pj.Account, wep: WorkerEndpoint, audio_file: str) -> None:
        super().__init__(acc)
        self.wep = wep
        self.audio_file = audio_file
        self.cond = threading.Condition()
        self.t_ring: float | None = None
        self.t_answer: float | None = None
        self.t_confirmed: float | None = None
        self.disconnected = False
        self.final_received = True
        self.last_code = 0
        self.last_reason = ""
        self.media_ready = False
        self.media_error: str | None = None
        self.player: pj.AudioMediaPlayer | None = None
        self.audio: pj.AudioMedia | None = None
        self.tap: Tap | None = None
        self.placed = False  # makeCall succeeded: the call has a pjsua call id
        self.received = b""  # the far end's audio, once the tap is detached
        self.start_pos: int | None = None  # where the looping player was when this call's audio began
        self.dtmf_received: list[str] = []  # digits the far end sent us (RFC 4733 events or SIP INFO)
        self.tones: pj.ToneGenerator | None = None  # in-band DTMF: lent by the worker while the digits play

    def onCallState(self, prm: Any) -> None:
        try:
            now = time.perf_counter()
            ci = self.getInfo()
            if ci.state == pj.PJSIP_INV_STATE_DISCONNECTED:
                self.wep.call_slots.retiring(self)  # before pjsua frees the slot (call_slots.py)
            with self.cond:
                self.last_code, self.last_reason = int(ci.lastStatusCode), str(ci.lastReason)
                if ci.state == pj.PJSIP_INV_STATE_EARLY and self.last_code in (180, 183) and self.t_ring is None:
                    self.t_ring = now
                if ci.state in (pj.PJSIP_INV_STATE_CONNECTING, pj.PJSIP_INV_STATE_CONFIRMED) and self.t_answer is None:
                    self.t_answer = now
                if ci.state == pj.PJSIP_INV_STATE_CONFIRMED:
                    self.t_confirmed = now
                if ci.state == pj.PJSIP_INV_STATE_DISCONNECTED:
                    self.disconnected = True
                    try:
                        body = prm.e.body.tsxState
                        self.final_received = not (
                            prm.e.type == pj.PJSIP_EVENT_TSX_STATE and body.type != pj.PJSIP_EVENT_RX_MSG
                        )
                    except Exception:
                        pass
                self.cond.notify_all()
        except Exception as exc:
            self.wep.note(f"onCallState: {exc}")

    def onCallMediaState(self, prm: Any) -> None:
        try:
            ci = self.getInfo()  # keep the CallInfo alive before touching .media
            for mi in ci.media:
                if mi.type != pj.PJMEDIA_TYPE_AUDIO or mi.status != pj.PJSUA_CALL_MEDIA_ACTIVE:
                    continue
                aud = self.getAudioMedia(mi.index)
                if self.player is None:  # a re-INVITE reconnects the call's own player
                    self.player = self.wep.player_for(self.audio_file)
                self.player.startTransmit(aud)
                # A listener makes the bridge pull the call's audio: that drains the jitter buffer at
                # the real playout pace (its delay/discard stats mean something) and measures levels.
                aud.startTransmit(self.wep.sink)
                self.tap = self.wep.taps.acquire()
                if self.tap is not None:
                    self.start_pos = _record(aud, self.tap, self.player)
                self.audio = aud
                with self.cond:
                    self.media_ready = True
                    self.cond.notify_all()
                break
        except Exception as exc:
            self.media_error = one_line(pj_error_text(exc) if isinstance(exc, pj.Error) else str(exc))
            self.wep.note(f"onCallMediaState: {exc}")

    def onDtmfDigit(self, prm: Any) -> None:
        try:
            self.dtmf_received.append(str(prm.digit))
        except Exception as exc:
            self.wep.note(f"onDtmfDigit: {exc}")

    def wait(self, pred: Any, deadline: float, cancel: threading.Event) -> bool:
        with self.cond:
            while not pred():
                left = deadline - time.perf_counter()
                if left <= 0 or cancel.is_set():
                    return bool(pred())
                self.cond.wait(min(left, 0.05))
            return True


def _record(aud: pj.AudioMedia, tap: Tap, player: pj.AudioMediaPlayer) -> int | None:
    """Record the call's received audio with ``tap``; the player's position at that moment (see phase)."""

    def connect() -> None:
        tap.begin()
        aud.startTransmit(tap)

    return connect_at_phase(lambda: _player_pos(player), connect, lambda: aud.stopTransmit(tap))


def _player_pos(player: pj.AudioMediaPlayer) -> int | None:
    """The call's player's read position in the file's samples (the sent audio's phase), None if unknown."""
    try:
        return int(player.getPos())
    except pj.Error:
        return None


def run_call(wep: WorkerEndpoint, order: ProbeOrder, cancel: threading.Event) -> ProbeResult:
    clock = Clock()
    codec_id = wep.codec_id(order.codec)
    if codec_id is None:
        names = sorted({c.split("/")[0] for c in wep.codecs})
        return clock.fail(f"codec: {order.codec!r} is not available (known: {', '.join(names)})")
    audio = order.audio_file or str(REFERENCE_SPEECH)
    if not os.path.isfile(audio):
        return clock.fail(f"audio_file: {audio!r} does not exist")
    own: list[ProbeAccount] = []  # the call's own account, as its only reference (accounts.py)
    if order.needs_account:
        own.append(ProbeAccount(wep))
        try:
            own[0].create(account_config(order, registrar=False, bind_address=wep.bind_address))
        except pj.Error as exc:
            own.clear()
            field = "outbound_proxy" if order.outbound_proxy else "username"
            return clock.fail(f"{field}: {pj_error_text(exc)}")
    box = [ProbeCall(own[0] if own else wep.shared, wep, audio)]  # the only reference: see call_slots.py
    try:
        step = _drive(wep, order, cancel, clock, box[0], codec_id)
    except BaseException as exc:
        traceback.clear_frames(exc.__traceback__)  # a frame's locals must not keep the call object alive
        raise
    finally:
        _dispose(box[0])
        wep.call_slots.destroy(box)
        let_go(own, wep.note)  # before scoring: the account id is free (and reusable) only once the object is gone
    return conclude(wep.taps.clock_rate, order, clock, step) if isinstance(step, Held) else step


def _drive(
    wep: WorkerEndpoint, order: ProbeOrder, cancel: threading.Event, clock: Clock, call: ProbeCall, codec_id: str
) -> ProbeResult | Held:
    prm = pj.CallOpParam(True)
    prm.opt.audioCount = 1
    prm.opt.videoCount = 0
    prm.txOption.headers.append(probe_header(run_tag(order.id)))  # ties the dialog's messages to this run
    placed = _place(wep, order, cancel, clock, call, codec_id, prm)
    if isinstance(placed, ProbeResult):
        return placed
    t_call, t_invite = placed
    first = min((t for t in (call.t_ring, call.t_answer) if t is not None), default=None)
    if first is not None and first < t_invite:
        t_invite = t_call
    answered = call.wait(lambda: call.t_answer is not None or call.disconnected, t_invite + order.timeout_s, cancel)
    if not answered or call.disconnected:
        return _not_answered(order, call, clock, cancel)
    pdd = min(t for t in (call.t_ring, call.t_answer) if t is not None)
    metrics: dict[str, float] = {"setup_time_ms": round((call.t_answer - t_invite) * 1000, 3)}  # type: ignore[operator]
    details: dict[str, Any] = {"call_answered": True, "pdd_ms": round((pdd - t_invite) * 1000, 3)}
    call.wait(lambda: call.media_ready or call.disconnected, time.perf_counter() + 2.0, cancel)
    t_hold = time.perf_counter()
    listen_s = dtmf_at(order.dtmf, order.call_duration_s)  # speech first, then the digits
    levels = _hold(call, t_hold + listen_s, cancel)
    if order.dtmf and not call.disconnected and not cancel.is_set():
        send_dtmf(call, order.dtmf, order.dtmf_mode, details)
        levels += _hold(call, t_hold + order.call_duration_s, cancel)
    if call.disconnected:
        return clock.fail(
            f"call dropped by the far end after {time.perf_counter() - t_hold:.1f} s "
            f"({sip_failure_text(call.last_code, call.last_reason)})",
            metrics=metrics,
            details=details,
            sip_code=call.last_code or None,
            sip_reason=call.last_reason,
        )
    if cancel.is_set():
        return clock.fail("cancelled", metrics=metrics, details=details)
    try:
        stream = read_stream(call)
    except pj.Error as exc:
        stream = {"error": pj_error_text(exc)}
    details["held_s"] = round(time.perf_counter() - t_hold, 2)
    _release_media(call)
    _hangup(call)
    return Held(
        metrics,
        details,
        stream,
        levels,
        listen_s,
        call.received,
        call.audio_file,
        call.start_pos,
        "".join(call.dtmf_received),
        call.media_error,
    )


def _place(
    wep: WorkerEndpoint,
    order: ProbeOrder,
    cancel: threading.Event,
    clock: Clock,
    call: ProbeCall,
    codec_id: str,
    prm: pj.CallOpParam,
) -> tuple[float, float] | ProbeResult:
    """``makeCall``: (perf counter before it, when the INVITE left), or the failure.

    A call we hung up is DISCONNECTED for us at once, but pjsua frees its call slot only when its CANCEL or
    BYE transaction ends: a far end slow to answer it (CPU load) or never answering (up to 32 s) keeps the
    slot after its probe reported back. So while all slots are held (PJ_ETOOMANY) this tries again, up to the
    set-up timeout; the time waited is not part of any measured time (they start when the INVITE leaves).
    """
    deadline = time.perf_counter() + order.timeout_s
    while True:
        with wep.codec_lock:  # codec priorities are endpoint-wide: hold them until the offer is built
            wep.prefer_codec(codec_id)
            t_call = time.perf_counter()
            try:
                with wep.call_slots.placing():
                    call.makeCall(order.target, prm)
                wep.wake()  # see endpoint.wake: a TCP/TLS connection it opened is watched now
                call.placed = True
                # As for OPTIONS: the INVITE leaves at the end of makeCall (media set-up and SDP come first).
                return t_call, time.perf_counter()
            except pj.Error as exc:
                if getattr(exc, "status", None) != PJ_ETOOMANY:
                    return clock.fail(f"target: {pj_error_text(exc)}", details={"call_answered": False})
        if cancel.is_set():
            return clock.fail("cancelled", details={"call_answered": False})
        if time.perf_counter() + SLOT_RETRY_S > deadline:
            return clock.fail(
                f"prober busy: no free call slot within {order.timeout_s:g} s (earlier calls still closing their dialogs)",
                details={"call_answered": False},
            )
        time.sleep(SLOT_RETRY_S)


def _not_answered(order: ProbeOrder, call: ProbeCall, clock: Clock, cancel: threading.Event) -> ProbeResult:
    details: dict[str, Any] = {"call_answered": False}
    if call.t_ring is not None:
        details["ringing"] = True
    if not call.disconnected:
        ringing = " (ringing)" if call.t_ring is not None else ""
        why = "cancelled" if cancel.is_set() else f"timeout: no answer within {order.timeout_s:g} s{ringing}"
        _hangup(call)
        code = call.last_code if call.disconnected and call.last_code >= 300 else None
        return clock.fail(why, details=details, sip_code=code, sip_reason=call.last_reason if code else "")
    code, reason = call.last_code, call.last_reason
    if not call.final_received:
        what = "timeout: no response" if code == 408 else transport_failure(order.target, reason)
        return clock.fail(what, details=details)
    if code in (401, 403, 407):
        why = "authentication rejected" if order.username else "authentication required (no username)"
        return clock.fail(
            f"{why} ({sip_failure_text(code, reason)})", details=details, sip_code=code, sip_reason=reason
        )
    return clock.fail(sip_failure_text(code, reason), details=details, sip_code=code, sip_reason=reason)


def _hangup(call: ProbeCall) -> None:
    # pjsua asserts (aborting the worker) on a hangup without a valid call id: a call whose makeCall
    # failed, or one pjsua2 already invalidated on DISCONNECTED when our onCallState could not see it
    # (getInfo() racing the disconnect). getId() is a plain field read, safe in every state.
    if call.disconnected or not call.placed or call.getId() < 0:
        return
    try:
        call.hangup(pj.CallOpParam(True))
    except pj.Error:
        pass
    call.wait(lambda: call.disconnected, time.perf_counter() + HANGUP_WAIT_S, threading.Event())


def _hold(call: ProbeCall, until: float, cancel: threading.Event) -> list[int]:
    """Keep the call up until ``until``, sampling the received audio level every 100 ms."""
    levels: list[int] = []
    while not call.wait(lambda: call.disconnected, min(until, time.perf_counter() + 0.1), cancel):
        if cancel.is_set() or time.perf_counter() >= until:
            break
        if call.audio is not None:
            try:
                # pjsua2 names levels from the port's side: "tx" is what the call port sends into the
                # bridge, i.e. the audio received from the far end.
                levels.append(int(call.audio.getTxLevel()))
            except pj.Error:
                pass
    return levels


def _release_media(call: ProbeCall) -> None:
    """Disconnect this call's player and tap (both live as long as the worker) and lend them out again; keep what
    the tap collected in ``call.received``."""
    stop_tones(call)
    if call.tap is not None:
        if call.audio is not None and not call.disconnected:
            try:
                call.audio.stopTransmit(call.tap)
            except pj.Error:
                pass
        call.received = call.tap.take()
        call.wep.taps.release(call.tap)
        call.tap = None
    if call.player is not None and call.audio is not None and not call.disconnected:
        try:
            call.player.stopTransmit(call.audio)
        except pj.Error:
            pass
    if call.player is not None:
        call.wep.return_player(call.audio_file, call.player)
    call.audio = None
    call.player = None


def _dispose(call: ProbeCall) -> None:
    _release_media(call)
    _hangup(call)
