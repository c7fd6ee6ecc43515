"""Entry from the CLI: assemble the engine runtime and run the dashboard on the same event loop."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..config.model import Config


def run_dashboard(
    config: Config,
    *,
    kiosk: bool = False,
    theme: str = "dark",
    agent: str = "local",
    keys: Mapping[str, str] | None = None,
    kiosk_cycle_s: float = 15.0,
) -> int:
    """Run until the operator quits; the engine starts in the app's loop and stops with it."""
    from ..tui.app import CallMeterApp
    from ..tui.theme import textual_name
    from .runtime import Runtime

    textual_name(theme)  # a bad --theme is one line, before anything starts
    runtime = Runtime(config, agent=agent, web_render_child=False)  # no child may inherit the screen (stderr)
    reports = report_writer(runtime.db)
    app = CallMeterApp(
        runtime.monitor,
        kiosk=kiosk,
        theme=theme,
        kiosk_cycle_s=kiosk_cycle_s,
        startup=runtime.start,
        shutdown=runtime.stop,
        keys=keys,
        report_writer=reports,
        incident_desk=runtime.incidents,
    )
    return run_app(app)


def report_writer(db: Any) -> Callable[[str, str, str], Path]:
    """The dashboard's SLA report writer: ``callmeter-tui report``'s code, files in the state dir."""
    from ..tui.statedir import state_dir
    from .report import write_report

    def write(slug: str, month: str, fmt: str) -> Path:
        return write_report(db, slug, month, fmt, state_dir("reports"))

    return write


def run_app(app, *, headless: bool = False) -> int:
    """Run ``app``; a crash exits 1 with its traceback saved under the state dir (path on stderr)."""
    from ..tui.statedir import save_crash

    app.run(headless=headless)
    code = app.return_code or 0
    if code and app.crash is not None:
        try:
            where = f"traceback saved to {save_crash(app.crash)}"
        except OSError as e:
            where = f"traceback could not be saved: {e}"
        print(f"callmeter-tui crashed: {app.crash!r}; {where}", file=sys.stderr)
    return code
