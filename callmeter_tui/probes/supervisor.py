"""The main process's handle on one worker process: spawn, pipe reading on the event loop, liveness.

The pipe is read with ``loop.add_reader`` (no polling); a closed pipe means the process died, and a
missing heartbeat means it hangs. Either way the handle's in-flight orders fail with the reason.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from callmeter_tui.domain.defaults import SIP_BIND
from callmeter_tui.domain.probe import ProbeKind

from .outcome import one_line
from .protocol import Cancel, ProbeOrder, Stop

READY_TIMEOUT_S = 30.0


@dataclass
class InFlight:
    order: ProbeOrder
    future: asyncio.Future[dict[str, Any]]
    abandoned: bool = False  # the caller gave up (hard timeout); the slot stays taken until the worker answers
    call: bool = field(init=False)
    account: bool = field(init=False)

    def __post_init__(self) -> None:
        self.call = ProbeKind(self.order.kind).places_call
        self.account = self.order.needs_account


class InFlightTable(dict[int, InFlight]):
    """A worker's running orders, with the counts the pool reads for every run (its slot choice) kept up to
    date as orders come and go: counting them on each read was O(orders in flight) per run."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.accounts = 0

    def __setitem__(self, key: int, value: InFlight) -> None:
        old = self.get(key)
        if old is not None:
            self._count(old, -1)
        super().__setitem__(key, value)
        self._count(value, 1)

    def pop(self, key: int, *default: Any) -> Any:
        if key in self:
            entry = super().pop(key)
            self._count(entry, -1)
            return entry
        return default[0] if default else super().pop(key)

    def clear(self) -> None:
        super().clear()
        self.calls = self.accounts = 0

    def _count(self, entry: InFlight, step: int) -> None:
        self.calls += step if entry.call else 0
        self.accounts += step if entry.account else 0


