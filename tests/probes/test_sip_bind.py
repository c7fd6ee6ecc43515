"""engine.sip_bind reaches the workers as a value (their command line), not through os.environ."""

from __future__ import annotations

from callmeter_tui.probes import ProberPool


async def test_the_workers_bind_where_the_pool_is_told() -> None:
    pool = ProberPool(1, sip_bind="127.0.0.1")
    await pool.start()
    try:
        (worker,) = pool._workers
        assert worker.transports and all(name.startswith("127.0.0.1:") for name in worker.transports.values())
    finally:
        await pool.stop()
