"""The threshold rule: one execution -> HealthState plus the breaches that caused it.

Written once; the engine, the probe command, the TUI forms and the config checker all use it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .health import HealthState
from .metric_catalog import METRICS, Direction
from .results import Evaluation, ProbeResult


@dataclass(frozen=True)
class Threshold:
    """Warning and critical levels for one metric; either may be absent."""

    warning: float | None = None
    critical: float | None = None

    def problems(self, metric: str) -> list[str]:
        """Consistency errors for this threshold on ``metric`` (empty when fine)."""
        m = METRICS.get(metric)
        if m is None:
            return [f"unknown metric {metric!r} (known: {', '.join(METRICS)})"]
        if self.warning is None and self.critical is None:
            return ["needs warning and/or critical"]
        for level, value in (("warning", self.warning), ("critical", self.critical)):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
            ):
                return [f"{level} must be a finite number, got {value!r}"]
        if self.warning is not None and self.critical is not None:
            if m.direction is Direction.LOWER_IS_WORSE and not self.warning > self.critical:
                return [
                    f"warning ({_fmt(self.warning)}) must be above critical ({_fmt(self.critical)})"
                    " for a metric where lower is worse"
                ]
            if m.direction is Direction.HIGHER_IS_WORSE and not self.warning < self.critical:
                return [
                    f"warning ({_fmt(self.warning)}) must be below critical ({_fmt(self.critical)})"
                    " for a metric where higher is worse"
                ]
        return []


def _fmt(v: float) -> str:
    v = float(v)
    return f"{v:.1f}" if math.isfinite(v) and v == int(v) else repr(v)


def evaluate(result: ProbeResult, thresholds: Mapping[str, Threshold]) -> Evaluation:
    """Failed probe -> UNHEALTHY; any critical breach -> UNHEALTHY; any warning -> DEGRADED; else HEALTHY.

    A metric the execution did not measure breaches nothing. Breaches are listed in
    catalogue order, each as ``{"metric", "value", "warning_threshold", "critical_threshold", "level"}``.
    """
    breaches: list[dict[str, Any]] = []
    for name in METRICS:
        th = thresholds.get(name)
        value = result.metrics.get(name)
        if th is None or value is None:
            continue
        metric = METRICS[name]
        level = None
        if th.critical is not None and metric.breaches(value, th.critical):
            level = "critical"
        elif th.warning is not None and metric.breaches(value, th.warning):
            level = "warning"
        if level:
            breaches.append(
                {
                    "metric": name,
                    "value": value,
                    "warning_threshold": th.warning,
                    "critical_threshold": th.critical,
                    "level": level,
                }
            )
    if not result.ok or any(b["level"] == "critical" for b in breaches):
        state = HealthState.UNHEALTHY
    elif breaches:
        state = HealthState.DEGRADED
    else:
        state = HealthState.HEALTHY
    return Evaluation(state=state, breaches=breaches)
