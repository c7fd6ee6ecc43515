"""Prometheus text exposition (format 0.0.4) of probe health and latest measurements, opt-in."""

from __future__ import annotations

from ..domain.health import STATE_ORDER
from ..domain.spans import uptime_ratio
from .snapshot import ProbeMetrics

UPTIME_WINDOW_DAYS = 30
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# metric name in the execution -> (exposed name, help)
_GAUGES = (
    ("mos", "callmeter_probe_mos", "MOS of the latest execution"),
    ("jitter_ms", "callmeter_probe_jitter_ms", "Jitter of the latest execution in milliseconds"),
    ("packet_loss_pct", "callmeter_probe_packet_loss_percent", "Packet loss of the latest execution in percent"),
    ("rtt_ms", "callmeter_probe_rtt_ms", "Round-trip time of the latest execution in milliseconds"),
    ("setup_time_ms", "callmeter_probe_setup_time_ms", "Call setup time of the latest execution in milliseconds"),
)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _num(v: float) -> str:
    return repr(float(v))


def prometheus_text(probes: list[ProbeMetrics], since: float, now: float) -> bytes:
    lines = [
        "# HELP callmeter_probe_state Confirmed health state of the probe (1 for the current state, else 0).",
        "# TYPE callmeter_probe_state gauge",
    ]
    for p in probes:
        for state in STATE_ORDER:
            lines.append(
                f'callmeter_probe_state{{probe="{_label(p.name)}",state="{state.value}"}} {int(p.state == state.value)}'
            )
    lines += [
        f"# HELP callmeter_probe_uptime_ratio Healthy time over monitored time in the last {UPTIME_WINDOW_DAYS} days.",
        "# TYPE callmeter_probe_uptime_ratio gauge",
    ]
    for p in probes:
        ratio = uptime_ratio(list(p.spans), since, now)
        if ratio is not None:
            lines.append(
                f'callmeter_probe_uptime_ratio{{probe="{_label(p.name)}",window="{UPTIME_WINDOW_DAYS}d"}} {_num(ratio)}'
            )
    lines += [
        "# HELP callmeter_probe_last_execution_timestamp_seconds When the probe last ran (Unix time).",
        "# TYPE callmeter_probe_last_execution_timestamp_seconds gauge",
    ]
    for p in probes:
        if p.last_execution_at is not None:
            lines.append(
                f'callmeter_probe_last_execution_timestamp_seconds{{probe="{_label(p.name)}"}} {_num(p.last_execution_at)}'
            )
    for key, name, help_text in _GAUGES:
        lines += [f"# HELP {name} {help_text}.", f"# TYPE {name} gauge"]
        for p in probes:
            value = p.metrics.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                lines.append(f'{name}{{probe="{_label(p.name)}"}} {_num(value)}')
    return ("\n".join(lines) + "\n").encode()
