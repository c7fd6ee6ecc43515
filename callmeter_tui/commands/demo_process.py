"""The built-in demo SIP target set, run as a child process of the app.

In a child, the demo target's RTP echo never waits on the dashboard's event loop (an in-process echo
stalled by UI start-up made pjsua's jitter buffer grow to ~360 ms and the "clean" line look degraded).
The child exits when its parent does: it watches its stdin pipe for end-of-file.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

log = logging.getLogger("callmeter_tui.engine")
READY = "demo-targets-ready"


class DemoTargets:
    """Parent side: start the child, wait until it listens, stop it."""

    def __init__(self) -> None:
        self.proc: asyncio.subprocess.Process | None = None
        self._drainer: asyncio.Task[None] | None = None  # kept: a dropped task may be collected mid-run

    async def start(self, timeout: float = 15.0) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "callmeter_tui.commands.demo_process",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        assert self.proc.stdout is not None
        lines: list[str] = []
        try:
            async with asyncio.timeout(timeout):
                while True:
                    raw = await self.proc.stdout.readline()
                    if not raw:
                        break
                    line = raw.decode(errors="replace").strip()
                    if line == READY:
                        self._drainer = asyncio.get_running_loop().create_task(self._drain())
                        return
                    lines.append(line)
        except TimeoutError:
            pass
        await self.stop()
        reason = next((line for line in reversed(lines) if line), "no answer from the demo target process")
        raise OSError(f"demo SIP target not started: {reason}")

    async def _drain(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while await self.proc.stdout.readline():
            pass

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.terminate()
        try:
            await asyncio.wait_for(self.proc.wait(), 5)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


async def _child() -> int:
    from ..probes.demo_target import start_demo_targets

    try:
        targets = await start_demo_targets()
    except OSError as e:
        print(f"cannot listen on the demo ports 5070-5072: {e.strerror or e}", flush=True)
        return 1
    print(READY, flush=True)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    async def parent_gone() -> None:
        await reader.read()  # EOF: the parent exited (even by kill -9)
        stop.set()

    watcher = loop.create_task(parent_gone())  # kept: a dropped task may be collected mid-run
    await stop.wait()
    watcher.cancel()
    for t in targets:
        await t.stop()
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    raise SystemExit(asyncio.run(_child()))
