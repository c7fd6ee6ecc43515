"""The drill-down's charts: one plotext plot per measured metric, time along x over the chosen window.

What is drawn is worked out in ``domain.chart`` (lines split at gaps, threshold lines, health runs, ticks);
this module only lays it on a ``PlotextPlot``. Each element also differs by glyph, not only by colour, so
the chart reads on a monochrome terminal (NO_COLOR): the values are a braille line, warning a dotted
line, critical a heavy line, and the health state runs along the bottom as the wall's state symbols.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import RenderResult
from textual.widget import Widget
from textual.widgets import Label
from textual_plotext import PlotextPlot

from ..domain.chart import CHARTED, ChartData, ChartWindow, chart_data, time_ticks, value_ticks, with_unit
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
    """One metric over the window. ``data`` is what it shows (tests read it; the plot is drawn from it)."""

    DEFAULT_CSS = """
    MetricChart { height: 14; min-height: 8; }
    """

    def __init__(self, data: ChartData, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.data = data

    def render(self) -> RenderResult:
        if self.size.width < 20 or self.size.height < 5:
            return Text("")
        self._draw(self.size.width)
        return super().render()

    def _draw(self, width: int) -> None:
        d, plt = self.data, self.plt
        pal = palette_for(self.app.theme, mono=self.app.no_color)
        plt.clear_figure()
        lo, hi = d.y_range
        band = lo - (hi - lo) / max(self.size.height - 6, 1)  # a row of its own below the values
        for run in d.states:  # along the bottom edge: the state at each time
            plt.plot([run.start, run.end], [band, band], marker=SYMBOLS[run.state], color=_rgb(pal.state[run.state]))
        for t in d.thresholds:
            color = _rgb(pal.warning if t.level == "warning" else pal.critical)
            label = f"{t.level} {fmt_value(d, t.value)}"
            plt.plot([d.since, d.until], [t.value, t.value], marker=THRESHOLD_MARK[t.level], color=color, label=label)
        for line in d.lines:
            xs, ys = [p[0] for p in line], [p[1] for p in line]
            if len(line) == 1:
                plt.scatter(xs, ys, marker=LONE_MARK, color=_rgb(pal.fg))
            else:
                plt.plot(xs, ys, marker=LINE_MARK, color=_rgb(pal.fg))
        plt.xlim(d.since, d.until)
        plt.ylim(band, hi)
        ticks = time_ticks(d.since, d.until, max(2, (width - 10) // TICK_WIDTH))
        plt.xticks([t for t, _ in ticks], [label for _, label in ticks])
        yt = value_ticks(lo, hi, d.metric.unit, max(2, min(6, self.size.height // 3)))
        plt.yticks([v for v, _ in yt], [label for _, label in yt])
        plt.xlabel("UTC")


def fmt_value(d: ChartData, value: float) -> str:
    return with_unit(f"{value:g}", d.metric.unit)


def chart_widgets(detail: ProbeDetail, window: ChartWindow) -> list[Widget]:
    """A heading (last, min, max, points) and a chart per metric measured in the window."""
    v = detail.view
    until = detail.until or (v.last_execution_at or 0.0)
    since = detail.since or until - window.seconds
    widgets: list[Widget] = []
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
        widgets.append(
            Label(
                f"{METRICS[name].label}: last {fmt_metric(name, values[-1])}  min {fmt_metric(name, min(values))}"
                f"  max {fmt_metric(name, max(values))}  ({len(values)} points)",
                classes="chart-label",
            )
        )
        widgets.append(MetricChart(data, classes=f"chart-{name}"))  # no id: the old charts leave after
    if not widgets:
        widgets.append(Label("No measurements in this range yet.", classes="chart-label"))
    return widgets
