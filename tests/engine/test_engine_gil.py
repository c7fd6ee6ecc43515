"""While the engine runs, the loop gets the GIL back from the store's writer thread within 1 ms.

With the default 5 ms switch interval every system call of the loop thread (an order to a prober worker,
an ICMP keep-alive) waited up to 5 ms behind the writer's ORM work: at 10,000 probes runs started hundreds
of ms late (bench/bench_engine.py). The interpreter's own interval comes back when the engine stops."""

from __future__ import annotations

import gc
import sys

from tests.engine.test_monitor import PBX, Clock, _monitor


async def test_the_engine_shortens_the_switch_interval_while_it_runs_and_freezes_start_up_objects(database) -> None:
    before = sys.getswitchinterval()
    gc.unfreeze()
    m, _prober = await _monitor(database, Clock(), PBX)
    try:
        assert sys.getswitchinterval() <= 0.001
        assert gc.get_freeze_count() > 0  # the specs and views loaded at start-up sit out of the GC's reach
    finally:
        await m.stop(grace_s=0.1)
        gc.unfreeze()
    assert sys.getswitchinterval() == before