@dataclass
class WorkerHandle:
    name: str
    on_exit: Callable[[WorkerHandle, str], None]
    sip_bind: str = SIP_BIND
    sip_traces: bool = True
    proc: Any = None
    conn: Any = None
    pid: int = 0
    transports: dict[str, str] = field(default_factory=dict)
    inflight: InFlightTable = field(default_factory=InFlightTable)
    last_beat: float = 0.0
    alive: bool = False
    kill_reason: str | None = None
    stderr: Any = None  # an unnamed temporary file (never in /tmp's listing) the worker's fd 2 writes to
    crash_log: str = ""  # the worker's stderr tail (faulthandler stacks) after an unexpected exit
    _ready: asyncio.Future[dict[str, Any]] | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    # -- load ---------------------------------------------------------------------------------
    @property
    def calls(self) -> int:
        return self.inflight.calls

    @property
    def accounts(self) -> int:
        return self.inflight.accounts

    # -- life cycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        parent_sock, child_sock = socket.socketpair()
        # Unnamed (O_TMPFILE or unlinked at once): nothing is left behind even when this process is SIGKILLed.
        self.stderr = tempfile.TemporaryFile(prefix=f"callmeter-{self.name}-", suffix=".err")
        err_fd = self.stderr.fileno()
        # A fresh interpreter (not multiprocessing's re-import of __main__): the worker never runs
        # the console's own start-up code, and the console never imports pjsua2.
        self.proc = subprocess.Popen(  # noqa: ASYNC220 (pass_fds; returns at once, nothing awaited)
            [
                sys.executable,
                "-m",
                "callmeter_tui.probes.worker",
                str(child_sock.fileno()),
                str(err_fd),
                self.sip_bind,
                "1" if self.sip_traces else "0",
            ],
            pass_fds=(child_sock.fileno(), err_fd),
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        child_sock.close()  # so the parent sees EOF when the worker dies
        self.conn, self.pid = Connection(parent_sock.detach()), self.proc.pid
        self._ready = self._loop.create_future()
        self._loop.add_reader(self.conn.fileno(), self._readable)
        try:
            ready = await asyncio.wait_for(asyncio.shield(self._ready), READY_TIMEOUT_S)
        except TimeoutError:
            self.kill("did not start within 30 s")
            raise RuntimeError(f"prober worker {self.name} did not start within {READY_TIMEOUT_S:g} s") from None
        if ready.get("type") == "fatal":
            raise RuntimeError(ready["error"])
        self.transports = dict(ready.get("transports", {}))
        self.last_beat = time.monotonic()
        self.alive = True

    def send(self, msg: ProbeOrder | Cancel | Stop) -> None:
        self.conn.send(dict(vars(msg)))  # flat messages: what asdict() gives, without its deep copy per run

    def dispatch(self, order: ProbeOrder) -> asyncio.Future[dict[str, Any]]:
        assert self._loop is not None
        fut: asyncio.Future[dict[str, Any]] = self._loop.create_future()
        self.inflight[order.id] = InFlight(order, fut)
        try:
            self.send(order)
        except (OSError, ValueError) as exc:
            self.inflight.pop(order.id, None)
            raise RuntimeError(f"prober worker {self.name} unreachable: {exc}") from None
        return fut

    def abandon(self, order_id: int) -> None:
        entry = self.inflight.get(order_id)
        if entry is not None:
            entry.abandoned = True
            try:
                self.send(Cancel(id=order_id))
            except (OSError, ValueError):
                pass

    def kill(self, reason: str) -> None:
        """SIGKILL the worker; the closed pipe then reports the exit with ``reason``."""
        self.kill_reason = reason
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)

    async def stop(self, timeout_s: float = 5.0) -> None:
        if self.proc is None:
            return
        self.alive = False
        try:
            self.send(Stop())
        except (OSError, ValueError):
            pass
        deadline = time.monotonic() + timeout_s
        while self.proc.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if self.proc.poll() is None:
            self.kill("did not stop in time")
            await asyncio.sleep(0.1)
        self._close("prober stopped")

    # -- pipe ---------------------------------------------------------------------------------
    def _readable(self) -> None:
        try:
            while self.conn.poll():
                self._handle(self.conn.recv())
        except (EOFError, OSError):
            self._close(self._exit_reason())

    def _handle(self, msg: dict[str, Any]) -> None:
        kind = msg.get("type")
        if kind == "heartbeat":
            self.last_beat = time.monotonic()
        elif kind == "done":
            self.last_beat = time.monotonic()
            entry = self.inflight.pop(msg["id"], None)
            if entry is not None and not entry.future.done():
                entry.future.set_result(msg["result"])
            self.on_exit(self, "")  # slot released: wake waiters (empty reason = not an exit)
        elif kind in ("ready", "fatal") and self._ready is not None and not self._ready.done():
            self._ready.set_result(msg)

    def _exit_reason(self) -> str:
        code = None
        if self.proc is not None:
            try:
                code = self.proc.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                code = None
        if code is not None and code < 0:
            try:
                what = f"killed by {signal.Signals(-code).name}"
            except ValueError:
                what = f"killed by signal {-code}"
        elif code is not None:
            what = f"exited with code {code}"
        else:
            what = "closed its pipe"
        self.crash_log = _tail(self.stderr)
        lines = [ln for ln in self.crash_log.splitlines() if ln.strip()]
        # An abort message (e.g. a pjlib assertion) is worth quoting; faulthandler stacks go to the log only.
        tail = lines[-1].strip() if lines and "Fatal Python error" not in self.crash_log else ""
        reason = f"worker {self.name} (pid {self.pid}) {what}"
        if self.kill_reason:
            reason += f" ({self.kill_reason})"
        elif tail:
            reason += f": {tail}"
        return one_line(reason)

    def _close(self, reason: str) -> None:
        """Fail every order still in flight with ``reason`` and release the pipe."""
        was_alive = self.alive
        self.alive = False
        if self._loop is not None and self.conn is not None:
            try:
                self._loop.remove_reader(self.conn.fileno())
            except (OSError, ValueError):
                pass
        if self._ready is not None and not self._ready.done():
            self._ready.set_result({"type": "fatal", "error": f"prober worker failed to start: {reason}"})
        for entry in self.inflight.values():
            if not entry.future.done():
                entry.future.set_exception(WorkerLost(reason))
        self.inflight.clear()
        if self.conn is not None:
            try:
                self.conn.close()
            except OSError:
                pass
        if self.stderr is not None:
            self.stderr.close()
            self.stderr = None
        if was_alive and reason != "prober stopped":
            self.on_exit(self, reason)


class WorkerLost(Exception):
    """The worker running an order died or hung; the message is the one-line reason."""


def _tail(file: Any, size: int = 6000) -> str:
    """The last ``size`` bytes the worker wrote to its stderr file (pread: the shared offset stays put)."""
    if file is None:
        return ""
    try:
        end = os.fstat(file.fileno()).st_size
        return os.pread(file.fileno(), size, max(0, end - size)).decode("utf-8", "replace").strip()
    except (OSError, ValueError):
        return ""
