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
