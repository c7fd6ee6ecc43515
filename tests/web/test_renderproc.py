"""Pages render in a child process (the event loop never shares a GIL with a big render), and the
server carries on in threads if that process dies or the database is one only this process can see."""

from __future__ import annotations

import os
import signal

from callmeter_tui.bus.events import EventBus, PagesChanged
from callmeter_tui.web.renderproc import RENDER_NICENESS, shareable

from .conftest import Seed
from .test_http import simple_page


def test_which_databases_a_child_process_can_open() -> None:
    assert shareable("sqlite:////var/lib/callmeter/callmeter.db") and shareable("postgresql://u@db/callmeter")
    assert not shareable("sqlite://") and not shareable("sqlite:///:memory:") and not shareable("")
    assert not shareable("sqlite:///file:x?mode=memory&cache=shared&uri=true")


async def test_pages_render_in_a_child_process_and_survive_its_death(seed: Seed, bus: EventBus, make_server) -> None:  # type: ignore[no-untyped-def]
    simple_page(seed)
    srv = await make_server()
    pool = srv.server._renderer.procs
    assert pool is not None
    pids = list(pool._processes)  # the render process (forked from a forkserver), not us
    assert len(pids) == 1 and pids[0] != os.getpid()
    assert "Acme Voice" in (await srv.client.get("/status")).text
    folder = srv.server._renderer.ship_dir  # the child hands the bodies over in files, read and removed at once
    assert os.path.isdir(folder) and os.listdir(folder) == []
    os.kill(pids[0], signal.SIGKILL)
    seed.edit_page("status", name="After the crash")
    bus.publish(PagesChanged(("status",)))
    assert "After the crash" in (await srv.client.get("/status")).text  # rendered in a thread instead
    assert srv.server._renderer.procs is None
    await srv.server.stop()
    assert not os.path.exists(folder)


async def test_the_render_process_runs_at_a_lower_cpu_priority(seed: Seed, make_server) -> None:  # type: ignore[no-untyped-def]
    """When no core is free the kernel runs the event loop first: a render is background work."""
    simple_page(seed)
    srv = await make_server()
    (pid,) = list(srv.server._renderer.procs._processes)
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    assert os.getpriority(os.PRIO_PROCESS, pid) == min(19, ours + RENDER_NICENESS)


def _gc_state() -> tuple[bool, int]:
    import gc

    return gc.isenabled(), gc.get_stats()[2]["collections"]


async def test_the_render_process_collects_garbage_between_renders_not_during_them(seed: Seed, make_server) -> None:  # type: ignore[no-untyped-def]
    """Automatic collections, triggered by a render's allocations, walked the kept snapshots mid-render;
    the child collects once a render has been quiet for COLLECT_AFTER_S instead."""
    import asyncio

    from callmeter_tui.web.renderproc import COLLECT_AFTER_S

    simple_page(seed)
    srv = await make_server()
    pool = srv.server._renderer.procs
    loop = asyncio.get_running_loop()
    await asyncio.sleep(COLLECT_AFTER_S + 0.5)  # the start's renders: collected by now
    enabled, before = await loop.run_in_executor(pool, _gc_state)
    assert not enabled  # no automatic collection in the render process
    await srv.server._render("status")
    _, right_after = await loop.run_in_executor(pool, _gc_state)
    await asyncio.sleep(COLLECT_AFTER_S + 0.5)
    _, later = await loop.run_in_executor(pool, _gc_state)
    assert right_after == before and later == before + 1  # one full collection, after the render
