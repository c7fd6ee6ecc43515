"""The drill-down's charts: one plotext plot per measured metric, time along x over the chosen window.

What is drawn is worked out in ``domain.chart`` (lines split at gaps, threshold lines, health runs, ticks);
this module only lays it on a ``PlotextPlot``. Each element also differs by glyph, not only by colour, so
the chart reads on a monochrome terminal (NO_COLOR): the values are a braille line, warning a dotted
line, critical a heavy line, and the health state runs along the bottom as the wall's state symbols.
"""

from __future__ import annotations

from typing import cast

from rich.text import Text
from textual.app import RenderResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Label
from textual_plotext import PlotextPlot

from ..domain.chart import (
    CHARTED,
    ChartData,
    ChartWindow,
    chart_data,
    state_columns,
    thin,
    time_ticks,
    value_ticks,
    with_unit,
)
from ..domain.metric_catalog import METRICS
from ..engine.api import ProbeDetail
from .rows import fmt_metric
from .theme import SYMBOLS, palette_for

THRESHOLD_MARK = {"warning": "┄", "critical": "━"}
LINE_MARK = "braille"
LONE_MARK = "•"  # a point with no neighbour close enough to draw a line to
TICK_WIDTH = 9  # columns a time label needs, with room between labels


def _rgb(color: str) -> tuple[int, int, int]:
    c = color.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


class MetricChart(PlotextPlot):
    """One metric over the window. ``data`` is what it shows (tests read it; the plot is drawn from it).

    The built plot is kept until the data, the size or the theme change: plotext builds in pure Python
    (tens of ms for a dense chart), and a repaint for a scroll or a focus change should not pay that again.
    """

    DEFAULT_CSS = """
    MetricChart { height: 14; min-height: 8; }
    """

    def __init__(self, data: ChartData, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self._data = data
        self._built: tuple[object, RenderResult] | None = None

    @property
    def data(self) -> ChartData:
        return self._data

    @data.setter
    def data(self, data: ChartData) -> None:
        if data != self._data:
            self._data, self._built = data, None
            self.refresh()

    def render(self) -> RenderResult:
        if self.size.width < 20 or self.size.height < 5:
            return Text("")
        key = (self._data, self.size, self.app.theme, self.app.no_color)
        if self._built is None or self._built[0] != key:
            self._draw(self.size.width, self.size.height)
            self._built = (key, super().render())
        return self._built[1]

    def _draw(self, width: int, height: int) -> None:
        d, plt = self._data, self.plt
        pal = palette_for(self.app.theme, mono=self.app.no_color)
        plt.clear_figure()
        lo, hi = d.y_range
        band = lo - (hi - lo) / max(height - 6, 1)  # a row of its own below the values
        columns = max(width - 12, 8)  # about the plot's width in characters
        dots = 2 * columns  # braille: two dots a character
        # the state at each time: two marks a character, so no character is skipped by plotext's rounding
        for state, xs in state_columns(d.states, d.since, d.until, dots).items():
            plt.scatter(xs, [band] * len(xs), marker=SYMBOLS[state], color=_rgb(pal.state[state]))
        for t in d.thresholds:
            color = _rgb(pal.warning if t.level == "warning" else pal.critical)
            label = f"{t.level} {fmt_value(d, t.value)}"
            plt.plot([d.since, d.until], [t.value, t.value], marker=THRESHOLD_MARK[t.level], color=color, label=label)
        for line in d.lines:
            pts = thin(line, d.since, d.until, columns)  # <= 2 points a character: plotext's cost is per point
            xs, ys = [p[0] for p in pts], [p[1] for p in pts]
            if len(pts) == 1:
                plt.scatter(xs, ys, marker=LONE_MARK, color=_rgb(pal.fg))
            elif len(line) * 3 <= dots:  # sparse: join the points
                plt.plot(xs, ys, marker=LINE_MARK, color=_rgb(pal.fg))
            else:  # dense: the points touch anyway, and joining them costs plotext ~10x the time
                plt.scatter(xs, ys, marker=LINE_MARK, color=_rgb(pal.fg))
        plt.xlim(d.since, d.until)
        plt.ylim(band, hi)
        ticks = time_ticks(d.since, d.until, max(2, (width - 10) // TICK_WIDTH))
        plt.xticks([t for t, _ in ticks], [label for _, label in ticks])
        yt = value_ticks(lo, hi, d.metric.unit, max(2, min(6, height // 3)))
        plt.yticks([v for v, _ in yt], [label for _, label in yt])
        plt.xlabel("UTC")


def fmt_value(d: ChartData, value: float) -> str:
    return with_unit(f"{value:g}", d.metric.unit)


class ChartStack(Vertical):
    """A heading (last, min, max, points) and a chart per metric measured in the window.

    A reload with the same metrics updates the charts in place (the engine reloads the drill-down after
    every run of its probe); only a different set of metrics rebuilds the stack.
    """

    DEFAULT_CSS = """
    ChartStack { height: auto; }
    """

    def show(self, detail: ProbeDetail, window: ChartWindow) -> None:
        shown = _charts(detail, window)
        current = list(self.query(MetricChart))
        if shown and [c.data.metric.name for c in current] == [d.metric.name for d, _ in shown]:
            for chart, head, (data, heading) in zip(current, self.query(".chart-head"), shown, strict=True):
                chart.data = data
                cast(Label, head).update(heading)
            return
        self.remove_children()  # no ids below: the old children may linger until their removal is processed
        widgets: list[Widget] = []
        for data, heading in shown:
            widgets += [Label(heading, classes="chart-label chart-head"), MetricChart(data)]
        if not widgets:
            widgets.append(Label("No measurements in this range yet.", classes="chart-label"))
        self.mount_all(widgets)


def _charts(detail: ProbeDetail, window: ChartWindow) -> list[tuple[ChartData, str]]:
    v = detail.view
    until = detail.until or (v.last_execution_at or 0.0)
    since = detail.since or until - window.seconds
    out = []
    for name in CHARTED:
        points = detail.series.get(name) or ()
        if not points:
            continue
        data = chart_data(
            name,
            points,
            since=since,
            until=until,
            spacing=v.interval_s,
            thresholds=v.thresholds.get(name, {}),
            spans=detail.spans,
            hourly_before=detail.means_before,
        )
        values = [p[1] for p in points]
        heading = (
            f"{METRICS[name].label}: last {fmt_metric(name, values[-1])}  min {fmt_metric(name, min(values))}"
            f"  max {fmt_metric(name, max(values))}  ({len(values)} points)"
        )
        out.append((data, heading))
    return out
