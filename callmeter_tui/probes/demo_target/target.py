"""DemoTarget: a small SIP UAS over UDP (and TCP on the same port) that answers OPTIONS, REGISTER (digest) and INVITE.

It exists so the demo and the measurement tests have a peer whose network quality we control.
Every setting (loss_pct, jitter_ms, delay_ms, ring_ms, reject_code, user, password) is a plain
attribute read when it is needed, so it may be changed while the target runs (even from another
thread: each is a single assignment). Malformed input is logged in one line and ignored.

INVITE: 100 Trying, 180 Ringing, then after ``ring_ms`` a 200 OK with one G.711 codec, retransmitted
until the ACK (RFC 3261 timer G/H); or, with ``reject_code`` set, that final code instead.
Calls (INVITE dialogs, with their in-dialog UPDATE and INFO) are handled in ``calls``.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from dataclasses import dataclass, field

from .calls import TIMER_H, Call, CallsMixin
from .impair import calibrate
from .media import MediaStats
from .prompt import Prompt
from .sipmsg import (
    ALLOW,
    SipParseError,
    SipRequest,
    build_response,
    digest_response,
    parse_digest,
    parse_request,
    split_stream,
    update_bindings,
)

log = logging.getLogger("callmeter.demo_target")

REALM = "callmeter-demo"
MEDIA_IDLE_S = 60.0
NONCE_TTL_S = 300.0


@dataclass
class TargetStats:
    """Counters over the target's lifetime; ``media`` holds one ground-truth record per answered call."""

    options: int = 0
    registers_ok: int = 0
    registers_failed: int = 0
    calls: int = 0
    calls_rejected: int = 0
    bad_messages: int = 0
    media: list[MediaStats] = field(default_factory=list)

    @property
    def packets_in(self) -> int:
        return sum(m.packets_in for m in self.media)

    @property
    def packets_out(self) -> int:
        return sum(m.packets_out for m in self.media)

    @property
    def packets_dropped(self) -> int:
        return sum(m.packets_dropped for m in self.media)


class _SipProtocol(asyncio.DatagramProtocol):
    def __init__(self, target: DemoTarget) -> None:
        self._target = target

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self._target._datagram(data, addr)

    def error_received(self, exc: Exception) -> None:
        log.debug("demo target: SIP socket error: %s", exc)


