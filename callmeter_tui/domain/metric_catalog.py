"""The metric catalogue: names, units and which direction is worse."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Direction(enum.Enum):
    LOWER_IS_WORSE = "lower_is_worse"
    HIGHER_IS_WORSE = "higher_is_worse"


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    unit: str
    direction: Direction

    def breaches(self, value: float, threshold: float) -> bool:
        """True when ``value`` is past ``threshold`` on the bad side ("exceeded": equal is fine)."""
        if self.direction is Direction.LOWER_IS_WORSE:
            return value < threshold
        return value > threshold


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("mos", "MOS", "", Direction.LOWER_IS_WORSE),
        Metric("asr_pct", "ASR", "%", Direction.LOWER_IS_WORSE),
        Metric("jitter_ms", "Jitter", "ms", Direction.HIGHER_IS_WORSE),
        Metric("packet_loss_pct", "Loss", "%", Direction.HIGHER_IS_WORSE),
        Metric("rtt_ms", "RTT", "ms", Direction.HIGHER_IS_WORSE),
        Metric("setup_time_ms", "Setup", "ms", Direction.HIGHER_IS_WORSE),
        Metric("response_time_ms", "Response", "ms", Direction.HIGHER_IS_WORSE),
    )
}
