"""The demo target's calls: INVITE dialogs from the first INVITE to the BYE, kept out of target.py.

Why: target.py is the SIP endpoint (sockets, dispatch, OPTIONS, digest REGISTER, housekeeping); a call is a
state machine of its own: 100 Trying, 180 Ringing, then after ``ring_ms`` a 200 OK with one G.711 codec (or
``reject_code``), the final response retransmitted until the ACK (RFC 3261 timer G/H), CANCEL, BYE, and the
in-dialog UPDATE (re-offer) and DTMF INFO (echoed back). A mixin of DemoTarget: it uses its settings,
``stats``, ``_calls``, ``_reply``, ``_send`` and ``_contact``; dispatch finds its ``_on_<method>`` handlers.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .media import MediaSession, MediaStats
from .prompt import Prompt
from .sdp import build_answer, parse_offer
from .sipmsg import SipRequest, echo_info

if TYPE_CHECKING:
    from .target import TargetStats

log = logging.getLogger("callmeter.demo_target")

T1, T2, TIMER_H = 0.5, 4.0, 32.0
MEDIA_HISTORY = 500


@dataclass
class Call:
    call_id: str
    to_tag: str
    invite: SipRequest
    src: tuple[str, int]
    media: MediaSession | None = None
    final: bytes | None = None  # final response to the INVITE (kept until ACK)
    last: bytes = b""  # latest response to the INVITE, for retransmissions
    acked: bool = False
    retransmit: asyncio.TimerHandle | None = None
    local_cseq: int = 0  # our own requests in the dialog (DTMF INFO echoes)


class CallsMixin:
    """INVITE, ACK, CANCEL, BYE and the in-dialog UPDATE and INFO of DemoTarget."""

    host: str
    seed: int
    ring_ms: int
    reject_code: int | None
    loss_pct: float
    jitter_ms: float
    delay_ms: float
    mute: bool
    no_rtp: bool
    prompt: Prompt | None
    stats: TargetStats
    _loop: asyncio.AbstractEventLoop | None
    _calls: dict[str, Call]
    _tasks: set[asyncio.Task[None]]
    _call_count: int
    _reply: Callable[..., bytes]
    _send: Callable[[bytes, tuple[str, int]], None]
    _contact: Callable[[], tuple[str, str]]

    def _on_info(self, req: SipRequest, src: tuple[str, int]) -> None:
        call = self._calls.get(req.call_id)
        self._reply(req, 200 if call is not None else 481, src)
        if call is not None and "dtmf" in (req.get("content-type") or "").lower():
            self._send(echo_info(call.invite, call.to_tag, req, self._next_cseq(call), self._contact()), src)

    def _next_cseq(self, call: Call) -> int:
        call.local_cseq += 1
        return call.local_cseq

    def _on_update(self, req: SipRequest, src: tuple[str, int]) -> None:
        call = self._calls.get(req.call_id)
        if call is None or call.media is None:
            self._reply(req, 481, src)
            return
        body = self._answer(call, parse_offer(req.body)) if req.body else b""
        self._reply(req, 200, src, extra=[self._contact()], body=body)

    def _on_invite(self, req: SipRequest, src: tuple[str, int]) -> None:
        call = self._calls.get(req.call_id)
        if call is not None and call.invite.branch == req.branch:
            self._send(call.last, src)  # retransmitted INVITE before the final response
            return
        if call is not None and req.tag("to") == call.to_tag and call.media is not None:
            body = self._answer(call, parse_offer(req.body)) if req.body else self._answer(call, None)
            call.final = self._reply(req, 200, src, extra=[self._contact()], body=body)
            self._start_retransmit(call)
            return
        if call is not None:  # a fresh INVITE reusing a Call-ID replaces whatever was left of the old one
            self._end_call(call)
        call = Call(call_id=req.call_id, to_tag=secrets.token_hex(6), invite=req, src=src)
        call.last = self._reply(req, 100, src)
        self._calls[req.call_id] = call
        if self.reject_code:
            self.stats.calls_rejected += 1
            self._final(call, int(self.reject_code))
            return
        offer = parse_offer(req.body) if req.body else None
        if req.body and (offer is None or offer.pick() is None):
            self._final(call, 488)
            return
        assert self._loop is not None
        task = self._loop.create_task(self._ring_and_answer(call, offer))
        self._tasks.add(task)  # keep a reference until done (asyncio holds tasks weakly)
        task.add_done_callback(self._tasks.discard)

    async def _ring_and_answer(self, call: Call, offer) -> None:
        try:
            self._call_count += 1
            media = MediaSession(self, MediaStats(call.call_id), self.seed + 1000 * self._call_count, self.host)
            await media.open()
        except OSError as exc:
            log.warning("demo target: no media ports for call %s: %s", call.call_id, exc)
            self._final(call, 503)
            return
        call.media = media
        self.stats.media.append(media.stats)
        del self.stats.media[:-MEDIA_HISTORY]  # a long-running demo keeps only recent calls' truth
        call.last = self._reply(call.invite, 180, call.src, to_tag=call.to_tag, extra=[self._contact()])
        if self.ring_ms > 0:
            await asyncio.sleep(self.ring_ms / 1000.0)
        if self._calls.get(call.call_id) is not call or call.final is not None:
            return  # cancelled while ringing
        self.stats.calls += 1
        self._final(call, 200, body=self._answer(call, offer))

    def _answer(self, call: Call, offer) -> bytes:
        assert call.media is not None
        if offer is not None and offer.address and offer.port:
            call.media.remote_rtcp = call.media.remote_rtcp or (offer.address, offer.rtcp_port or offer.port + 1)
        codec = offer.pick() if offer is not None else None
        te = offer.telephone_event() if offer is not None else 101
        session_id = int(time.time())
        return build_answer(self.host, call.media.rtp_port, call.media.rtcp_port, session_id, codec, te)

    def _final(self, call: Call, code: int, body: bytes = b"") -> None:
        extra = [self._contact()] if code < 300 else []
        call.final = call.last = self._reply(call.invite, code, call.src, to_tag=call.to_tag, extra=extra, body=body)
        if code >= 300 and call.media is not None:
            call.media.close()
            call.media = None
        self._start_retransmit(call)

    def _start_retransmit(self, call: Call) -> None:
        """Resend the final response until the ACK (timer G), giving up after timer H."""
        assert self._loop is not None
        call.acked = False
        started = time.monotonic()

        def again(interval: float) -> None:
            if call.acked or call.final is None:
                return
            if time.monotonic() - started > TIMER_H:
                log.warning("demo target: no ACK for call %s, giving up", call.call_id)
                self._end_call(call)
                return
            self._send(call.final, call.src)
            call.retransmit = self._loop.call_later(interval, again, min(interval * 2, T2))  # type: ignore[union-attr]

        if call.retransmit is not None:
            call.retransmit.cancel()
        call.retransmit = self._loop.call_later(T1, again, min(T1 * 2, T2))

    def _on_ack(self, req: SipRequest, src: tuple[str, int]) -> None:
        call = self._calls.get(req.call_id)
        if call is None:
            return
        call.acked = True
        if call.retransmit is not None:
            call.retransmit.cancel()
        if call.media is None:  # ACK of a rejection: the transaction is done
            self._calls.pop(req.call_id, None)

    def _on_cancel(self, req: SipRequest, src: tuple[str, int]) -> None:
        call = self._calls.get(req.call_id)
        if call is None or call.invite.branch != req.branch:
            self._reply(req, 481, src)
            return
        self._reply(req, 200, src)
        if call.final is None:
            self._final(call, 487)

    def _on_bye(self, req: SipRequest, src: tuple[str, int]) -> None:
        call = self._calls.get(req.call_id)
        if call is None:
            self._reply(req, 481, src)
            return
        self._end_call(call)
        self._reply(req, 200, src)

    def _end_call(self, call: Call) -> None:
        if call.retransmit is not None:
            call.retransmit.cancel()
        if call.media is not None:
            call.media.close()
            call.media = None
        self._calls.pop(call.call_id, None)
