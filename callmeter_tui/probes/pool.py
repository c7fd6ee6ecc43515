"""ProberPool: supervised pjsua2 worker processes sized to the call concurrency, hard timeouts per probe.

Each worker holds one Endpoint (4 calls max in this pjsua2 build), so 16 concurrent calls take 4
workers; OPTIONS and REGISTER share them. A worker that dies or stops sending heartbeats is killed
and restarted; its in-flight probes come back as failures "prober crashed: ...", others keep running.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import time
from collections.abc import Callable
from typing import Any

from callmeter_tui.domain.defaults import SIP_BIND
from callmeter_tui.domain.probe import ProbeKind, ProbeSpec
from callmeter_tui.domain.results import ProbeResult
from callmeter_tui.domain.sipuri import SipUri

from .icmpwatch import IcmpWatcher, Watch
from .outcome import one_line
from .precheck import DEFAULT_PORTS, check_spec, resolve, udp_port_unreachable
from .protocol import ACCOUNTS_PER_WORKER, CALLS_PER_WORKER, SHARED_ACCOUNTS, ProbeOrder
from .supervisor import READY_TIMEOUT_S, WorkerHandle, WorkerLost

HANG_AFTER_S = 5.0  # no heartbeat for this long = hung worker
CALL_GRACE_S = 6.0  # media set-up, stats, hangup and recorder close after the held call
OWN_ACCOUNTS = ACCOUNTS_PER_WORKER - SHARED_ACCOUNTS - 1


def hard_timeout_s(spec: ProbeSpec) -> float:
    """OPTIONS/REGISTER: timeout_s. Calls: timeout_s covers set-up, the held duration comes on top."""
    return spec.run_budget_s + (CALL_GRACE_S if ProbeKind(spec.kind).places_call else 0.0)


class ProberPool:
    """Runs probes in worker processes. ``run`` never raises and always returns within its hard timeout."""

    def __init__(
        self,
        call_concurrency: int = 4,
        *,
        sip_bind: str = SIP_BIND,
        sip_traces: bool = True,
        log: Any = None,
        on_worker_restart: Callable[[str], None] | None = None,
    ) -> None:
        self.sip_bind = sip_bind  # engine.sip_bind: every worker's SIP and RTP transports bind here
        self.sip_traces = sip_traces  # engine.sip_traces: workers keep each run's SIP messages
        self.call_concurrency = max(1, int(call_concurrency))
        self.size = max(1, math.ceil(self.call_concurrency / CALLS_PER_WORKER))
        self._log = log if log is not None else logging.getLogger("callmeter_tui.probes")
        self._on_restart = on_worker_restart
        self._workers: list[WorkerHandle] = []
        self._ids = itertools.count(1)
        self._slots: asyncio.Condition | None = None
        self._monitor: asyncio.Task[None] | None = None
        self._restarts: set[asyncio.Task[None]] = set()
        self._started = False
        self._stopping = False
        self._closed = False  # stop() was called: run() fails instead of starting workers again
        self._bg: set[asyncio.Task[None]] = set()
        self._waiting = 0  # run() calls waiting for a free slot
        self._start_lock: asyncio.Lock | None = None
        self._icmp = IcmpWatcher()  # one socket spots ICMP port-unreachable for every UDP run
        self.restart_count = 0

    # -- life cycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        if self._start_lock is None:
            self._start_lock = asyncio.Lock()
        async with self._start_lock:
            if self._started:
                return
            self._stopping = False
            self._closed = False
            self._slots = asyncio.Condition()
            self._workers = [self._handle(i) for i in range(self.size)]
            outcomes = await asyncio.gather(*(w.start() for w in self._workers), return_exceptions=True)
            failed = [o for o in outcomes if isinstance(o, BaseException)]
            if failed:  # no half-started pool: stop the ones that came up, report the first failure
                await asyncio.gather(*(w.stop() for w in self._workers), return_exceptions=True)
                self._workers = []
                raise RuntimeError(f"workers failed to start: {failed[0]}")
            self._monitor = asyncio.create_task(self._watch(), name="prober-watch")
            self._started = True

    async def stop(self) -> None:
        self._stopping = True
        self._closed = True
        if self._monitor is not None:
            self._monitor.cancel()
            self._monitor = None
        for task in list(self._restarts):
            task.cancel()
        self._icmp.close()
        await asyncio.gather(*(w.stop() for w in self._workers), return_exceptions=True)
        self._workers = []
        self._started = False

    @property
    def workers(self) -> list[WorkerHandle]:
        """Live handles (read-only use: tests and the bench look at pids and load)."""
        return list(self._workers)

    # -- running --------------------------------------------------------------------------------
    async def run(self, spec: ProbeSpec, password: str | None = None) -> ProbeResult:
        started_at, t0 = time.time(), time.perf_counter()

        def fail(error: str, **kw: Any) -> ProbeResult:
            return ProbeResult.failure(started_at, (time.perf_counter() - t0) * 1000, one_line(error), **kw)

        try:
            uri, proxy = check_spec(spec)
            address = await resolve(uri, "target", spec.timeout_s)
            if proxy is not None:
                await resolve(proxy, "outbound_proxy", spec.timeout_s)
            if self._closed:
                return fail("prober stopped")
            if not self._started:
                await self.start()
            order = ProbeOrder.from_spec(next(self._ids), spec, password)
            hard = hard_timeout_s(spec)
            worker = await self._acquire(order, hard)
            if worker is None:
                return fail(f"prober busy: no free worker slot within {hard:g} s")
            fut = worker.dispatch(order)
            watch = None
            if uri.transport == "udp" and proxy is None:
                watch = self._watch_port(uri, address, spec.timeout_s)
            try:
                done = await _first_of(fut, hard, watch.refused if watch is not None else None)
            except PortUnreachable:
                worker.abandon(order.id)
                return fail(
                    f"transport: port unreachable: nothing listens on UDP {uri.hostport} (ICMP)", **_call_details(spec)
                )
            except TimeoutError:
                worker.abandon(order.id)
                call = ProbeKind(spec.kind).places_call
                what = "call did not complete" if call else "no response"
                return fail(f"timeout: {what} within {hard:g} s", details={"call_answered": False} if call else {})
            finally:
                if watch is not None:
                    watch.close()
            return ProbeResult.from_dict(done)
        except ValueError as exc:
            return fail(str(exc), **_call_details(spec))
        except WorkerLost as exc:
            why = str(exc) if str(exc) == "prober stopped" else f"prober crashed: {exc}"
            return fail(why, **_call_details(spec))
        except RuntimeError as exc:  # start-up or pipe failure: the message is already one line
            return fail(f"prober error: {exc}", **_call_details(spec))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._warn(f"probe {spec.name!r} failed inside the pool: {exc!r}")
            return fail(f"prober error: {type(exc).__name__}: {exc}")

    def _watch_port(self, uri: SipUri, address: str, within_s: float) -> Watch | _OwnSocket:
        """The shared ICMP watcher where the platform allows it, else a connected socket of this run's own."""
        watch = self._icmp.watch(address, uri.port or DEFAULT_PORTS["udp"])
        if watch is not None:
            return watch
        return _OwnSocket(asyncio.ensure_future(udp_port_unreachable(uri, within_s)))

    async def _acquire(self, order: ProbeOrder, wait_s: float) -> WorkerHandle | None:
        """The least loaded live worker with a free call/account slot, waiting up to ``wait_s``.

        While a worker restarts the wait goes on (up to READY_TIMEOUT_S): a probe's timeout is for its SIP
        transaction, and a worker's start-up (0.3 s idle, seconds under load) must not turn a probe that
        arrives meanwhile into a failure.
        """
        assert self._slots is not None
        now = time.monotonic()
        deadline, restart_deadline = now + wait_s, now + READY_TIMEOUT_S
        async with self._slots:
            while True:
                worker = self._pick(order)
                if worker is not None:
                    return worker
                left = deadline - time.monotonic()
                if left <= 0 and self._restarts:
                    left = restart_deadline - time.monotonic()
                if left <= 0:
                    return None
                self._waiting += 1
                try:
                    await asyncio.wait_for(self._slots.wait(), min(left, 0.5))
                except TimeoutError:
                    pass
                finally:
                    self._waiting -= 1

    def _pick(self, order: ProbeOrder) -> WorkerHandle | None:
        fits = [
            w
            for w in self._workers
            if w.alive
            and (not ProbeKind(order.kind).places_call or w.calls < CALLS_PER_WORKER)
            and (not order.needs_account or w.accounts < OWN_ACCOUNTS)
        ]
        if not fits:
            return None
        return min(fits, key=lambda w: (w.calls, len(w.inflight)))

    # -- supervision ----------------------------------------------------------------------------
    def _handle(self, index: int | str) -> WorkerHandle:
        """A new worker handle (not started) named ``prober-<index>``, or with the given name."""
        name = index if isinstance(index, str) else f"prober-{index}"
        return WorkerHandle(name=name, on_exit=self._worker_event, sip_bind=self.sip_bind, sip_traces=self.sip_traces)

    def _worker_event(self, worker: WorkerHandle, reason: str) -> None:
        """Called by a handle when a slot frees (reason "") or the process is gone (reason set)."""
        if reason and not self._stopping:
            task = asyncio.get_running_loop().create_task(self._restart(worker, reason))
            self._restarts.add(task)
            task.add_done_callback(self._restarts.discard)
        if not (reason or self._waiting):
            return  # the common case: nobody waits for a slot
        notify = asyncio.get_running_loop().create_task(self._notify_slots())
        self._bg.add(notify)
        notify.add_done_callback(self._bg.discard)

    async def _notify_slots(self) -> None:
        if self._slots is not None:
            async with self._slots:
                self._slots.notify_all()

    async def _restart(self, dead: WorkerHandle, reason: str) -> None:
        self.restart_count += 1
        self._warn(f"prober worker restarted: {reason}")
        if dead.crash_log:
            self._warn(f"prober worker {dead.name} stderr before exit:\n{dead.crash_log}")
        if self._on_restart is not None:
            try:
                self._on_restart(reason)
            except Exception as exc:
                self._warn(f"on_worker_restart callback failed: {exc!r}")
        index = self._workers.index(dead) if dead in self._workers else None
        fresh = self._handle(dead.name)
        for attempt in range(5):
            if self._stopping:
                return
            try:
                await fresh.start()
                break
            except Exception as exc:
                self._warn(f"prober worker {dead.name} failed to restart: {exc}")
                await asyncio.sleep(min(5.0, 0.5 * 2**attempt))
                fresh = self._handle(dead.name)
        if self._stopping:
            await fresh.stop()
            return
        if index is not None and index < len(self._workers) and self._workers[index] is dead:
            self._workers[index] = fresh
        else:
            self._workers.append(fresh)
        await self._notify_slots()

    async def _watch(self) -> None:
        """Kill workers whose event thread stopped sending heartbeats (a hang in native code)."""
        while True:
            await asyncio.sleep(0.5)
            now = time.monotonic()
            for w in list(self._workers):
                if w.alive and now - w.last_beat > HANG_AFTER_S:
                    w.kill(f"hung: no heartbeat for {HANG_AFTER_S:g} s")

    def _warn(self, text: str) -> None:
        log = self._log
        if hasattr(log, "warning"):
            log.warning(text)
        elif callable(log):
            log(text)


