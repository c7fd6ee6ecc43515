"""The shared ICMP watcher (one socket for every UDP run): a dead port is spotted for each of its watchers, a
live or silent port never is, and a closed watch leaves nothing behind. Real UDP on loopback."""

from __future__ import annotations

import asyncio
import socket
import sys

import pytest

from callmeter_tui.probes.icmpwatch import IcmpWatcher

from .conftest import dead_udp_port

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="IP_RECVERR is Linux's")


async def test_every_watcher_of_a_dead_port_learns_it_and_others_do_not() -> None:
    watcher = IcmpWatcher()
    dead = dead_udp_port()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as live:  # receives, never answers
        live.bind(("127.0.0.1", 0))
        try:
            a, b = watcher.watch("127.0.0.1", dead), watcher.watch("127.0.0.1", dead)
            quiet = watcher.watch("127.0.0.1", live.getsockname()[1])
            assert a is not None and b is not None and quiet is not None
            assert await asyncio.wait_for(a.refused, 1.0) is True
            assert await asyncio.wait_for(b.refused, 1.0) is True
            await asyncio.sleep(0.7)  # past the re-send
            assert not quiet.refused.done()
            assert live.recv(16) == b"\r\n\r\n"
            for w in (a, b, quiet):
                w.close()
            assert quiet.refused.cancelled() and watcher._waiting == {}
        finally:
            watcher.close()


async def test_many_runs_share_one_socket() -> None:
    watcher = IcmpWatcher()
    dead = dead_udp_port()
    try:
        watches = [watcher.watch("127.0.0.1", dead) for _ in range(200)]
        assert all(w is not None for w in watches)
        done = await asyncio.wait_for(asyncio.gather(*(w.refused for w in watches if w)), 2.0)
        assert done == [True] * 200
        assert len([s for s in watcher._socks.values() if s is not None]) == 1
    finally:
        watcher.close()


async def test_ipv6_dead_port() -> None:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
            port = s.getsockname()[1]
    except OSError:
        pytest.skip("no IPv6 loopback")
    watcher = IcmpWatcher()
    try:
        w = watcher.watch("::1", port)
        assert w is not None
        assert await asyncio.wait_for(w.refused, 1.0) is True
    finally:
        watcher.close()
