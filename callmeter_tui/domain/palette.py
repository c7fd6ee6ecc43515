"""State colours, written once: the dashboard, the page's CSS and the badges all show these.

``styles/page.css`` repeats them as CSS variables (--banner-ok, ...); tests/web/test_palette.py holds
the stylesheet to this table so the terminal and the web page never drift apart.
"""

from __future__ import annotations

from .health import HealthState

STATE_COLOR: dict[HealthState, str] = {
    HealthState.HEALTHY: "#17804a",
    HealthState.DEGRADED: "#f0b429",
    HealthState.UNHEALTHY: "#d93025",
    HealthState.UNKNOWN: "#6b7785",
}

# Text drawn on a state colour (banners, badges): dark on amber, white elsewhere; every pair reads at >= 4.5:1
# (WCAG AA, what axe-core checks), held by tests/web/test_palette.py.
ON_STATE_COLOR: dict[HealthState, str] = dict.fromkeys(HealthState, "#ffffff") | {HealthState.DEGRADED: "#3a2a00"}

CSS_VARIABLE: dict[HealthState, str] = {
    HealthState.HEALTHY: "--banner-ok",
    HealthState.DEGRADED: "--banner-warn",
    HealthState.UNHEALTHY: "--banner-bad",
    HealthState.UNKNOWN: "--banner-none",
}

# Scheduled maintenance is not a health state (it says nothing about how the service behaved) but it is
# shown like one: its own colour, symbol and words, the same in the TUI, on the page, in bars and badges.
MAINTENANCE_COLOR = "#3559b5"
ON_MAINTENANCE_COLOR = "#ffffff"
MAINTENANCE_CSS_VARIABLE = "--banner-maint"
MAINTENANCE_SYMBOL = "◆"
MAINTENANCE_LABEL = "Under maintenance"
MAINTENANCE_BADGE = "maintenance"
