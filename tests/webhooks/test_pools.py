"""Keep-alive pools per destination: reuse never carries a request past the SSRF guard, pools stay bounded,
and a request over a kept-alive connection does no import lookups.
"""

from __future__ import annotations

import sys
import time
from importlib.abc import MetaPathFinder
from typing import Any

from callmeter_tui.webhooks.guard import GuardedResolver
from callmeter_tui.webhooks.sender import Sender, signed_headers

PUBLIC = "93.184.216.34"  # what the test resolver answers for a "public" host; really the local receiver


class PublicToLoopback(GuardedResolver):
    """The guard, unchanged, except that the checked public address is dialled as the local receiver.

    Records every address the client was told to connect to (each one already passed the check)."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.asked: list[str] = []

    def target(self, host: str, port: int, addr: str) -> dict[str, Any]:
        self.asked.append(addr)
        assert addr == PUBLIC, f"the guard let a connect to {addr} through"
        return super().target(host, port, "127.0.0.1")


async def _post(sender: Sender, url: str, destination: str = "webhook-1"):  # type: ignore[no-untyped-def]
    body = b'{"event":"probe.test"}'
    headers = signed_headers("s" * 43, int(time.time() * 1000), body, "k1")
    return await sender.post(url, headers, body, 5.0, destination=destination)


async def test_a_pooled_connection_never_reaches_an_address_the_guard_refuses(https_receiver, webhook_ca) -> None:  # type: ignore[no-untyped-def]
    dns = {"hooks.test": [PUBLIC], "other.test": ["10.0.0.5"]}

    async def resolver(host: str, port: int) -> list[str]:
        return list(dns[host])

    sender = Sender(ca_bundle=webhook_ca.ca_bundle, allow_private=False, resolver=resolver)
    net = sender.guard = sender.pools.guard = PublicToLoopback(allow_private=False, resolver=resolver)
    try:
        first = await _post(sender, https_receiver.url("/a", host="hooks.test"))
        assert first.ok, first.error
        # DNS rebinding after the check: the kept-alive connection still goes to the checked public address.
        dns["hooks.test"] = ["10.0.0.5"]
        again = await _post(sender, https_receiver.url("/a", host="hooks.test"))
        assert again.ok, again.error
        assert net.asked == [PUBLIC] and sender.guard.pinned == [("hooks.test", PUBLIC)]
        # Same pool, same port, another host: never served by the open connection; refused before any connect.
        other = await _post(sender, https_receiver.url("/b", host="other.test"))
        assert not other.ok and other.status is None
        assert "refused webhook target: other.test resolves to 10.0.0.5 is a private address" in other.error
        # Once the kept-alive connections are gone, the rebound name is checked again and refused.
        await sender.pools.aclose()
        rebound = await _post(sender, https_receiver.url("/a", host="hooks.test"))
        assert not rebound.ok and "hooks.test resolves to 10.0.0.5" in rebound.error
    finally:
        await sender.aclose()
    assert net.asked == [PUBLIC]
    assert [r.path for r in https_receiver.received] == ["/a", "/a"]


async def test_pools_are_per_destination_and_bounded(https_receiver, webhook_ca) -> None:  # type: ignore[no-untyped-def]
    async def resolver(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    sender = Sender(
        ca_bundle=webhook_ca.ca_bundle, allow_private=True, per_destination=2, max_destinations=2, resolver=resolver
    )
    url = https_receiver.url("/p", host="hooks.test")
    try:
        for n in range(3):
            res = await _post(sender, url, destination=f"webhook-{n}")
            assert res.ok, res.error
        assert len(sender.pools) == 2  # the least recently used idle pool was closed
        again = await _post(sender, url, destination="webhook-2")  # kept alive: no new connect
        assert again.ok
    finally:
        await sender.aclose()
    assert len(sender.guard.pinned) == 3


class _Lookups(MetaPathFinder):
    def __init__(self) -> None:
        self.names: list[str] = []

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> None:
        self.names.append(fullname)
        return None


async def test_a_request_on_a_kept_alive_connection_does_no_import_lookups(https_receiver, webhook_ca) -> None:  # type: ignore[no-untyped-def]
    sender = Sender(ca_bundle=webhook_ca.ca_bundle, allow_private=True)
    lookups = _Lookups()
    try:
        assert (await _post(sender, https_receiver.url("/w"))).ok  # warm: connection and first-use imports
        sys.meta_path.insert(0, lookups)
        try:
            for _ in range(5):
                assert (await _post(sender, https_receiver.url("/w"))).ok
        finally:
            sys.meta_path.remove(lookups)
    finally:
        await sender.aclose()
    # Each failed import walks all of sys.path (it is never cached): it made every webhook POST several times slower.
    assert lookups.names == []
