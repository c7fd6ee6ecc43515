"""One small keep-alive connection pool per webhook destination, all connecting through the SSRF guard.

Why aiohttp: its HTTP/1.1 parser is C (llhttp) and its client does little per request; h11 parsing and the
httpcore pool machinery were most of a webhook POST's CPU time (about 300 deliveries/s on two cores, against
several thousand for a bare aiohttp loop).

Why per destination: a slow or dead destination only ever occupies its own connections, and each pool holds
at most the destination's own concurrency (2 by default) even when many webhooks share one origin.

Every pool resolves through one ``GuardedResolver`` with the lookup cache off: each new connection is resolved
once, checked and pinned to the checked IP; a kept-alive connection is only reused for the same origin
(scheme, host, port), so reuse can never carry a request to an address the guard did not check for that host.
The number of pools is bounded: idle pools unused for ``keepalive_s`` are closed, and beyond
``max_destinations`` the least recently used idle pool is closed first.
"""

from __future__ import annotations

import ssl
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import aiohttp

from .guard import GuardedResolver

# aiohttp adds these unless told not to; the request stays what the contract lists (plus Host, Content-Length).
_SKIP_AUTO_HEADERS = ("Accept", "Accept-Encoding")


class _Entry:
    __slots__ = ("in_flight", "session", "used_at")

    def __init__(self, session: aiohttp.ClientSession, now: float) -> None:
        self.session, self.in_flight, self.used_at = session, 0, now


class DestinationPools:
    """``lease(key)`` yields the keep-alive client session of one destination (a webhook, or an origin)."""

    def __init__(
        self,
        guard: GuardedResolver,
        ssl_context: ssl.SSLContext,
        *,
        per_destination: int = 2,
        max_destinations: int = 256,
        keepalive_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.guard = guard
        self.ssl_context = ssl_context
        self.per_destination = max(1, per_destination)
        self.max_destinations = max(1, max_destinations)
        self.keepalive_s = keepalive_s
        self._clock = clock
        self._pools: OrderedDict[str, _Entry] = OrderedDict()
        self._swept_at = self._clock()

    def __len__(self) -> int:
        return len(self._pools)

    @asynccontextmanager
    async def lease(self, key: str) -> AsyncIterator[aiohttp.ClientSession]:
        entry = self._pools.get(key)
        now = self._clock()
        if entry is None:
            entry = self._pools[key] = _Entry(self._new_session(), now)
        self._pools.move_to_end(key)
        entry.in_flight += 1
        try:
            yield entry.session
        finally:
            entry.in_flight -= 1
            entry.used_at = self._clock()
        await self._trim(entry.used_at)

    def _new_session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            ssl=self.ssl_context,
            limit=self.per_destination,
            limit_per_host=0,
            keepalive_timeout=self.keepalive_s,
            resolver=self.guard,
            use_dns_cache=False,  # every new connection is resolved and checked again
        )
        return aiohttp.ClientSession(
            connector=connector,
            auto_decompress=False,
            trust_env=False,  # no proxy from the environment: the guard checks where we connect
            cookie_jar=aiohttp.DummyCookieJar(),
            skip_auto_headers=_SKIP_AUTO_HEADERS,
            timeout=aiohttp.ClientTimeout(total=None),  # the sender's own deadline covers each request
        )

    async def _trim(self, now: float) -> None:
        """Close idle pools: stale ones (at most once per keep-alive period) and the oldest beyond the bound."""
        doomed: list[aiohttp.ClientSession] = []
        if now - self._swept_at >= self.keepalive_s:
            self._swept_at = now
            for key, entry in list(self._pools.items()):
                if entry.in_flight == 0 and now - entry.used_at >= self.keepalive_s:
                    doomed.append(self._pools.pop(key).session)
        if len(self._pools) > self.max_destinations:
            for key, entry in list(self._pools.items()):  # least recently used first
                if len(self._pools) <= self.max_destinations:
                    break
                if entry.in_flight == 0:
                    doomed.append(self._pools.pop(key).session)
        for session in doomed:
            await session.close()

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), OrderedDict()
        for entry in pools:
            await entry.session.close()
