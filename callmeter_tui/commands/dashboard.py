"""Entry from the CLI: assemble the engine runtime and run the dashboard on the same event loop."""

from __future__ import annotations

from collections.abc import Mapping

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
    runtime = Runtime(config, agent=agent)
    app = CallMeterApp(
        runtime.monitor,
        kiosk=kiosk,
        theme=theme,
        kiosk_cycle_s=kiosk_cycle_s,
        startup=runtime.start,
        shutdown=runtime.stop,
        keys=keys,
    )
    app.run()
    return 0
