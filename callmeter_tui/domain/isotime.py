"""The one ISO 8601 UTC formatter: seconds for pages, feeds and JSON; milliseconds for webhooks and logs."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_seconds(at: float) -> str:
    """``2026-01-15T10:30:00Z`` (what JSON and Atom readers expect)."""
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_millis(at: float) -> str:
    """``2026-01-15T10:30:00.000Z``: rounded to the millisecond, carried into the second when it rounds up."""
    ms = round(at * 1000)
    return datetime.fromtimestamp(ms // 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}Z"
