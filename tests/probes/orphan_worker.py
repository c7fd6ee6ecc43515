"""Run as a script by test_worker_exit.py: become a subreaper, start a parent process holding one prober
worker (optionally with a probe in flight), SIGKILL the parent, reap the orphaned worker and print, as JSON,
how it ended and which files the run left in $TMPDIR."""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36

PARENT = r"""
import asyncio, sys
from callmeter_tui.probes.protocol import ProbeOrder
from callmeter_tui.probes.supervisor import WorkerHandle

ORDERS = {
    "register": ProbeOrder(id=1, kind="sip_register", target="sip:u@127.0.0.1:9", timeout_s=5.0, username="u",
                           password="p"),
    "call": ProbeOrder(id=2, kind="sip_call", target="sip:echo@127.0.0.1:9", timeout_s=8.0, call_duration_s=3.0),
}

async def main():
    h = WorkerHandle(name="prober-1", on_exit=lambda *a: None)
    await h.start()
    if sys.argv[1] in ORDERS:
        h.dispatch(ORDERS[sys.argv[1]])
        await asyncio.sleep(1.0)
    print(h.pid, flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


def main(mode: str) -> None:
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    parent = subprocess.Popen([sys.executable, "-c", PARENT, mode], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    worker = int(parent.stdout.readline())
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    ended: dict[str, int] | None = None
    deadline = time.monotonic() + 20
    while ended is None and time.monotonic() < deadline:
        pid, status = os.waitpid(worker, os.WNOHANG)
        if pid:
            ended = {"exit": os.WEXITSTATUS(status)} if os.WIFEXITED(status) else {"signal": os.WTERMSIG(status)}
        else:
            time.sleep(0.05)
    if ended is None:
        os.kill(worker, signal.SIGKILL)
        os.waitpid(worker, 0)
    print(json.dumps({"ended": ended, "left": sorted(os.listdir(os.environ["TMPDIR"]))}))


if __name__ == "__main__":
    main(sys.argv[1])
