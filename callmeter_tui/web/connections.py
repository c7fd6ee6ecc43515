"""Keeping the public listener from taking the process's descriptors (slowloris, connection floods).

Anyone who can reach the status page can open connections. Without limits they pile up until accept() fails
with EMFILE, and then webhook deliveries and the database fail too. So:

- a request must arrive complete within ``HEADER_TIMEOUT_S`` of the connection opening (or of the previous
  response): aiohttp's keep-alive timer does exactly this when it is short, since partial data never resets it;
- at most ``limit`` connections at once, the rest of RLIMIT_NOFILE kept in reserve for deliveries, the database,
  prober workers and logs. A connection over the limit evicts the oldest one still waiting for its request
  (an attacker's, usually); when every connection is busy it is closed at once;
- accept() errors, connections refused at the limit and malformed requests are logged as one line at most
  once per interval, with a count, never as a traceback per event;
- aiohttp's own 400 answers to malformed requests carry our Server and security headers.

The same protocol answers known assets itself, between aiohttp's parser and its application (see fastpath).
"""

from __future__ import annotations

import asyncio
import logging
import os
import resource
import sys
import time
from collections.abc import Callable, MutableMapping
from typing import Any

from aiohttp import web
from aiohttp.base_protocol import BaseProtocol
from aiohttp.http_parser import HttpRequestParser
from aiohttp.web_protocol import RequestHandler

from .fastpath import FastRoutes, RawRequestMessage

log = logging.getLogger("callmeter_tui.web")

HEADER_TIMEOUT_S = 10.0  # a complete request within this, else the connection is closed
RESERVE_MIN = 128  # descriptors never used for web connections ...
RESERVE_SHARE = 4  # ... or a quarter of the limit, whichever is more
MIN_CONNECTIONS = 16
LOG_INTERVAL_S = 60.0
HANDLER_KWARGS: dict[str, Any] = {"keepalive_timeout": HEADER_TIMEOUT_S, "access_log": None}
NOFILE_CEILING = 1 << 20  # when the hard limit is "unlimited"

Decorate = Callable[[MutableMapping[str, str]], None]

# _Handler.data_received reads the state of aiohttp's request loop and parser queue: where an aiohttp release
# lacks it, the application answers every request (tests/web/test_fastpath.py notices).
FAST_PATH_SUPPORTED = (
    {"_messages", "_waiter", "_request_count", "_payload_parser", "_keepalive_handle", "_next_keepalive_close_time"}
    <= set(RequestHandler.__slots__)
    and {"_paused", "_buffer_paused", "_upgraded"} <= set(BaseProtocol.__slots__)
    and hasattr(HttpRequestParser, "message_consumed")
    and hasattr(BaseProtocol, "_resume_reading_for_buffer")
)


def raise_nofile_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard one where allowed; returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = NOFILE_CEILING if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            log.info("descriptor limit raised from %d to %d", soft, target)
            soft = target
        except (ValueError, OSError) as exc:
            log.warning("descriptor limit stays at %d: %s", soft, exc)
    return NOFILE_CEILING if soft == resource.RLIM_INFINITY else soft


