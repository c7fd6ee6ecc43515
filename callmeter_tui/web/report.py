"""An SLA report (``domain.sla.Report``) written out: text, CSV, JSON and printable HTML.

Every format writes the same figures from the one Report; component names are the operator's text
and are escaped where the format needs it (autoescaped Jinja2 for HTML, the csv and json modules for
the others), so markup in a name is shown as text. The HTML is self-contained (inline stylesheet with
print rules) because it is a file to mail or print, not a page served under our CSP; the PDF is this
HTML printed by Chromium (see ``commands.report``).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ..domain.isotime import iso_seconds
from ..domain.metric_catalog import METRICS
from ..domain.sla import ComponentReport, Report, Verdict
from .daybar import human_duration
from .page_html import environment

FORMATS = ("text", "csv", "json", "html", "pdf")
SUMMARY = {
    Verdict.PASS: "every component with a target met it",
    Verdict.FAIL: "at least one component missed its target",
    Verdict.NO_DATA: "no component missed its target, but one had no data to judge",
    Verdict.NO_TARGET: "no component has an sla_target",
}
SECONDS_FIELDS = ("healthy_s", "degraded_s", "unhealthy_s", "unknown_s", "no_data_s", "maintenance_s")


def _s(x: float) -> float:
    return round(float(x), 3)


def _metrics(report: Report) -> list[str]:
    """Metrics with a critical threshold on any component, in catalogue order."""
    used = {m for c in report.components for m in c.over_critical_s}
    return [m for m in METRICS if m in used]


def _local(report: Report, ts: float) -> str:
    t = datetime.fromtimestamp(ts, ZoneInfo(report.window.timezone))
    return f"{t.day} {t:%b %Y %H:%M %Z}"


def component_dict(c: ComponentReport) -> dict[str, Any]:
    return {
        "name": c.name,
        "uptime_pct": c.uptime_pct,
        **{k: _s(getattr(c, k)) for k in SECONDS_FIELDS},
        "incidents": c.incidents,
        "operator_incidents": c.operator_incidents,
        "longest_incident_s": _s(c.longest_incident_s),
        "longest_incident_started_at": None
        if c.longest_incident_start is None
        else iso_seconds(c.longest_incident_start),
        "over_critical_s": {m: _s(v) for m, v in c.over_critical_s.items()},
        "metrics_seen_s": _s(c.metrics_seen_s),
        "sla_target_pct": c.sla_target,
        "verdict": c.verdict.value,
    }


def report_json(report: Report) -> bytes:
    w = report.window
    doc = {
        "page": {"slug": report.slug, "name": report.page_name},
        "month": w.month,
        "time_zone": w.timezone,
        "start": iso_seconds(w.start),
        "end": iso_seconds(w.end),
        "partial": w.partial,
        "generated_at": iso_seconds(report.generated_at),
        "verdict": report.verdict.value,
        "components": [component_dict(c) for c in report.components],
    }
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode()


def report_csv(report: Report) -> bytes:
    """One row per component; ``over_critical_<metric>_s`` columns for metrics with a critical threshold."""
    metrics = _metrics(report)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    head = ["month", "component", "uptime_pct", *SECONDS_FIELDS, "incidents", "operator_incidents"]
    head += ["longest_incident_s", *(f"over_critical_{m}_s" for m in metrics), "metrics_seen_s"]
    head += ["sla_target_pct", "verdict"]
    writer.writerow(head)
    for c in report.components:
        row = [report.window.month, c.name, c.uptime_pct or "", *(_s(getattr(c, k)) for k in SECONDS_FIELDS)]
        row += [c.incidents, c.operator_incidents, _s(c.longest_incident_s)]
        row += [_s(c.over_critical_s[m]) if m in c.over_critical_s else "" for m in metrics]
        row += [_s(c.metrics_seen_s)]
        row += ["" if c.sla_target is None else c.sla_target, c.verdict.value]
        writer.writerow(row)
    return out.getvalue().encode()


def _pct(c: ComponentReport) -> str:
    return f"{c.uptime_pct}%" if c.uptime_pct is not None else "—"


def _target(c: ComponentReport) -> str:
    return "—" if c.sla_target is None else f"{c.sla_target:g}%"


def _seen(c: ComponentReport) -> str:
    if c.metrics_seen_s == 0:
        return "(no executions kept for this month: see retention.executions)"
    return f"(kept executions cover {human_duration(c.metrics_seen_s)})"


def report_text(report: Report) -> bytes:
    w = report.window
    lines = [
        f"SLA report: {report.page_name} ({report.slug}), {w.month}",
        f"Window: {_local(report, w.start)} – {_local(report, w.end)}" + (" (month not over)" if w.partial else ""),
        "",
    ]
    for c in report.components:
        lines.append(f"{c.name}: uptime {_pct(c)}, target {_target(c)}: {c.verdict.value.upper()}")
        for key in SECONDS_FIELDS:
            secs = getattr(c, key)
            lines.append(f"  {key[:-2].replace('_', ' '):<12} {_s(secs):>12} s  {human_duration(secs)}")
        longest = f", longest {human_duration(c.longest_incident_s)}" if c.longest_incident_start is not None else ""
        lines.append(f"  incidents    {c.incidents} automatic, {c.operator_incidents} operator{longest}")
        for m, secs in c.over_critical_s.items():
            lines.append(f"  over critical {METRICS[m].label}: {_s(secs)} s  {human_duration(secs)}")
        lines.append(f"  metrics seen  {_s(c.metrics_seen_s)} s  {_seen(c)}")
        lines.append("")
    lines.append(f"Overall: {report.verdict.value.upper()} ({SUMMARY[report.verdict]})")
    return ("\n".join(lines) + "\n").encode()


def report_html(report: Report) -> bytes:
    """A printable, self-contained HTML document (autoescaped)."""
    w = report.window
    rows = [
        {
            "c": c,
            "pct": _pct(c),
            "target": _target(c),
            "secs": [
                (k[:-2].replace("_", " "), _s(getattr(c, k)), human_duration(getattr(c, k))) for k in SECONDS_FIELDS
            ],
            "longest": human_duration(c.longest_incident_s) if c.longest_incident_start is not None else "—",
            "critical": [(METRICS[m].label, _s(v), human_duration(v)) for m, v in c.over_critical_s.items()],
            "seen": (_s(c.metrics_seen_s), _seen(c)),
        }
        for c in report.components
    ]
    html = (
        environment()
        .get_template("report.html")
        .render(
            report=report,
            rows=rows,
            start=_local(report, w.start),
            end=_local(report, w.end),
            generated=_local(report, report.generated_at),
            summary=f"Overall: {report.verdict.value.upper()}: {SUMMARY[report.verdict]}.",
        )
    )
    return html.encode()


def render_report(report: Report, fmt: str) -> bytes:
    """Bytes of ``report`` in ``fmt`` (text, csv, json, html); pdf is printed from html by the caller."""
    writers = {"text": report_text, "csv": report_csv, "json": report_json, "html": report_html}
    return writers[fmt](report)
