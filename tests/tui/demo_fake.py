"""Run the dashboard against the FakeMonitor in a real terminal (tmux test, manual looks).

    python -m tests.tui.demo_fake [--kiosk] [--probes N] [--theme dark|light|high-contrast]

A background task records a run every ``--every`` seconds so the screen moves like the real thing.
The lead's ``callmeter-tui --demo`` replaces this once the real engine runs.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time

from callmeter_tui.tui.app import CallMeterApp
from tests.tui.fakes import bulk_monitor, mixed_monitor


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kiosk", action="store_true")
    ap.add_argument("--probes", type=int, default=0, help="0 = the six-probe mixed set")
    ap.add_argument("--theme", default="dark")
    ap.add_argument("--every", type=float, default=1.0)
    args = ap.parse_args()
    m = (
        bulk_monitor(args.probes, now=time.time())
        if args.probes
        else mixed_monitor("major", now=time.time(), web_url="http://127.0.0.1:8080")
    )
    states = itertools.cycle(["HEALTHY", "HEALTHY", "DEGRADED", "HEALTHY", "UNHEALTHY"])
    task: asyncio.Task | None = None

    async def feed() -> None:
        ids = itertools.cycle(list(m.views))
        while True:
            await asyncio.sleep(args.every)
            m.now = time.time()
            pid = next(ids)
            m.record(pid, next(states), at=m.now)

    async def startup() -> None:
        nonlocal task
        task = asyncio.get_running_loop().create_task(feed())

    async def shutdown() -> None:
        if task is not None:
            task.cancel()

    CallMeterApp(m, kiosk=args.kiosk, theme=args.theme, startup=startup, shutdown=shutdown).run()


if __name__ == "__main__":
    main()
