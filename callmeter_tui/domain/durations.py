"""Durations as written in config and forms: ``500ms``, ``30s``, ``5m``, ``2h``, ``30d``."""

from __future__ import annotations

import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")


def parse_duration(text: str | int | float) -> float:
    """Seconds for a duration string. Raises ValueError with a one-line reason."""
    if isinstance(text, bool):
        raise ValueError(f"expected a duration like '30s', got {text!r}")
    if isinstance(text, (int, float)):
        raise ValueError(f"expected a duration with a unit like '{text}s' (ms, s, m, h, d), got a bare number")
    m = _RE.match(str(text))
    if not m:
        raise ValueError(f"expected a duration like '500ms', '30s', '5m', '2h' or '30d', got {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def format_duration(seconds: float) -> str:
    """Shortest exact spelling: 60 -> '1m', 0.5 -> '500ms', 90 -> '90s'."""
    ms = round(seconds * 1000)
    for unit, factor in (("d", 86400000), ("h", 3600000), ("m", 60000), ("s", 1000)):
        if ms and ms % factor == 0:
            return f"{ms // factor}{unit}"
    return f"{ms}ms"
