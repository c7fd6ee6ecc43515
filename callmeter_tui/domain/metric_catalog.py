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
    lo: float = 0.0  # the values the metric can take (a threshold outside can never trip, or always does)
    hi: float | None = None

    def breaches(self, value: float, threshold: float) -> bool:
        """True when ``value`` is past ``threshold`` on the bad side ("exceeded": equal is fine)."""
        if self.direction is Direction.LOWER_IS_WORSE:
            return value < threshold
        return value > threshold


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("mos", "MOS", "", Direction.LOWER_IS_WORSE, 1.0, 5.0),
        Metric("asr_pct", "ASR", "%", Direction.LOWER_IS_WORSE, 0.0, 100.0),
        Metric("jitter_ms", "Jitter", "ms", Direction.HIGHER_IS_WORSE),
        Metric("packet_loss_pct", "Loss", "%", Direction.HIGHER_IS_WORSE, 0.0, 100.0),
        Metric("rtt_ms", "RTT", "ms", Direction.HIGHER_IS_WORSE),
        Metric("setup_time_ms", "Setup", "ms", Direction.HIGHER_IS_WORSE),
        Metric("response_time_ms", "Response", "ms", Direction.HIGHER_IS_WORSE),
        # What a caller hears (issue 13): ViSQOL v3 speech-mode score of the received audio against the sent
        # reference, the measured mouth-to-ear delay of the echo, and audio-path shares and DTMF/IVR checks.
        Metric("mos_lqo", "MOS-LQO", "", Direction.LOWER_IS_WORSE, 1.0, 5.0),
        Metric("audio_delay_ms", "Audio delay", "ms", Direction.HIGHER_IS_WORSE),
        Metric("silence_pct", "Silence", "%", Direction.HIGHER_IS_WORSE, 0.0, 100.0),
        Metric("clipping_pct", "Clipping", "%", Direction.HIGHER_IS_WORSE, 0.0, 100.0),
        Metric("dtmf_errors", "DTMF errors", "", Direction.HIGHER_IS_WORSE),
        Metric("prompt_match", "Prompt match", "", Direction.LOWER_IS_WORSE, 0.0, 1.0),
    )
}
