"""SSRF guard: a webhook must not reach loopback, private, link-local (cloud metadata) or other internal space.

The check is on the address actually connected to: ``GuardedResolver`` is the HTTP client's resolver. It
resolves the host once per new connection, checks every address, and hands the client exactly those
addresses to connect to (TLS SNI and the Host header still carry the hostname). There is no second DNS lookup
an attacker could rebind between check and connect. IP literals never reach a resolver (the client connects to
them directly), so ``check_literal`` refuses internal ones before the request is made.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiohttp.abc import AbstractResolver

from ..domain.netaddr import forbidden_reason, literal_ip

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


class GuardedResolver(AbstractResolver):
    """aiohttp resolver: resolve once, check, return the checked IPs (the client connects to those only).

    The connector using it must not cache lookups (``use_dns_cache=False``): every new connection is checked.
    """

    def __init__(self, *, allow_private: bool, resolver: Resolver | None = None) -> None:
        self.allow_private = allow_private
        self.resolver = resolver or system_resolve
        self.pinned: list[tuple[str, str]] = []  # (hostname, first checked IP) of recent connects, for diagnostics

    def check_literal(self, host: str) -> None:
        """Refuse an internal IP literal (the client connects to literals without asking the resolver)."""
        if not self.allow_private and literal_ip(host) is not None:
            check_addresses(host, [host.strip("[]")])

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[Any]:
        addresses = await self.resolver(host, port)
        if not addresses:
            raise BlockedTarget(f"{host} did not resolve to any address")
        if not self.allow_private:
            check_addresses(host, addresses)
        self.pinned = [*self.pinned, (host, addresses[0])][-100:]
        return [self.target(host, port, addr) for addr in addresses]

    def target(self, host: str, port: int, addr: str) -> dict[str, Any]:
        """What the client connects to for one checked address (SNI and Host stay ``host``)."""
        family = socket.AF_INET6 if ":" in addr else socket.AF_INET
        return {
            "hostname": host,
            "host": addr,
            "port": port,
            "family": family,
            "proto": 0,
            "flags": socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
        }

    async def close(self) -> None:
        return None
