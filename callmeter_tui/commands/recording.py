"""``recording NAME``: where a call probe's last recording is, and what was heard on that call.

The WAV path is the prober's own rule (probes.protocol.recording_path); the scores are the probe's latest
execution in the database. An unknown probe is one line and exit 2; a probe that records nothing (not a
sip_call) is exit 2 too; a call probe with no recording yet says so and exits 1.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from ..config.model import Config
from ..domain.isotime import iso_millis
from ..domain.metric_catalog import METRICS
from ..domain.probe import ProbeKind
from ..probes.protocol import recording_path

EXIT_OK, EXIT_EMPTY, EXIT_INPUT = 0, 1, 2
SCORES = ("mos_lqo", "mos", "audio_delay_ms", "silence_pct", "clipping_pct", "dtmf_errors", "prompt_match")
NOTES = ("mos_lqo_unavailable", "mos_lqo_mapper", "dtmf_sent", "dtmf_received", "codec")


def recording_command(config: Config, name: str) -> int:
    found = _latest(config, name)
    if isinstance(found, str):
        print(f"recording: {found}", file=sys.stderr)
        return EXIT_INPUT
    kind, execution = found
    if not ProbeKind(kind).places_call:
        print(f"recording: {name!r} is a {kind} probe: only sip_call probes record", file=sys.stderr)
        return EXIT_INPUT
    path = recording_path(name)
    if not os.path.isfile(path):
        print(f"recording: {name}: no recording yet (it will be {path})", file=sys.stderr)
        return EXIT_EMPTY
    print(path)
    for line in score_lines(execution):
        print(line)
    return EXIT_OK


def score_lines(execution: dict[str, Any] | None) -> list[str]:
    """The latest execution's listening figures, one per line (empty when there is no execution)."""
    if execution is None:
        return []
    outcome = "OK" if execution["ok"] else f"FAILED: {execution['error']}"
    lines = [f"execution {execution['id']} · {iso_millis(execution['started_at'])} · {outcome}"]
    metrics, details = execution["metrics"] or {}, execution["details"] or {}
    for key in SCORES:
        if key in metrics:
            m = METRICS[key]
            lines.append(f"{m.label}: {metrics[key]:g}{m.unit and ' ' + m.unit}")
    lines += [f"{key}: {details[key]}" for key in NOTES if key in details]
    return lines


def _latest(config: Config, name: str) -> tuple[str, dict[str, Any] | None] | str:
    """(kind, latest execution as a dict or None), or a one-line reason."""
    from ..store import queries
    from ..store.connect import default_sqlite_url
    from ..store.database import open_database

    spec = next((p for p in config.probes if p.name == name), None)
    db = open_database(config.database_url or default_sqlite_url(), project_name=config.project_name)
    try:
        with db.session() as s:
            probe = queries.probe_by_name(s, name)
            if probe is None and spec is None:
                return f"no probe named {name!r}"
            kind = probe.kind if probe is not None else ProbeKind(spec.kind).value  # type: ignore[union-attr]
            rows = queries.latest_executions(s, probe.id, limit=1) if probe is not None else []
            last = rows[0] if rows else None
            execution = None
            if last is not None:
                execution = {
                    "id": last.id,
                    "started_at": last.started_at,
                    "ok": last.ok,
                    "error": last.error,
                    "metrics": dict(last.metrics or {}),
                    "details": dict(last.details or {}),
                }
    finally:
        db.close()
    return kind, execution


__all__ = ["recording_command"]
