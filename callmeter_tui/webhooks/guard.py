"""SSRF guard: a webhook must not reach loopback, private, link-local (cloud metadata) or other internal space.

The check is on the address actually connected to: ``GuardedBackend`` resolves the host once, checks every
address, then connects to that exact IP (TLS SNI and the Host header still carry the hostname). There is no
second DNS lookup an attacker could rebind between check and connect.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from httpcore import AsyncNetworkBackend, AsyncNetworkStream

from ..domain.netaddr import forbidden_reason, literal_ip
from .netio import AsyncioBackend

Resolver = Callable[[str, int], Awaitable[list[str]]]


class BlockedTarget(Exception):
    """The target resolves to an address webhooks may not reach (message is the one-line reason)."""


async def system_resolve(host: str, port: int) -> list[str]:
    """All addresses for ``host`` (one getaddrinfo call), in the resolver's order."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        addr = str(sockaddr[0])
        if addr not in seen:
            seen.append(addr)
    return seen


def check_addresses(host: str, addresses: Iterable[str]) -> list[str]:
    """Every address must be allowed (one bad answer refuses the host). Returns them, or raises BlockedTarget."""
    addresses = list(addresses)
    if not addresses:
        raise BlockedTarget(f"{host} did not resolve to any address")
    for addr in addresses:
        reason = forbidden_reason(addr)
        if reason:
            where = "" if literal_ip(host) is not None else f"{host} resolves to "
            raise BlockedTarget(
                f"refused webhook target: {where}{reason} (set webhooks.allow_private_targets to allow)"
            )
    return addresses


class GuardedBackend(AsyncNetworkBackend):
    """httpcore network backend: resolve once, check, connect to the checked IP (never re-resolving)."""

    def __init__(
        self, *, allow_private: bool, resolver: Resolver | None = None, inner: AsyncNetworkBackend | None = None
    ) -> None:
        self.allow_private = allow_private
        self.resolver = resolver or system_resolve
        self.inner = inner or AsyncioBackend()
        self.connected: list[tuple[str, str]] = []  # (hostname, IP) of recent connects, for diagnostics/tests

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> AsyncNetworkStream:
        ip = literal_ip(host)
        addresses = [str(ip)] if ip is not None else await self.resolver(host, port)
        if not addresses:
            raise BlockedTarget(f"{host} did not resolve to any address")
        if not self.allow_private:
            check_addresses(host, addresses)
        last: Exception | None = None
        for addr in addresses:
            try:
                stream = await self.inner.connect_tcp(
                    addr, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except Exception as exc:  # try the next checked address, like a normal client would
                last = exc
                continue
            self.connected = ([*self.connected, (host, addr)])[-100:]
            return stream
        assert last is not None
        raise last

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> AsyncNetworkStream:
        raise BlockedTarget("unix sockets are not webhook targets")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)
