"""One palette: the page's stylesheet, the badges and the dashboard colour states alike."""

from __future__ import annotations

import re
from pathlib import Path

from callmeter_tui.domain.health import HealthState
from callmeter_tui.domain.palette import CSS_VARIABLE, ON_STATE_COLOR, STATE_COLOR
from callmeter_tui.tui.theme import DARK, LIGHT
from callmeter_tui.web.formats import badge_svg

PAGE_CSS = Path(__file__).resolve().parents[2] / "styles" / "page.css"


def test_page_css_state_colours_are_the_palette() -> None:
    css = PAGE_CSS.read_text()
    for state, var in CSS_VARIABLE.items():
        m = re.search(rf"{re.escape(var)}:\s*(#[0-9a-fA-F]{{6}})", css)
        assert m, f"{var} missing from page.css"
        assert m.group(1).lower() == STATE_COLOR[state], f"page.css {var} drifted from domain.palette"


def test_dashboard_themes_and_badges_use_the_palette() -> None:
    for theme in (DARK, LIGHT):
        assert theme.state == STATE_COLOR and theme.banner_fg == ON_STATE_COLOR
    for state in HealthState:
        svg = badge_svg("voip", state).decode()
        assert f'fill="{STATE_COLOR[state]}"' in svg and f'fill="{ON_STATE_COLOR[state]}"' in svg


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours (what axe-core's color-contrast rule computes)."""

    def lum(h: str) -> float:
        c = [int(h[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        c = [x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_text_on_state_colours_reads_at_aa() -> None:
    """Banners and badges draw ON_STATE_COLOR on STATE_COLOR; the page's state labels sit on white cards."""
    for state in HealthState:
        assert contrast(ON_STATE_COLOR[state], STATE_COLOR[state]) >= 4.5, state
    css = PAGE_CSS.read_text()
    for var in ("--ok", "--warn", "--bad", "--none"):
        m = re.search(rf"{var}:\s*(#[0-9a-fA-F]{{6}})", css)
        assert m and contrast(m.group(1), "#ffffff") >= 4.5, f"page.css {var} label on a white card"


def test_maintenance_has_its_own_colour_in_the_one_palette() -> None:
    """Under maintenance: one colour for page banners/bars/labels, badges and the dashboard, readable at AA."""
    from callmeter_tui.domain.palette import (
        MAINTENANCE_COLOR,
        MAINTENANCE_CSS_VARIABLE,
        MAINTENANCE_SYMBOL,
        ON_MAINTENANCE_COLOR,
    )
    from callmeter_tui.tui.theme import SYMBOLS

    css = PAGE_CSS.read_text()
    for var in (MAINTENANCE_CSS_VARIABLE, "--m", "--maint"):
        m = re.search(rf"{re.escape(var)}:\s*(#[0-9a-fA-F]{{6}})", css)
        assert m and m.group(1).lower() == MAINTENANCE_COLOR.lower(), var
    assert MAINTENANCE_COLOR not in STATE_COLOR.values()
    assert MAINTENANCE_SYMBOL not in SYMBOLS.values()
    assert contrast(ON_MAINTENANCE_COLOR, MAINTENANCE_COLOR) >= 4.5
    assert contrast(MAINTENANCE_COLOR, "#ffffff") >= 4.5  # the label on a white card
    svg = badge_svg("voip", HealthState.UNHEALTHY, maintenance=True).decode()
    assert f'fill="{MAINTENANCE_COLOR}"' in svg and ">maintenance<" in svg
    for theme in (DARK, LIGHT):
        assert theme.maintenance == MAINTENANCE_COLOR