class DemoTarget(CallsMixin):
    """The demo SIP peer. ``await start()`` binds (port 0 picks a free one), ``await stop()`` ends it."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 5070,
        *,
        loss_pct: float = 0.0,
        jitter_ms: float = 0.0,
        delay_ms: float = 0.0,
        ring_ms: int = 0,
        reject_code: int | None = None,
        user: str = "demo",
        password: str = "demo",
        seed: int = 1,
        mute: bool = False,
        no_rtp: bool = False,
        prompt: str | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.loss_pct, self.jitter_ms, self.delay_ms = loss_pct, jitter_ms, delay_ms
        self.ring_ms, self.reject_code = ring_ms, reject_code
        self.user, self.password, self.seed = user, password, seed
        self.mute, self.no_rtp = mute, no_rtp
        self.prompt = Prompt(prompt) if prompt else None
        self.stats = TargetStats()
        self._transport: asyncio.DatagramTransport | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._calls: dict[str, Call] = {}
        self._responses: dict[tuple[str, str, str], tuple[float, bytes]] = {}
        self._nonces: dict[str, float] = {}
        self.bindings: dict[str, dict[str, float]] = {}
        self._housekeeping: asyncio.Task[None] | None = None
        self._call_count = 0
        self._tcp_server: asyncio.Server | None = None
        self._tcp_conns: dict[tuple[str, int], asyncio.StreamWriter] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def uri(self) -> str:
        return f"sip:{self.user}@{self.host}:{self.port}"

    @property
    def active_calls(self) -> int:
        return sum(1 for c in self._calls.values() if c.media is not None)

    async def start(self) -> None:
        # The jitter calibration (~0.3 s, once per process) is built before any call, off the event loop:
        # built on the first jittered packet, it held up the echo of every call this loop serves.
        await asyncio.to_thread(calibrate)
        self._loop = asyncio.get_running_loop()
        self._transport, _ = await self._loop.create_datagram_endpoint(
            lambda: _SipProtocol(self), local_addr=(self.host, self.port)
        )
        self.port = self._transport.get_extra_info("sockname")[1]
        try:
            self._tcp_server = await asyncio.start_server(self._on_tcp, self.host, self.port)
        except OSError as exc:  # TCP is a convenience; UDP is what the demo relies on
            log.warning("demo target: no TCP on %s:%s (%s), UDP only", self.host, self.port, exc.strerror or exc)
        self._housekeeping = asyncio.create_task(self._tick())
        log.info("demo target listening on udp%s %s:%s", "+tcp" if self._tcp_server else "", self.host, self.port)

    async def stop(self) -> None:
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            try:
                await self._housekeeping
            except asyncio.CancelledError:
                pass
        for task in list(self._tasks):
            task.cancel()
        for call in list(self._calls.values()):
            self._end_call(call)
        if self._tcp_server is not None:
            self._tcp_server.close()
            for writer in list(self._tcp_conns.values()):
                writer.close()
            self._tcp_server = None
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    # --- dispatch --------------------------------------------------------------------------

    def _datagram(self, data: bytes, src: tuple[str, int]) -> None:
        try:
            req = parse_request(data)
            if req is None:
                return
            cached = self._responses.get((req.branch, req.method, req.call_id))
            if cached is not None and req.method != "ACK":
                self._send(cached[1], src)  # a retransmitted request gets the last response again
                return
            handler = getattr(self, f"_on_{req.method.lower()}", None)
            if handler is None:
                self._reply(req, 405, src, extra=[("Allow", ALLOW)])
            else:
                handler(req, src)
        except SipParseError as exc:
            self.stats.bad_messages += 1
            log.warning("demo target: bad SIP from %s:%s ignored: %s", src[0], src[1], exc)
        except Exception as exc:  # never let one message stop the target
            self.stats.bad_messages += 1
            log.warning("demo target: SIP from %s:%s ignored: %s: %s", src[0], src[1], type(exc).__name__, exc)

    def _send(self, data: bytes, dest: tuple[str, int]) -> None:
        writer = self._tcp_conns.get(dest)
        if writer is not None:
            writer.write(data)  # responses go back on the connection the request came in on
        elif self._transport is not None:
            self._transport.sendto(data, dest)

    async def _on_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Frame SIP messages on a TCP connection by Content-Length and hand each to the dispatcher."""
        peer = tuple(writer.get_extra_info("peername")[:2])
        self._tcp_conns[peer] = writer
        buf = b""
        try:
            while chunk := await reader.read(65536):
                messages, buf = split_stream(buf + chunk)
                for message in messages:
                    self._datagram(message, peer)
        except (ConnectionError, ValueError) as exc:
            log.warning("demo target: TCP connection from %s:%s closed: %s", peer[0], peer[1], exc)
        finally:
            self._tcp_conns.pop(peer, None)
            writer.close()

    def _reply(self, req: SipRequest, code: int, src: tuple[str, int], **kw) -> bytes:
        msg = build_response(req, code, src, **kw)
        self._send(msg, src)
        if req.method != "INVITE" or code >= 200:
            self._responses[(req.branch, req.method, req.call_id)] = (time.monotonic(), msg)
        return msg

    def _contact(self) -> tuple[str, str]:
        return ("Contact", f"<sip:{self.user}@{self.host}:{self.port}>")

    # --- simple requests -------------------------------------------------------------------

    def _on_options(self, req: SipRequest, src: tuple[str, int]) -> None:
        self.stats.options += 1
        self._reply(
            req,
            200,
            src,
            to_tag=secrets.token_hex(4),
            extra=[("Allow", ALLOW), ("Accept", "application/sdp"), self._contact()],
        )

    def _on_register(self, req: SipRequest, src: tuple[str, int]) -> None:
        auth = parse_digest(req.get("authorization", "") or "")
        now = time.monotonic()
        issued = self._nonces.get(auth.get("nonce", ""))
        if not auth or issued is None or now - issued > NONCE_TTL_S:
            nonce = secrets.token_hex(16)
            self._nonces[nonce] = now
            stale = ", stale=true" if auth else ""
            self._reply(
                req,
                401,
                src,
                to_tag=secrets.token_hex(4),
                extra=[
                    (
                        "WWW-Authenticate",
                        f'Digest realm="{REALM}", nonce="{nonce}", algorithm=MD5, qop="auth"{stale}',
                    )
                ],
            )
            return
        expected = digest_response(
            self.user,
            auth.get("realm", REALM),
            self.password,
            "REGISTER",
            auth.get("uri", ""),
            auth["nonce"],
            auth.get("qop"),
            auth.get("nc", ""),
            auth.get("cnonce", ""),
        )
        if auth.get("username") != self.user or auth.get("response", "").lower() != expected:
            self.stats.registers_failed += 1
            self._reply(req, 403, src, to_tag=secrets.token_hex(4), reason="Forbidden (bad credentials)")
            return
        self.stats.registers_ok += 1
        self._reply(req, 200, src, to_tag=secrets.token_hex(4), extra=update_bindings(self.bindings, req, now))

    # --- housekeeping --------------------------------------------------------------------

    async def _tick(self) -> None:
        """Once a second: periodic RTCP, forget old transactions and nonces, end dead calls."""
        while True:
            await asyncio.sleep(1.0)
            now = time.monotonic()
            for call in list(self._calls.values()):
                media = call.media
                if media is None:
                    continue
                if media.report_due(now):
                    media.send_report()
                if call.acked and now - media.last_activity > MEDIA_IDLE_S:
                    log.warning("demo target: call %s has no media for %ds, ending it", call.call_id, MEDIA_IDLE_S)
                    self._end_call(call)
            for key, (at, _) in list(self._responses.items()):
                if now - at > TIMER_H:
                    del self._responses[key]
            for nonce, at in list(self._nonces.items()):
                if now - at > NONCE_TTL_S:
                    del self._nonces[nonce]
