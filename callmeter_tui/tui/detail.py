"""Probe drill-down: metrics vs thresholds, charts per range, executions, SIP trace, transitions, webhooks.

A probe whose last run failed opens on its Trace tab; Enter on an execution shows that run's trace.
The commands (run now, pause, edit, delete, open incident, webhook actions) are in ``detail_actions``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, Static, TabbedContent, TabPane

from ..domain.chart import WINDOWS, next_window, window_by_key
from ..domain.health import HealthState
from ..domain.metric_catalog import METRICS
from ..engine.api import ExecutionRow, MonitorAPI, ProbeDetail
from .audio import CallAudio
from .charts import ChartStack
from .detail_actions import DetailActions
from .keys import ACTIONS
from .plain import notify_plain, plain
from .rows import fmt_metric
from .tables import refill
from .theme import SYMBOLS
from .trace import TracePane

RANGES = {w.key: (w.label, w.seconds) for w in WINDOWS}
CHART_KEY = next(a.key for a in ACTIONS if a.id == "chart_window")


def _t(at: float | None) -> str:
    return "—" if at is None else time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(at))


class ProbeDetailScreen(DetailActions, Screen):
    BINDINGS = [
        Binding("escape,backspace", "app.pop_screen", "Back"),
        Binding("1", "range('1')", "1h"),
        Binding("2", "range('2')", "24h"),
        Binding("3", "range('3')", "7d"),
        Binding("4", "range('4')", "30d"),
        Binding(CHART_KEY, "next_window", "Chart window", id="chart_window"),
        Binding("r", "run_now", "Run now"),
        Binding("p", "pause", "Pause/resume"),
        Binding("e", "edit", "Edit"),
        Binding("x", "delete", "Delete"),
        Binding("a", "add_webhook", "Add webhook"),
        Binding("t", "test_event", "Test event"),
        Binding("w", "toggle_webhook", "Enable/disable webhook"),
        Binding("d", "redeliver", "Redeliver"),
        Binding("R", "rotate", "Rotate secret", show=False),
        Binding("X", "delete_webhook", "Delete webhook", show=False),
        Binding("o", "open_incident", "Open incident"),
    ]

    def __init__(self, monitor: MonitorAPI, probe_id: int, *, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.monitor = monitor
        self.probe_id = probe_id
        self.clock = clock
        self.range_key = "2"
        self._loading = self._again = False
        self.detail: ProbeDetail | None = None
        self.trace_execution: int | None = None  # None: the latest execution's trace
        self._opened = False

    def compose(self) -> ComposeResult:
        yield Static("Loading…", id="detail-head")
        with TabbedContent(id="tabs"):
            with TabPane("Overview", id="tab-overview"):
                with VerticalScroll():
                    yield DataTable(id="metrics", cursor_type="none", zebra_stripes=True)
                    yield CallAudio("", id="call-audio")
                    yield Label("", id="range-label", classes="chart-label")
                    yield ChartStack(id="charts")
            with TabPane("Executions", id="tab-executions"):
                yield DataTable(id="executions", cursor_type="row", zebra_stripes=True)
            with TabPane("Trace", id="tab-trace"):
                yield TracePane(id="trace")
            with TabPane("Transitions & incidents", id="tab-transitions"):
                with VerticalScroll():
                    yield DataTable(id="transitions", cursor_type="row")
                    yield Label("Incidents", classes="chart-label")
                    yield DataTable(id="incidents", cursor_type="row")
            with TabPane("Webhooks", id="tab-webhooks"):
                with VerticalScroll():
                    yield DataTable(id="webhooks", cursor_type="row")
                    yield Label("Deliveries (d: redeliver)", classes="chart-label")
                    yield DataTable(id="deliveries", cursor_type="row")
                    yield Static("", id="attempts")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#metrics", DataTable).add_columns("Metric", "Latest", "Warning", "Critical", "Status")
        self.query_one("#executions", DataTable).add_columns(
            "Started (UTC)", "State", "SIP", "Reason", "Error", "Duration", "MOS"
        )
        self.query_one("#transitions", DataTable).add_columns("At (UTC)", "From", "To")
        self.query_one("#incidents", DataTable).add_columns("Incident")
        self.query_one("#webhooks", DataTable).add_columns("Id", "URL", "Format", "Enabled", "Secret", "Source")
        self.query_one("#deliveries", DataTable).add_columns(
            "Id", "Created (UTC)", "Status", "Attempts", "Last error", "Test"
        )
        self.reload()  # and again whenever the engine reports news about this probe (CallMeterApp.on_bus_batch)

    def reload(self) -> None:
        """Load now, or once more after the load in flight (a burst of engine events never cancels
        a load before it finishes, so a busy engine cannot keep the screen on stale data)."""
        if self._loading:
            self._again = True
            return
        self._loading = True
        self.run_worker(self._load(), group="detail", exit_on_error=False)

    async def _load(self) -> None:
        try:
            detail = await self.monitor.probe_detail(self.probe_id, RANGES[self.range_key][1])
            trace = await self.monitor.execution_trace(self.probe_id, self.trace_execution)
        except Exception as e:
            self.query_one("#detail-head", Static).update(plain(f"Could not load probe {self.probe_id}: {e}"))
            return
        finally:
            self._loading = False
        if self.is_mounted:
            self.detail = detail
            self._fill(detail)
            self.query_one(TracePane).show(trace)
            if not self._opened:  # a failed run's drill-down opens on its trace
                self._opened = True
                if detail.view.error:
                    self.query_one("#tabs", TabbedContent).active = "tab-trace"
        if self._again:
            self._again = False
            self.reload()

    # --- filling ------------------------------------------------------------------------------
    def _fill(self, d: ProbeDetail) -> None:
        v = d.view
        st = HealthState.parse(v.state)
        origin = "from the config file" if v.source == "config" else "created in the dashboard"
        status = "enabled" if v.enabled else "PAUSED"
        err = f"\nLast error: {v.error}" + (f" (SIP {v.sip_code})" if v.sip_code else "") if v.error else ""
        self.query_one("#detail-head", Static).update(
            plain(
                f"{SYMBOLS[st]} {st.label.upper()}  {v.name}  ·  {v.kind} → {v.target}\n"
                f"{status} · every {v.interval_s:g}s · agent {v.agent} · {origin} · "
                f"state since {_t(v.state_since)} · last run {_t(v.last_execution_at)}{err}"
            )
        )
        levels = {b.get("metric"): b.get("level") for b in v.breaches}
        mt = self.query_one("#metrics", DataTable)
        mt.clear()
        for name, metric in METRICS.items():
            th = v.thresholds.get(name, {})
            if name not in v.metrics and not th:
                continue
            fmt = lambda x, unit=metric.unit: "—" if x is None else f"{x:g}{unit}"  # noqa: E731
            level = levels.get(name)
            mt.add_row(
                metric.label,
                fmt_metric(name, v.metrics.get(name)),
                fmt(th.get("warning")),
                fmt(th.get("critical")),
                {"critical": "✖ critical", "warning": "▲ warning"}.get(str(level), "● ok"),
            )
        self.query_one("#call-audio", CallAudio).show(d.executions[0] if d.executions else None, self.size.width)
        self._fill_charts(d)
        refill(self.query_one("#executions", DataTable), map(_execution_row, d.executions))
        refill(
            self.query_one("#transitions", DataTable),
            ((None, (_t(t.at), str(t.previous_state), str(t.current_state))) for t in d.transitions),
        )
        refill(self.query_one("#incidents", DataTable), ((None, (plain(_describe(inc)),)) for inc in d.incidents))
        self._fill_webhooks(d)

    def _fill_charts(self, d: ProbeDetail) -> None:
        window = window_by_key(self.range_key)
        if d.until > d.since and abs(d.until - d.since - window.seconds) > 1:
            return  # read for the window before the key was pressed: the charts' own load follows
        keys = "  ".join(f"{w.key}: {w.label}" for w in WINDOWS)
        self.query_one("#range-label", Label).update(
            f'Charts over {window.label}  ({keys}; "Chart window" in the footer cycles them)\n'
            "Bottom row of each chart: health over time ("
            + "  ".join(f"{SYMBOLS[st]} {st.label}" for st in HealthState)
            + "; blank: no data)"
        )
        self.query_one(ChartStack).show(d, window)

    def _fill_webhooks(self, d: ProbeDetail) -> None:
        rows = []
        for w in d.webhooks:
            enabled = "yes" if w.enabled else f"no ({w.disabled_reason})" if w.disabled_reason else "no"
            rows.append(
                (str(w.id), (str(w.id), plain(w.url), w.format, plain(enabled), plain(w.masked_secret), w.source))
            )
        refill(self.query_one("#webhooks", DataTable), rows)
        self._fill_deliveries()

    def _fill_deliveries(self) -> None:
        hook = self.selected_webhook
        refill(
            self.query_one("#deliveries", DataTable),
            (
                (
                    str(dv.id),
                    (
                        str(dv.id),
                        _t(dv.created_at),
                        dv.status,
                        str(dv.attempts),
                        plain(dv.last_error or ""),
                        "yes" if dv.is_test else "",
                    ),
                )
                for dv in (hook.deliveries if hook else ())
            ),
        )

        self._fill_attempts()

    def _fill_attempts(self) -> None:
        dv = self.selected_delivery
        lines = [f"Attempts of delivery {dv.id}:"] if dv and dv.attempt_log else []
        for a in dv.attempt_log if dv else ():
            status = a.http_status or "—"
            ok = "ok" if a.success else (a.error or "failed")
            lines.append(f"  {_t(a.at)}  HTTP {status}  {a.duration_ms or 0:.0f} ms  {ok}")
        self.query_one("#attempts", Static).update(plain("\n".join(lines)))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "executions" and event.row_key.value:
            self.trace_execution = int(event.row_key.value)
            self.query_one("#tabs", TabbedContent).active = "tab-trace"
            self.run_worker(self._load_trace(), group="trace", exclusive=True, exit_on_error=False)

    async def _load_trace(self) -> None:
        """Only the chosen run's trace: the rest of the drill-down has not changed."""
        try:
            trace = await self.monitor.execution_trace(self.probe_id, self.trace_execution)
        except Exception as e:
            self.query_one("#trace-head", Static).update(plain(f"Could not load the trace: {e}"))
            return
        if self.is_mounted:
            self.query_one(TracePane).show(trace)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "webhooks":
            self._fill_deliveries()
        elif event.data_table.id == "deliveries":
            self._fill_attempts()

    @property
    def selected_webhook(self):
        if not self.detail or not self.detail.webhooks:
            return None
        row = self.query_one("#webhooks", DataTable).cursor_row
        return self.detail.webhooks[max(0, min(row, len(self.detail.webhooks) - 1))]

    @property
    def selected_delivery(self):
        hook = self.selected_webhook
        if not hook or not hook.deliveries:
            return None
        row = self.query_one("#deliveries", DataTable).cursor_row
        return hook.deliveries[max(0, min(row, len(hook.deliveries) - 1))]

    # --- chart window (the other actions: detail_actions) -------------------------------------
    def action_range(self, key: str) -> None:
        self.range_key = key
        self.run_worker(self._load_charts(), group="charts", exclusive=True, exit_on_error=False)

    async def _load_charts(self) -> None:
        """Only the charts follow the window key: the tables and the trace have not changed."""
        try:
            detail = await self.monitor.probe_detail(self.probe_id, RANGES[self.range_key][1])
        except Exception as e:
            notify_plain(self, f"Could not load the charts: {e}", severity="error")
            return
        if self.is_mounted:
            self._fill_charts(detail)

    def action_next_window(self) -> None:
        self.action_range(next_window(window_by_key(self.range_key)).key)


def _execution_row(e: ExecutionRow) -> tuple[str | None, tuple[object, ...]]:
    mos = e.metrics.get("mos")
    return str(e.id), (
        _t(e.started_at),
        str(e.state),
        str(e.sip_code or "—"),
        plain(e.sip_reason or ""),
        plain(e.error or ""),
        f"{e.duration_ms:.0f} ms",
        "—" if mos is None else f"{mos:.2f}",
    )


def _describe(inc: Any) -> str:
    if dataclasses.is_dataclass(inc):
        parts = []
        for f in dataclasses.fields(inc):
            val = getattr(inc, f.name)
            if isinstance(val, float) and val > 1e9:
                val = _t(val)
            parts.append(f"{f.name}: {val}")
        return " · ".join(parts)
    return str(inc)