def connection_limit(soft: int) -> tuple[int, int]:
    """(web connections allowed, descriptors kept in reserve) for the soft limit and what is open now."""
    try:
        open_now = len(os.listdir("/proc/self/fd"))
    except OSError:
        open_now = 64
    reserve = max(RESERVE_MIN, soft // RESERVE_SHARE)
    return max(MIN_CONNECTIONS, soft - open_now - reserve), reserve


class Throttle:
    """One log line per ``interval`` at most, saying how many events it stands for."""

    def __init__(self, interval: float = LOG_INTERVAL_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval, self.clock = interval, clock
        self.count, self._last = 0, -interval

    def __call__(self, fmt: str, *args: Any) -> None:
        self.count += 1
        now = self.clock()
        if now - self._last >= self.interval:
            log.warning(fmt + " (%d since the last report)", *args, self.count)
            self.count, self._last = 0, now


class _Handler(RequestHandler):
    """aiohttp's per-connection protocol, with our headers on its own error answers and one-line logs."""

    def __init__(self, guard: ConnectionGuard, **kwargs: Any) -> None:
        super().__init__(guard.server, **kwargs)
        self._guard = guard

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._guard.live[self] = None
        super().connection_made(transport)

    def connection_lost(self, exc: BaseException | None) -> None:
        self._guard.live.pop(self, None)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """aiohttp parses; while its request loop is idle (parked between requests, or not started yet when a
        request comes with the connection), the requests at the head of what was parsed are answered here
        (see fastpath), the rest queued for it in order as usual."""
        fast, waiter = self._guard.fast, self._waiter
        if (
            fast is None
            or not fast.open
            or (waiter.done() if waiter is not None else self._request_count > 0)
            or self._messages
            or self._paused
            or self._close
            or self._force_close
            or self._payload_parser is not None
            or self._upgraded
        ):
            super().data_received(data)
            return
        self._waiter = None  # aiohttp's loop stays parked unless something is left for it
        try:
            super().data_received(data)
            # The parser stops at its queue limit (pipelining); once that much is answered, let it go on.
            while self._answer_queued(fast) and self._buffer_paused:
                super().data_received(b"")
                if not self._messages:
                    self._resume_reading_for_buffer()
                    break
        finally:
            self._waiter = waiter
        if self._messages and waiter is not None and not waiter.done():
            waiter.set_result(None)  # (a loop not started yet finds them when it starts)

    def _answer_queued(self, fast: FastRoutes) -> bool:
        """Answer parsed requests from the head of the queue while fast knows them and the client reads
        what it is sent (else aiohttp's own flow control takes over); True when none is left."""
        messages, transport, answered = self._messages, self.transport, False
        while messages and not self._paused and transport is not None:
            message, payload = messages[0]
            wire = fast.answer(message, payload) if type(message) is RawRequestMessage else None
            if wire is None:
                break
            messages.popleft()
            self._parser.message_consumed()  # type: ignore[union-attr]
            transport.writelines(wire)
            answered = True
        if answered:  # the next request is due within the keep-alive timeout from now, as after any answer
            self._next_keepalive_close_time = self._loop.time() + self._keepalive_timeout
            if self._keepalive_handle is None:
                self._keepalive_handle = self._loop.call_at(self._next_keepalive_close_time, self._process_keepalive)
        return not messages

    def handle_error(
        self, request: Any, status: int = 500, exc: BaseException | None = None, message: Any = None
    ) -> Any:
        response = super().handle_error(request, status, exc, message)
        self._guard.decorate(response.headers)
        return response

    def log_exception(self, msg: str, *args: Any, exc_info: Any = None, **_kw: Any) -> None:
        exc = exc_info if isinstance(exc_info, BaseException) else sys.exc_info()[1]
        text = str(getattr(exc, "message", None) or exc or "").strip()  # aiohttp's parser errors: .message
        text = text.splitlines()[0][:200] if text else ""
        self._guard.errors("web: " + msg + ": %s %r", *args, type(exc).__name__, text)

    @property
    def waiting(self) -> bool:
        """No complete request yet: waiting for (the rest of) one, as aiohttp's own keep-alive check tests."""
        waiter = self._waiter
        return waiter is not None and not waiter.done()


class _Refuse(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.abort()  # type: ignore[attr-defined]


class ConnectionGuard:
    """The listener's protocol factory: aiohttp handlers, at most ``limit`` of them at once."""

    def __init__(self, server: web.Server, limit: int, decorate: Decorate, fast: FastRoutes | None = None) -> None:
        self.server, self.limit, self.decorate = server, limit, decorate
        self.fast = fast if FAST_PATH_SUPPORTED else None
        self.live: dict[_Handler, None] = {}  # open connections, oldest first
        self.refused = Throttle()
        self.errors = Throttle(1.0)

    def __call__(self) -> asyncio.Protocol:
        if len(self.live) >= self.limit:
            victim = next((h for h in self.live if h.waiting), None)
            if victim is None:
                self.refused("web: connection closed at once: all %d connections busy", self.limit)
                return _Refuse()
            del self.live[victim]
            victim.force_close()  # the oldest still without a complete request
        return _Handler(self, loop=asyncio.get_running_loop(), **HANDLER_KWARGS)


class GuardedSite(web.TCPSite):
    """A TCPSite whose connections come from a ConnectionGuard."""

    def __init__(self, runner: web.AppRunner, host: str, port: int, guard: Callable[[web.Server], ConnectionGuard]):
        super().__init__(runner, host, port, reuse_address=True)
        self._make_guard = guard
        self.guard: ConnectionGuard | None = None

    async def start(self) -> None:
        await web.BaseSite.start(self)
        assert self._runner.server is not None
        self.guard = self._make_guard(self._runner.server)
        self._server = await asyncio.get_running_loop().create_server(
            self.guard, self._host, self._port, backlog=self._backlog, reuse_address=True
        )


def throttle_accept_errors(loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
    """Log accept() failures (EMFILE...) once per interval instead of a traceback each; returns the undo.

    asyncio reports each failed accept() (up to the backlog per wake-up, ~100 a second) with a traceback, and
    schedules a retry for each; retries still pending when the listener closes fail on its closed socket.
    """
    previous = loop.get_exception_handler()
    throttle = Throttle()

    def handler(lp: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        message = str(context.get("message", ""))
        exc = context.get("exception")
        if message.startswith("socket.accept() out of system resource"):
            throttle("web: cannot accept connections: %s", getattr(exc, "strerror", None) or exc)
        elif "_start_serving" in message and isinstance(exc, ValueError):
            log.debug("web: accept retry after the listener closed: %s", exc)
        elif previous is not None:
            previous(lp, context)
        else:
            lp.default_exception_handler(context)

    loop.set_exception_handler(handler)
    return lambda: loop.set_exception_handler(previous)