class PortUnreachable(Exception):
    """The UDP target answered with ICMP port-unreachable before the SIP transaction ended."""


class _OwnSocket:
    """The per-run fallback watch (a task on its own connected socket), shaped like icmpwatch.Watch."""

    def __init__(self, task: asyncio.Future[bool]) -> None:
        self.refused = task

    def close(self) -> None:
        self.refused.cancel()


async def _first_of(fut: asyncio.Future[Any], hard: float, watch: asyncio.Future[bool] | None) -> Any:
    """The worker's answer within ``hard`` seconds, unless the ICMP watch proves the port dead first.

    Callbacks and one timer, no task per run: this runs for every probe. ``fut`` is never cancelled here.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + hard
    while True:
        woken: asyncio.Future[None] = loop.create_future()

        def wake(_: object = None, woken: asyncio.Future[None] = woken) -> None:
            if not woken.done():
                woken.set_result(None)

        fut.add_done_callback(wake)
        watching = watch is not None and not watch.done()
        if watching:
            assert watch is not None
            watch.add_done_callback(wake)
        timer = loop.call_at(deadline, wake)
        try:
            await woken
        finally:
            timer.cancel()
            fut.remove_done_callback(wake)
            if watching:
                assert watch is not None
                watch.remove_done_callback(wake)
        if fut.done():
            return fut.result()
        if watching and watch is not None and watch.done() and not watch.cancelled() and watch.result():
            raise PortUnreachable()
        if loop.time() >= deadline:
            raise TimeoutError()


def _call_details(spec: ProbeSpec) -> dict[str, Any]:
    return {"details": {"call_answered": False}} if ProbeKind(spec.kind).places_call else {}
