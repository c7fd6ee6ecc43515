"""The slot counts the pool reads on every run are kept as orders come and go (not recounted per read), and
the orders sent to a worker are the same plain dicts as before."""

from __future__ import annotations

import asyncio
from dataclasses import asdict

from callmeter_tui.probes.protocol import Cancel, ProbeOrder, Stop
from callmeter_tui.probes.supervisor import InFlight, InFlightTable


def _order(i: int, kind: str, **kw: object) -> ProbeOrder:
    return ProbeOrder(id=i, kind=kind, target="sip:x@127.0.0.1", timeout_s=2.0, **kw)  # type: ignore[arg-type]


def _recount(table: InFlightTable) -> tuple[int, int]:
    return sum(1 for e in table.values() if e.call), sum(1 for e in table.values() if e.order.needs_account)


async def test_counts_follow_every_change() -> None:
    loop = asyncio.get_running_loop()
    table = InFlightTable()
    orders = [
        _order(1, "sip_options"),
        _order(2, "sip_call"),
        _order(3, "sip_register", username="u"),
        _order(4, "sip_call", username="u"),
        _order(5, "sip_call", outbound_proxy="sip:proxy@127.0.0.1"),
    ]
    for o in orders:
        table[o.id] = InFlight(o, loop.create_future())
        assert (table.calls, table.accounts) == _recount(table)
    assert (table.calls, table.accounts) == (3, 3)
    table[2] = InFlight(orders[0], loop.create_future())  # replaced: counted once
    assert (table.calls, table.accounts) == _recount(table) == (2, 3)
    assert table.pop(3).order.id == 3 and table.pop(99, None) is None
    assert (table.calls, table.accounts) == _recount(table) == (2, 2)
    table.clear()
    assert (table.calls, table.accounts) == (0, 0)


def test_messages_to_the_worker_are_the_same_plain_dicts() -> None:
    for msg in (_order(7, "sip_call", expect_codes=(200, 404), username="u"), Cancel(id=3), Stop()):
        assert dict(vars(msg)) == asdict(msg)
