"""Themes and state styling: one palette per theme, shared by every widget that colours a state.

State colours are the public status page's (domain.palette, one table for both); the high-contrast
theme uses pure, distinct colours and distinct bar glyphs so the
four states also read on monochrome or colour-blind setups.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

from textual.theme import Theme

from ..domain.health import HealthState
from ..domain.palette import MAINTENANCE_COLOR, ON_STATE_COLOR, STATE_COLOR

# Symbols make the state readable without colour.
SYMBOLS: dict[HealthState, str] = {
    HealthState.HEALTHY: "●",
    HealthState.DEGRADED: "▲",
    HealthState.UNHEALTHY: "✖",
    HealthState.UNKNOWN: "?",
}


@dataclass(frozen=True)
class Palette:
    """Colours a widget needs outside TCSS (row cells are rendered as Rich segments)."""

    state: dict[HealthState, str]
    banner_fg: dict[HealthState, str]
    bar_glyph: dict[HealthState, str]
    fg: str
    dim: str
    warning: str
    critical: str
    cursor_bg: str
    group_fg: str
    maintenance: str = MAINTENANCE_COLOR  # "Under maintenance" (domain.palette.MAINTENANCE_SYMBOL)
    maintenance_glyph: str = "▒"  # bar cells of maintenance: distinct from every state's glyph, colour or not


_PAGE = STATE_COLOR
_BLOCKS = dict.fromkeys(HealthState, "█") | {HealthState.UNKNOWN: "░"}

DARK = Palette(
    state=_PAGE,
    banner_fg=ON_STATE_COLOR,
    bar_glyph=_BLOCKS,
    fg="#e0e0e0",
    dim="#8a8f98",
    warning=STATE_COLOR[HealthState.DEGRADED],
    critical="#ff6b6b",
    cursor_bg="#2b3a55",
    group_fg="#74c0fc",
)
LIGHT = Palette(
    state=_PAGE,
    banner_fg=ON_STATE_COLOR,
    bar_glyph=_BLOCKS,
    fg="#1a1a1a",
    dim="#5c636a",
    warning="#b35c00",
    critical="#c92a2a",
    cursor_bg="#d0ebff",
    group_fg="#0b7285",
)
HIGH_CONTRAST = Palette(
    state={
        HealthState.HEALTHY: "#00ff00",
        HealthState.DEGRADED: "#ffff00",
        HealthState.UNHEALTHY: "#ff0000",
        HealthState.UNKNOWN: "#ffffff",
    },
    banner_fg=dict.fromkeys(HealthState, "#000000"),
    bar_glyph={
        HealthState.HEALTHY: "█",
        HealthState.DEGRADED: "▓",
        HealthState.UNHEALTHY: "▒",
        HealthState.UNKNOWN: "·",
    },
    maintenance_glyph="╳",
    fg="#ffffff",
    dim="#ffffff",
    warning="#ffff00",
    critical="#ff0000",
    cursor_bg="#0000ff",
    group_fg="#00ffff",
    maintenance="#00ffff",
)

THEMES: dict[str, tuple[Theme, Palette]] = {
    "dark": (
        Theme(
            name="callmeter-dark",
            primary="#0b7285",
            secondary="#74c0fc",
            warning="#f59f00",
            error="#e03131",
            success="#2f9e44",
            accent="#74c0fc",
            foreground="#e0e0e0",
            background="#121417",
            surface="#1b1e23",
            panel="#24282e",
            dark=True,
        ),
        DARK,
    ),
    "light": (
        Theme(
            name="callmeter-light",
            primary="#0b7285",
            secondary="#1971c2",
            warning="#b35c00",
            error="#c92a2a",
            success="#2b8a3e",
            accent="#1971c2",
            foreground="#1a1a1a",
            background="#f8f9fa",
            surface="#ffffff",
            panel="#e9ecef",
            dark=False,
        ),
        LIGHT,
    ),
    "high-contrast": (
        Theme(
            name="callmeter-high-contrast",
            primary="#00ffff",
            secondary="#ffff00",
            warning="#ffff00",
            error="#ff0000",
            success="#00ff00",
            accent="#ffff00",
            foreground="#ffffff",
            background="#000000",
            surface="#000000",
            panel="#000000",
            dark=True,
            luminosity_spread=0.0,
        ),
        HIGH_CONTRAST,
    ),
}
THEME_ORDER = ("dark", "light", "high-contrast")


@lru_cache(maxsize=16)  # one object per theme: widgets key their caches on it
def palette_for(textual_theme: str, mono: bool = False) -> Palette:
    """Palette for a registered Textual theme name (falls back to dark). ``mono`` (NO_COLOR, a
    monochrome terminal): colours collapse, so bar cells take the high-contrast theme's distinct glyphs."""
    pal = next((p for theme, p in THEMES.values() if theme.name == textual_theme), DARK)
    if mono:
        return replace(pal, bar_glyph=HIGH_CONTRAST.bar_glyph, maintenance_glyph=HIGH_CONTRAST.maintenance_glyph)
    return pal


def textual_name(theme: str) -> str:
    """'dark' -> 'callmeter-dark'; unknown names raise ValueError with the choices."""
    if theme not in THEMES:
        raise ValueError(f"theme must be one of {', '.join(THEME_ORDER)}, got {theme!r}")
    return THEMES[theme][0].name
