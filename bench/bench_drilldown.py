"""Drill-down figures: opening a 30-day chart and a 200-message SIP trace, each goal < 200 ms.

A real SQLite database holds a month of results of one probe at a 60 s interval (43,200 executions with
the probers' metrics, a few degraded stretches a day, a two-hour silence), rolled up as the engine's
retention job does; its newest run carries a 200-message SIP trace. The dashboard runs headless
(``run_test``, 140x45) on a MonitorAPI whose reads are the engine's own (``engine.reads``, in a worker
thread as ``Monitor`` runs them). Measured, median of several:

- read: ``reads.probe_detail`` over 30 days (what the window key asks the engine for);
- chart: from the key press ("4") to the last 30-day chart painted;
- trace: from Enter on the execution to its 200-arrow ladder painted (the reload reads the 24 h detail too).

Prints figures and records them in bench/results.json; asserts nothing about speed.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_db_size import _execution  # bench/ is on sys.path when this file runs as a script
from results import load_note, record
from sqlalchemy import insert

from callmeter_tui.domain.chart import DAY
from callmeter_tui.domain.health import HealthState
from callmeter_tui.domain.probe import ProbeKind, ProbeSpec
from callmeter_tui.domain.results import Evaluation, ProbeResult
from callmeter_tui.domain.siptrace import Direction, SipMessage, trace_blob
from callmeter_tui.engine import reads
from callmeter_tui.engine.api import ProbeDetail, TraceView
from callmeter_tui.store.database import Database, open_database, project_id
from callmeter_tui.store.executions import record_execution
from callmeter_tui.store.models import Execution, HealthSpanRow
from callmeter_tui.store.retention import rollup_hours
from callmeter_tui.store.sync import new_probe_row
from callmeter_tui.tui.app import CallMeterApp
from callmeter_tui.tui.charts import MetricChart
from callmeter_tui.tui.detail import ProbeDetailScreen
from callmeter_tui.tui.trace import TracePane
from tests.tui.fakes import FakeMonitor

INTERVAL = 60.0
MESSAGES = 200
REPEAT = 5


def build(path: Path, kind: ProbeKind, now: float) -> tuple[Database, int]:
    """A month of one probe's results, then its rollups, then one more run with a 200-message trace."""
    rng = random.Random(7)
    db = open_database(f"sqlite:///{path}")
    start = now - 30 * DAY
    with db.session() as s:
        probe = new_probe_row(ProbeSpec(name="edge", kind=kind, target="sip:192.0.2.7"), project_id(s), start)
        s.add(probe)
        s.flush()
        pid = probe.id
    silent = (start + 12 * DAY, start + 12 * DAY + 7200)
    rows, spans, state, since = [], [], "HEALTHY", start
    for minute in range(int(30 * DAY // INTERVAL) - 1):
        t = start + minute * INTERVAL
        if silent[0] <= t < silent[1]:
            continue
        bad = (minute % 1440) in range(600, 600 + rng.randint(0, 20))
        rows.append(_execution(rng, pid, kind, t + rng.random(), bad))
        now_state = "DEGRADED" if bad else "HEALTHY"
        if now_state != state or t == silent[1]:
            spans.append({"probe_id": pid, "state": state, "started_at": since, "ended_at": t, "open": False})
            state, since = now_state, t
    spans.append({"probe_id": pid, "state": state, "started_at": since, "ended_at": now - INTERVAL, "open": True})
    with db.session() as s:
        s.execute(insert(Execution), rows)
        s.execute(insert(HealthSpanRow), spans)
        rollup_hours(s, now - INTERVAL)
        s.commit()
    with db.session() as s:
        result = ProbeResult(ok=True, started_at=now - 1, duration_ms=40.0, sip_code=200, trace=_trace(now - 1))
        record_execution(s, pid, result, Evaluation(HealthState.HEALTHY))
        s.commit()
    return db, pid


def _trace(at: float) -> bytes:
    """100 OPTIONS and their 200 OK (~300 bytes each: a real exchange's size), one every 50 ms."""
    msgs = []
    for i in range(MESSAGES):
        cseq = i // 2 + 1
        first = "OPTIONS sip:192.0.2.7 SIP/2.0" if i % 2 == 0 else "SIP/2.0 200 OK"
        text = (
            f"{first}\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK{cseq:08d}\r\n"
            f"From: <sip:probe@10.0.0.1>;tag={cseq:06d}\r\nTo: <sip:192.0.2.7>\r\n"
            f"Call-ID: bench-{cseq}@10.0.0.1\r\nCSeq: {cseq} OPTIONS\r\nContent-Length: 0\r\n\r\n"
        )
        direction = Direction.TX if i % 2 == 0 else Direction.RX
        msgs.append(SipMessage(int((at + i * 0.05) * 1e6), direction, "UDP", "10.0.0.1:5060", "192.0.2.7:5060", text))
    return trace_blob(msgs)


class StoredMonitor(FakeMonitor):
    """The dashboard's API over the real database: the engine's reads, in a worker thread."""

    def __init__(self, db: Database, probe_id: int, kind: ProbeKind, now: float) -> None:
        super().__init__(now=now)
        self.db = db
        fake = self.add("edge", kind=kind.value)
        with db.session() as s:
            from callmeter_tui.store.models import Probe

            row = s.get(Probe, probe_id)
            assert row is not None
            meta = reads.row_meta(row, None)
        self.views = {probe_id: reads.probe_view(probe_id, self.specs.pop(fake), meta | {"position": 0})}

    async def probe_detail(self, probe_id: int, range_s: float = 86400.0) -> ProbeDetail:
        return await asyncio.to_thread(reads.probe_detail, self.db, self.views[probe_id], range_s, self.now)

    async def execution_trace(self, probe_id: int, execution_id: int | None = None) -> TraceView | None:
        return await asyncio.to_thread(reads.execution_trace, self.db, probe_id, execution_id)


def _paints(cls: type, attr: str) -> list[tuple[float, float]]:
    """(perf_counter, process CPU) after each call of ``cls.attr`` (a render or show): to the last paint."""
    done: list[tuple[float, float]] = []
    original = getattr(cls, attr)

    def timed(self, *a, **kw):  # type: ignore[no-untyped-def]
        out = original(self, *a, **kw)
        done.append((time.perf_counter(), time.process_time()))
        return out

    setattr(cls, attr, timed)
    return done


async def _settle(pilot, done: list[tuple[float, float]], since: tuple[float, float], ready) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Wait until ``ready()`` and no paint for 100 ms; (wall ms, CPU ms of all threads) from ``since`` to the
    last paint. On a shared machine the wall time waits for other work; the CPU time is what it costs."""
    deadline = time.perf_counter() + 30
    while time.perf_counter() < deadline:
        await pilot.pause(0.02)
        if ready() and done and done[-1][0] > since[0] and time.perf_counter() - done[-1][0] > 0.1:
            return (done[-1][0] - since[0]) * 1000, (done[-1][1] - since[1]) * 1000
    raise TimeoutError("the drill-down never showed it")


def _now() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


async def ui(m: StoredMonitor, pid: int) -> tuple[list[tuple[float, float]], list[tuple[float, float]], int]:
    charts, ladders = _paints(MetricChart, "render"), _paints(TracePane, "show")
    app = CallMeterApp(m, clock=lambda: m.now)
    chart_ms, trace_ms = [], []
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.pause(0.3)
        app.wall.probes.select_id(pid)
        await pilot.press("enter")
        await pilot.pause(0.5)
        screen = app.screen
        assert isinstance(screen, ProbeDetailScreen)
        for _ in range(REPEAT):
            await pilot.press("2")
            await pilot.pause(0.5)
            t = _now()
            await pilot.press("4")
            chart_ms.append(await _settle(pilot, charts, t, lambda: _window(screen) == 30 * DAY))
        points = max(len(c.data.points) for c in screen.query(MetricChart))
        execution_id = screen.detail.executions[0].id if screen.detail else 0
        pane = screen.query_one(TracePane)
        for _ in range(REPEAT):
            screen.query_one("#tabs").active = "tab-executions"
            await pilot.pause(0.3)
            pane.view = None
            t = _now()
            screen.post_message(_select(screen, execution_id))
            trace_ms.append(await _settle(pilot, ladders, t, lambda: _rows(pane) == MESSAGES and pane.view is not None))
    return chart_ms, trace_ms, points


def _window(screen: ProbeDetailScreen) -> float:
    charts = list(screen.query(MetricChart))
    return charts[0].data.until - charts[0].data.since if charts else 0.0


def _rows(pane: TracePane) -> int:
    from textual.widgets import DataTable

    return pane.query_one("#trace-ladder", DataTable).row_count


def _select(screen: ProbeDetailScreen, execution_id: int) -> object:
    """What Enter on the execution's row posts."""
    from textual.widgets import DataTable
    from textual.widgets._data_table import RowKey

    table = screen.query_one("#executions", DataTable)
    return DataTable.RowSelected(table, 0, RowKey(str(execution_id)))


def main() -> None:
    kind = ProbeKind(sys.argv[1]) if len(sys.argv) > 1 else ProbeKind.SIP_CALL
    now = float(int(time.time()))
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        db, pid = build(Path(tmp) / "month.db", kind, now)
        print(f"built a month of {kind.value} results at {INTERVAL:g} s in {time.perf_counter() - t:.1f} s")
        m = StoredMonitor(db, pid, kind, now)
        reads_ms = []
        for _ in range(REPEAT):
            t = time.perf_counter()
            detail = reads.probe_detail(db, m.views[pid], 30 * DAY, now)
            reads_ms.append((time.perf_counter() - t) * 1000)
        series = {k: len(v) for k, v in detail.series.items()}
        chart_ms, trace_ms, points = asyncio.run(ui(m, pid))
        db.close()
    read = statistics.median(reads_ms)
    chart, chart_cpu = (statistics.median(x) for x in zip(*chart_ms, strict=True))
    trace, trace_cpu = (statistics.median(x) for x in zip(*trace_ms, strict=True))
    print(f"30-day read (engine.reads.probe_detail): median {read:.0f} ms of {[round(x) for x in reads_ms]}")
    print(f"  points per metric: {series}")
    print(
        f"30-day charts, key to last paint: median {chart:.0f} ms (CPU {chart_cpu:.0f} ms) of {[(round(w), round(c)) for w, c in chart_ms]}"
    )
    print(
        f"{MESSAGES}-message trace, Enter to ladder: median {trace:.0f} ms (CPU {trace_cpu:.0f} ms) of {[(round(w), round(c)) for w, c in trace_ms]}"
    )
    note = load_note()
    charts = f"{len(series)} charts" if len(series) > 1 else "1 chart"
    record(
        f"tui.chart_30d_ms.{kind.value}",
        round(chart),
        "ms",
        label=f"drill-down 30-day window key to charts painted, {kind.value} at 60 s, {charts} of up to {points} "
        f"points from SQLite (CPU {chart_cpu:.0f} ms, read {read:.0f} ms; goal < 200 ms; bench_drilldown.py)",
        higher_is_better=False,
        note=note,
    )
    record(
        "tui.trace_200_ms",
        round(trace),
        "ms",
        label=f"drill-down Enter on an execution to its {MESSAGES}-message SIP ladder painted, from SQLite "
        f"(CPU {trace_cpu:.0f} ms; goal < 200 ms; bench_drilldown.py)",
        higher_is_better=False,
        note=note,
    )


if __name__ == "__main__":
    main()
