"""A prober worker process: one pjsua2 Endpoint, commands over a pipe, one thread per running probe.

It runs in its own process (``python -m callmeter_tui.probes.worker PIPE_FD STDERR_FD``) so a native crash, abort or hang in pjsip costs one worker (restarted by
the pool), never the console. The main process never imports pjsua2.
"""

from __future__ import annotations

import faulthandler
import os
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from multiprocessing.connection import Connection
from typing import Any

from callmeter_tui.domain.probe import ProbeKind
from callmeter_tui.domain.results import ProbeResult
from callmeter_tui.domain.siptrace import trace_blob

from .outcome import Clock, one_line, pj_error_text
from .protocol import ACCOUNTS_PER_WORKER, CALLS_PER_WORKER, HEARTBEAT_S, Done, Fatal, Heartbeat, ProbeOrder, Ready


def _silence_stdio(stderr_fd: int | None) -> None:
    """pjlib prints banner lines before any log config applies: keep the console's stdout clean.
    stderr goes to the parent's unnamed file so the pool can quote an abort message as the crash reason."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    if stderr_fd is not None:
        os.dup2(stderr_fd, 2)
        os.close(stderr_fd)


def worker_main(conn: Connection, stderr_fd: int | None, bind_address: str, traces: bool = True) -> None:
    """Process entry point: start the endpoint, then serve orders until Stop or the pipe closes."""
    _silence_stdio(stderr_fd)
    faulthandler.enable()  # a native crash leaves the Python stacks in the stderr file for the pool's log
    send_lock = threading.Lock()

    def send(msg: Any) -> None:
        with send_lock:
            try:
                conn.send(asdict(msg))
            except (OSError, ValueError):
                pass  # main process is gone; the recv loop will see EOF

    try:
        from .endpoint import WorkerEndpoint, run_tag

        wep = WorkerEndpoint(
            on_heartbeat=lambda: send(Heartbeat()), bind_address=bind_address, traces=traces, heartbeat_s=HEARTBEAT_S
        )
    except Exception as exc:
        send(Fatal(error=one_line(f"endpoint failed to start: {pj_error_text(exc)}")))
        os._exit(3)
    send(Ready(pid=os.getpid(), transports=dict(wep.transports), codecs=wep.codecs))
    from .sip_options import start_options

    runners = _runners()
    cancels: dict[int, threading.Event] = {}
    pool = ThreadPoolExecutor(
        max_workers=CALLS_PER_WORKER + ACCOUNTS_PER_WORKER,
        thread_name_prefix="probe",
        initializer=lambda: wep.ep.libRegisterThread("probe"),
    )

    def finish(order: ProbeOrder, result: ProbeResult) -> None:
        result.details.setdefault("prober_pid", os.getpid())
        messages = wep.traces.claim(run_tag(order.id))
        if messages:  # redacted, capped and compressed here: secrets never leave the worker
            result.trace = trace_blob(messages, secrets=(order.password,) if order.password else ())
        if ProbeKind(order.kind).places_call:
            result.details.setdefault("call_answered", False)  # ASR counts every call attempt
        send(Done(id=order.id, result=result.to_dict()))

    def run_one(order: ProbeOrder, cancel: threading.Event) -> None:
        """REGISTER and calls: a pool thread (registered with pjlib) follows the probe step by step."""
        try:
            result = runners[order.kind](wep, order, cancel)
        except Exception as exc:
            result = _bug(exc)
        finally:
            cancels.pop(order.id, None)
        finish(order, result)

    def start(order: ProbeOrder) -> None:
        if order.kind == ProbeKind.SIP_OPTIONS.value:
            try:  # OPTIONS are event-driven: sent from this thread, finished by the event thread
                start_options(wep, order, lambda result: finish(order, result))
            except Exception as exc:
                finish(order, _bug(exc))
            return
        cancels[order.id] = threading.Event()
        pool.submit(run_one, order, cancels[order.id])

    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            break
        kind = msg.get("type")
        if kind == "probe":
            start(ProbeOrder(**msg))
        elif kind == "cancel":
            ev = cancels.get(msg["id"])
            if ev is not None:
                ev.set()
            else:
                wep.give_up(run_tag(msg["id"]))
        elif kind == "stop":
            break
    for ev in list(cancels.values()):
        ev.set()
    pool.shutdown(wait=True)
    wep.shutdown()
    conn.close()
    os._exit(0)  # pjsip is destroyed; skip interpreter teardown of SWIG objects


def _bug(exc: Exception) -> ProbeResult:
    last = traceback.extract_tb(exc.__traceback__)[-1:]
    where = f" at {os.path.basename(last[0].filename)}:{last[0].lineno}" if last else ""
    return Clock().fail(f"prober error: {type(exc).__name__}: {exc}{where}")


def _runners() -> dict[str, Callable[..., ProbeResult]]:
    from .sip_call import run_call
    from .sip_register import run_register

    return {
        ProbeKind.SIP_REGISTER.value: run_register,
        ProbeKind.SIP_CALL.value: run_call,
    }


if __name__ == "__main__":
    import sys

    # argv: <socket fd> <stderr fd, or "" for none> <SIP/RTP bind address> <SIP traces: 1 or 0>
    worker_main(
        Connection(int(sys.argv[1])), int(sys.argv[2]) if sys.argv[2] else None, sys.argv[3], sys.argv[4] == "1"
    )
