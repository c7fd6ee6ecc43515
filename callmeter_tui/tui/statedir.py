"""Where the dashboard writes files of its own: crash reports and screenshots (XDG state dir).

A crash must leave something an operator can send: the traceback goes to a file whose path is printed,
because the terminal is wiped when the app leaves the alternate screen.
"""

from __future__ import annotations

import os
import time
import traceback
from pathlib import Path


def state_dir(sub: str = "") -> Path:
    """``$XDG_STATE_HOME/callmeter-tui[/sub]`` (default ~/.local/state), created if missing."""
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    path = base / "callmeter-tui" / sub if sub else base / "callmeter-tui"
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_crash(error: BaseException) -> Path:
    """Write the traceback to a new file under the state dir; returns its path."""
    path = state_dir() / time.strftime("crash-%Y%m%d-%H%M%S.txt", time.gmtime())
    n = 1
    while path.exists():
        path = path.with_name(f"{path.stem}-{n}.txt")
        n += 1
    path.write_text("".join(traceback.format_exception(error)), encoding="utf-8")
    return path
