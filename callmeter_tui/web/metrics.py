"""Prometheus text exposition (format 0.0.4) of probe health, latest measurements and counters, opt-in.

Names follow Prometheus conventions so `promtool check metrics` is silent: base units (seconds, ratios
0-1), counters ending in ``_total``. The store keeps milliseconds and percentages; they are scaled here.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..domain.health import STATE_ORDER
from ..domain.spans import uptime_ratio
from .snapshot import DELIVERY_OUTCOMES, ProbeMetrics

UPTIME_WINDOW_DAYS = 30
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# metric key in the execution -> (exposed name, scale to the base unit, help)
_GAUGES = (
    ("mos", "callmeter_probe_mos", 1.0, "MOS (1-5) of the latest execution"),
    ("asr_pct", "callmeter_probe_asr_ratio", 0.01, "Answer-seizure ratio (0-1) of the latest call executions"),
    ("jitter_ms", "callmeter_probe_jitter_seconds", 0.001, "Jitter of the latest execution"),
    ("packet_loss_pct", "callmeter_probe_packet_loss_ratio", 0.01, "Packet loss (0-1) of the latest execution"),
    ("rtt_ms", "callmeter_probe_rtt_seconds", 0.001, "Round-trip time of the latest execution"),
    ("setup_time_ms", "callmeter_probe_setup_time_seconds", 0.001, "Call setup time of the latest execution"),
    ("mos_lqo", "callmeter_probe_mos_lqo", 1.0, "Listening-quality MOS (ViSQOL, 1-5) of the latest call"),
    ("audio_delay_ms", "callmeter_probe_audio_delay_seconds", 0.001, "Mouth-to-ear audio delay of the latest call"),
    ("silence_pct", "callmeter_probe_silence_ratio", 0.01, "Share (0-1) of sent speech heard back as silence"),
    ("clipping_pct", "callmeter_probe_clipping_ratio", 0.01, "Share (0-1) of received samples clipped"),
    ("dtmf_errors", "callmeter_probe_dtmf_errors", 1.0, "DTMF digits missing or wrong on the latest call"),
    ("prompt_match", "callmeter_probe_prompt_match_ratio", 1.0, "Match (0-1) of the far end's prompt"),
    (
        "response_time_ms",
        "callmeter_probe_response_time_seconds",
        0.001,
        "SIP OPTIONS/REGISTER response time of the latest execution",
    ),
)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _num(v: float) -> str:
    return repr(float(v))


def _family(name: str, kind: str, help_text: str, samples: Iterable[str]) -> list[str]:
    return [f"# HELP {name} {help_text}.", f"# TYPE {name} {kind}", *samples]


def _state_lines(probes: list[ProbeMetrics]) -> list[str]:
    return _family(
        "callmeter_probe_state",
        "gauge",
        "Confirmed health state of the probe (1 for the current state, else 0)",
        (
            f'callmeter_probe_state{{probe="{_label(p.name)}",state="{s.value}"}} {int(p.state == s.value)}'
            for p in probes
            for s in STATE_ORDER
        ),
    )


def _uptime_lines(probes: list[ProbeMetrics], since: float, now: float) -> list[str]:
    samples = []
    for p in probes:
        ratio = uptime_ratio(list(p.spans), since, now, p.maintenance)
        if ratio is not None:
            samples.append(
                f'callmeter_probe_uptime_ratio{{probe="{_label(p.name)}",window="{UPTIME_WINDOW_DAYS}d"}} {_num(ratio)}'
            )
    help_text = f"Healthy time over monitored time in the last {UPTIME_WINDOW_DAYS} days"
    return _family("callmeter_probe_uptime_ratio", "gauge", help_text, samples)


def _counter_lines(probes: list[ProbeMetrics]) -> list[str]:
    lines = _family(
        "callmeter_probe_runs_total",
        "counter",
        "Probe executions recorded",
        (f'callmeter_probe_runs_total{{probe="{_label(p.name)}"}} {p.runs}' for p in probes),
    )
    lines += _family(
        "callmeter_probe_failures_total",
        "counter",
        "Probe executions that failed",
        (f'callmeter_probe_failures_total{{probe="{_label(p.name)}"}} {p.failures}' for p in probes),
    )
    lines += _family(
        "callmeter_webhook_deliveries_total",
        "counter",
        "Webhook deliveries finished, by outcome",
        (
            f'callmeter_webhook_deliveries_total{{probe="{_label(p.name)}",outcome="{o}"}} {dict(p.deliveries).get(o, 0)}'
            for p in probes
            for o in DELIVERY_OUTCOMES
        ),
    )
    return lines


def _gauge_lines(probes: list[ProbeMetrics]) -> list[str]:
    lines = _family(
        "callmeter_probe_last_execution_timestamp_seconds",
        "gauge",
        "When the probe last ran (Unix time)",
        (
            f'callmeter_probe_last_execution_timestamp_seconds{{probe="{_label(p.name)}"}} {_num(p.last_execution_at)}'
            for p in probes
            if p.last_execution_at is not None
        ),
    )
    for key, name, scale, help_text in _GAUGES:
        samples = []
        for p in probes:
            value = p.metrics.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                samples.append(f'{name}{{probe="{_label(p.name)}"}} {_num(value * scale)}')
        lines += _family(name, "gauge", help_text, samples)
    return lines


def prometheus_text(probes: list[ProbeMetrics], since: float, now: float) -> bytes:
    lines = _state_lines(probes) + _uptime_lines(probes, since, now) + _counter_lines(probes) + _gauge_lines(probes)
    return ("\n".join(lines) + "\n").encode()
