"""One file of measured figures, ``bench/results.json``, written by every bench script and read by the README.

Why: figures typed into the README by hand drift from what the scripts measure. Each script records its
figures here (with the peer's figure from the same run beside them where there is a peer), and
``bench/readme_table.py`` regenerates the README's figures table from this file.

Usage inside a bench script::

    from results import record
    record("web.page_rps", 31000, "req/s", peer=72000, peer_name="nginx gzip_static", higher_is_better=True,
           label="status page GET /{slug}, gzip, 100 connections")

A key is written again on every run (the newest measurement wins); keys other scripts wrote are kept.
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any

RESULTS = Path(os.environ.get("CALLMETER_BENCH_RESULTS", Path(__file__).resolve().parent / "results.json"))


def load_note() -> str:
    """The machine's load when a figure was measured: figures taken while other work ran read low."""
    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    shared = ", CPU shared with other work" if load >= 0.5 else ""
    return f"1-min load average {load:.1f} on {cores} cores when measured{shared}"


def _load() -> dict[str, Any]:
    try:
        data = json.loads(RESULTS.read_text())
    except (FileNotFoundError, ValueError):
        data = {}
    data.setdefault("figures", {})
    return data


def record(
    key: str,
    value: float,
    unit: str,
    *,
    label: str,
    peer: float | None = None,
    peer_name: str | None = None,
    higher_is_better: bool = True,
    note: str = "",
) -> dict[str, Any]:
    """Store one figure (and the peer's from the same run): the ratio is ours / peer's, as measured."""
    data = _load()
    entry: dict[str, Any] = {
        "label": label,
        "value": value,
        "unit": unit,
        "higher_is_better": higher_is_better,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    if peer is not None:
        entry |= {"peer": peer, "peer_name": peer_name or "peer", "ratio": round(value / peer, 3) if peer else None}
    if note:
        entry["note"] = note
    data["figures"][key] = entry
    data["machine"] = {"cores": os.cpu_count(), "python": platform.python_version(), "system": platform.system()}
    RESULTS.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    return entry
