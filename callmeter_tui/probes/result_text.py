"""Human and JSON renderings of one probe run, for ``callmeter-tui probe NAME [--json]``."""

from __future__ import annotations

import json
import math
from typing import Any

from callmeter_tui.domain.metric_catalog import METRICS, Direction
from callmeter_tui.domain.probe import ProbeKind, ProbeSpec
from callmeter_tui.domain.results import Evaluation, ProbeResult

# Details worth a line of their own, in this order (the rest stay in --json).
_DETAIL_LINES = (
    ("pdd_ms", "Post-dial delay", "ms"),
    ("codec", "Codec", ""),
    ("r_factor", "R factor", ""),
    ("packets_sent", "Packets sent", ""),
    ("packets_received", "Packets received", ""),
    ("packets_lost", "Packets lost", ""),
    ("jitter_max_ms", "Jitter max", "ms"),
    ("far_end_loss_pct", "Far-end loss", "%"),
    ("jbuf_avg_delay_ms", "Jitter buffer", "ms"),
    ("jbuf_discard", "Buffer discards", ""),
    ("rx_level_peak", "Received level", "/255"),
    ("expires_s", "Registration expires", "s"),
)


def _num(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int) or (math.isfinite(value) and float(value).is_integer() and abs(value) >= 100):
        return f"{int(value)}"
    return f"{value:.2f}"


def _with_unit(value: Any, unit: str) -> str:
    text = _num(value)
    return f"{text} {unit}".rstrip() if unit and unit != "%" else f"{text}{unit}"


def _threshold_text(metric: str, spec: ProbeSpec) -> str:
    th = spec.thresholds.get(metric)
    if th is None:
        return ""
    sign = "<" if METRICS[metric].direction is Direction.LOWER_IS_WORSE else ">"
    parts = []
    if th.warning is not None:
        parts.append(f"warning {sign} {_num(th.warning)}")
    if th.critical is not None:
        parts.append(f"critical {sign} {_num(th.critical)}")
    return f"  ({', '.join(parts)})"


def format_result(spec: ProbeSpec, result: ProbeResult, evaluation: Evaluation) -> str:
    """Several lines: probe, state, SIP code, error, metrics (with thresholds), breaches, key details."""
    kind = ProbeKind(spec.kind).value
    lines = [
        f"Probe     {spec.name} ({kind}) -> {spec.target}",
        f"State     {evaluation.state.label.upper()}" + ("" if result.ok else "  (probe failed)"),
    ]
    if result.sip_code is not None:
        lines.append(f"SIP       {result.sip_code} {result.sip_reason}".rstrip())
    if result.error:
        lines.append(f"Error     {result.error}")
    lines.append(f"Took      {result.duration_ms:.0f} ms")
    known = [m for m in METRICS if m in result.metrics]
    extra = sorted(m for m in result.metrics if m not in METRICS)
    if known or extra:
        lines.append("Metrics")
        for name in known:
            metric = METRICS[name]
            lines.append(
                f"  {metric.label:<18}{_with_unit(result.metrics[name], metric.unit):>12}{_threshold_text(name, spec)}"
            )
        for name in extra:
            lines.append(f"  {name:<18}{_num(result.metrics[name]):>12}")
    if evaluation.breaches:
        lines.append("Breaches")
        for b in evaluation.breaches:
            catalogued = METRICS.get(b["metric"])
            label = catalogued.label if catalogued else b["metric"]
            limit = b["critical_threshold"] if b["level"] == "critical" else b["warning_threshold"]
            side = "below" if catalogued and catalogued.direction is Direction.LOWER_IS_WORSE else "above"
            unit = catalogued.unit if catalogued else ""
            lines.append(
                f"  {b['level'].upper():<9}{label} {_with_unit(b['value'], unit)} {side} {_with_unit(limit, unit)}"
            )
    shown = [(label, result.details[key], unit) for key, label, unit in _DETAIL_LINES if key in result.details]
    if "call_answered" in result.details:
        shown.insert(0, ("Answered", "yes" if result.details["call_answered"] else "no", ""))
    if shown:
        lines.append("Details")
        lines.extend(f"  {label:<18}{_with_unit(value, unit):>12}" for label, value, unit in shown)
    return "\n".join(lines)


def result_dict(spec: ProbeSpec, result: ProbeResult, evaluation: Evaluation) -> dict[str, Any]:
    return {
        "probe": spec.name,
        "kind": ProbeKind(spec.kind).value,
        "target": spec.target,
        "state": evaluation.state.value,
        "breaches": [dict(b) for b in evaluation.breaches],
        **{k: v for k, v in result.to_dict().items() if k != "trace"},  # binary; `trace NAME` shows it
    }


def result_json(spec: ProbeSpec, result: ProbeResult, evaluation: Evaluation) -> str:
    """One JSON object (stable keys) for scripts: the result plus state and breaches."""
    return json.dumps(result_dict(spec, result, evaluation), indent=2, sort_keys=False, default=str)
