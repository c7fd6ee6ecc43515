"""Typed readers for TOML tables that collect problems instead of raising.

Every problem is one line naming the key path, e.g. ``probes[2].interval: expected a duration ...``.
The config file and the TUI forms both go through these, so a field is checked one way only.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Iterable
from typing import Any

from ..domain.durations import parse_duration

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # C0, DEL and C1
_MISSING = object()


class Problems:
    """Collected validation problems: (key path, message) pairs, reported one per line."""

    def __init__(self, label: str = "") -> None:
        self.label = label
        self.items: list[tuple[str, str]] = []
        self.warnings: list[tuple[str, str]] = []

    def add(self, path: str, message: str) -> None:
        self.items.append((path, message))

    def warn(self, path: str, message: str) -> None:
        self.warnings.append((path, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def lines(self) -> list[str]:
        prefix = f"{self.label}: " if self.label else ""
        return [f"{prefix}{p}: {m}" if p else f"{prefix}{m}" for p, m in self.items]

    def warning_lines(self) -> list[str]:
        prefix = f"{self.label}: " if self.label else ""
        return [f"{prefix}{p}: warning: {m}" for p, m in self.warnings]


def control_char_problem(value: str) -> str | None:
    """Names go into badges, the Atom feed (XML), chat bodies and log lines: control characters break or forge
    them. One line naming the first one, or None."""
    m = _CONTROL.search(value)
    return f"must not contain control characters (found U+{ord(m.group()):04X})" if m else None


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class Table:
    """A TOML table being read: typed getters record problems; ``done()`` flags unknown keys."""

    def __init__(self, data: Any, path: str, problems: Problems) -> None:
        self.path = path
        self.problems = problems
        self.ok = isinstance(data, dict)
        if not self.ok:
            problems.add(path, f"expected a table, got {_tname(data)}")
        self.data: dict[str, Any] = data if self.ok else {}
        self.seen: set[str] = set()

    def _get(self, key: str, required: bool) -> Any:
        self.seen.add(key)
        if key not in self.data:
            if required:
                self.problems.add(join(self.path, key), "is required")
            return _MISSING
        return self.data[key]

    def _bad(self, key: str, what: str, value: Any) -> None:
        self.problems.add(join(self.path, key), f"expected {what}, got {_show(value)}")

    def str(self, key: str, default: str | None = None, *, required: bool = False, nonempty: bool = True) -> str | None:
        v = self._get(key, required)
        if v is _MISSING:
            return default
        if not isinstance(v, str):
            self._bad(key, "a string", v)
            return default
        if nonempty and not v.strip():
            self.problems.add(join(self.path, key), "must not be empty")
            return default
        return v.strip()

    def name(
        self,
        key: builtins.str,
        default: builtins.str | None = None,
        *,
        required: builtins.bool = False,
        nonempty: builtins.bool = True,
    ) -> builtins.str | None:
        """A string shown to people (probe, page, component, project names): no control characters."""
        v = self.str(key, default, required=required, nonempty=nonempty)
        if v is not None and v is not default and (why := control_char_problem(v)):
            self.problems.add(join(self.path, key), why)
            return default
        return v

    def bool(self, key: builtins.str, default: builtins.bool) -> builtins.bool:
        v = self._get(key, False)
        if v is _MISSING:
            return default
        if not isinstance(v, bool):
            self._bad(key, "true or false", v)
            return default
        return v

    def int(self, key: builtins.str, default: int, lo: int | None = None, hi: int | None = None) -> int:
        v = self._get(key, False)
        if v is _MISSING:
            return default
        if isinstance(v, bool) or not isinstance(v, int):
            self._bad(key, "a whole number", v)
            return default
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            self.problems.add(join(self.path, key), f"must be between {lo} and {hi}, got {v}")
            return default
        return v

    def number(self, key: builtins.str, default: float | None = None) -> float | None:
        v = self._get(key, False)
        if v is _MISSING:
            return default
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            self._bad(key, "a number", v)
            return default
        return float(v)

    def duration(self, key: builtins.str, default: float, lo: float | None = None, hi: float | None = None) -> float:
        v = self._get(key, False)
        if v is _MISSING:
            return default
        try:
            secs = parse_duration(v)
        except ValueError as e:
            self.problems.add(join(self.path, key), str(e))
            return default
        if (lo is not None and secs < lo) or (hi is not None and secs > hi):
            self.problems.add(join(self.path, key), f"must be between {_dur(lo)} and {_dur(hi)}, got {v!r}")
            return default
        return secs

    def env_name(self, key: builtins.str) -> builtins.str | None:
        v = self.str(key)
        if v is not None and not _ENV_NAME.match(v):
            self.problems.add(
                join(self.path, key), f"expected an environment variable name like 'PBX_PASSWORD', got {v!r}"
            )
            return None
        return v

    def choice(
        self,
        key: builtins.str,
        choices: Iterable[builtins.str],
        default: builtins.str | None = None,
        *,
        required: builtins.bool = False,
    ) -> builtins.str | None:
        choices = list(choices)
        v = self.str(key, None, required=required)
        if v is None:
            return default
        if v not in choices:
            self.problems.add(join(self.path, key), f"must be one of {', '.join(choices)}, got {v!r}")
            return default
        return v

    def table(self, key: builtins.str) -> Table | None:
        v = self._get(key, False)
        if v is _MISSING:
            return None
        return Table(v, join(self.path, key), self.problems)

    def tables(self, key: builtins.str) -> list[Table]:
        """An array of tables (``[[probes]]`` or ``webhooks = [{...}]``)."""
        v = self._get(key, False)
        if v is _MISSING:
            return []
        if not isinstance(v, list):
            self._bad(key, "an array of tables", v)
            return []
        return [Table(item, join(join(self.path, key), i), self.problems) for i, item in enumerate(v)]

    def raw(self, key: builtins.str) -> Any:
        v = self._get(key, False)
        return None if v is _MISSING else v

    def done(self) -> None:
        for key in self.data:
            if key not in self.seen:
                self.problems.add(join(self.path, key), "unknown key (check the spelling; see config.example.toml)")


def _tname(v: Any) -> str:
    return {
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        list: "an array",
        dict: "a table",
    }.get(type(v), type(v).__name__)


def _show(v: Any) -> str:
    if isinstance(v, (dict, list)):
        return _tname(v)
    return f"{v!r}"


def _dur(v: float | None) -> str:
    from ..domain.durations import format_duration

    return "-" if v is None else format_duration(v)
