"""One small keep-alive connection pool per webhook destination, all connecting through the SSRF guard.

Why per destination: httpcore's pool re-examines every connection it holds for every request it queues or
releases (O(connections^2) per request), which made one shared 16-connection pool the dispatcher's main cost
(about 100 deliveries/s on two cores). A pool per destination holds at most the destination's own concurrency
(2 by default), so that bookkeeping stays tiny, and a slow destination only ever occupies its own connections.

Every pool shares one ``GuardedBackend``: each new connection is resolved once, checked and pinned to the
checked IP; a kept-alive connection is only reused for the same origin (scheme, host, port), so reuse can
never carry a request to an address the guard did not check for that host.
The number of pools is bounded: idle pools unused for ``keepalive_s`` are closed, and beyond
``max_destinations`` the least recently used idle pool is closed first.
"""

from __future__ import annotations

import ssl
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpcore

from .guard import GuardedBackend


class _Entry:
    __slots__ = ("in_flight", "pool", "used_at")

    def __init__(self, pool: httpcore.AsyncConnectionPool, now: float) -> None:
        self.pool, self.in_flight, self.used_at = pool, 0, now


class DestinationPools:
    """``lease(key)`` yields the keep-alive pool of one destination (a webhook, or an origin)."""

    def __init__(
        self,
        backend: GuardedBackend,
        ssl_context: ssl.SSLContext,
        *,
        per_destination: int = 2,
        max_destinations: int = 256,
        keepalive_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.backend = backend
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
    async def lease(self, key: str) -> AsyncIterator[httpcore.AsyncConnectionPool]:
        entry = self._pools.get(key)
        now = self._clock()
        if entry is None:
            entry = self._pools[key] = _Entry(self._new_pool(), now)
        self._pools.move_to_end(key)
        entry.in_flight += 1
        try:
            yield entry.pool
        finally:
            entry.in_flight -= 1
            entry.used_at = self._clock()
        await self._trim(entry.used_at)

    def _new_pool(self) -> httpcore.AsyncConnectionPool:
        return httpcore.AsyncConnectionPool(
            ssl_context=self.ssl_context,
            max_connections=self.per_destination,
            max_keepalive_connections=self.per_destination,
            keepalive_expiry=self.keepalive_s,
            network_backend=self.backend,
            retries=0,
        )

    async def _trim(self, now: float) -> None:
        """Close idle pools: stale ones (at most once per keep-alive period) and the oldest beyond the bound."""
        doomed: list[httpcore.AsyncConnectionPool] = []
        if now - self._swept_at >= self.keepalive_s:
            self._swept_at = now
            for key, entry in list(self._pools.items()):
                if entry.in_flight == 0 and now - entry.used_at >= self.keepalive_s:
                    doomed.append(self._pools.pop(key).pool)
        if len(self._pools) > self.max_destinations:
            for key, entry in list(self._pools.items()):  # least recently used first
                if len(self._pools) <= self.max_destinations:
                    break
                if entry.in_flight == 0:
                    doomed.append(self._pools.pop(key).pool)
        for pool in doomed:
            await pool.aclose()

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), OrderedDict()
        for entry in pools:
            await entry.pool.aclose()
