"""Our badges beside shields.io's: same widths, padding and text placement as shields.io's own badge-maker
(npm, run with node), so a README row of badges lines up."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from callmeter_tui.domain.health import HealthState
from callmeter_tui.web.formats import BADGE_TEXT, badge_svg

LABELS = ["voip", "Primary SIP Trunk (US East)", "IVR", "status", "W@M%il", "a b.c"]


def shields_badges(node_modules: Path, pairs: list[tuple[str, str]]) -> list[str]:
    script = (
        "const {makeBadge}=require('badge-maker');"
        "const pairs=JSON.parse(process.argv[1]);"
        "console.log(JSON.stringify(pairs.map(([l,m])=>makeBadge({label:l,message:m,color:'#555'}))));"
    )
    out = subprocess.run(
        ["node", "-e", script, json.dumps(pairs)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=node_modules.parent,
        check=True,
    )
    return list(json.loads(out.stdout))


def layout(svg: str) -> dict[str, list[str]]:
    """What decides how a badge sits in a row: its width, the two boxes, the text positions and lengths."""
    return {
        "width": re.findall(r'<svg[^>]* width="(\d+)"', svg),
        "boxes": re.findall(r'<rect (?:x="\d+" )?width="(\d+)" height="20" fill="#', svg),
        "text_x": sorted(set(re.findall(r'<text[^>]* x="(\d+)" y="140"', svg))),
        "text_length": sorted(set(re.findall(r'textLength="(\d+)"', svg))),
    }


def test_badges_match_shields_io_layout(node_modules: Path) -> None:
    pairs = [(label, BADGE_TEXT[state]) for label in LABELS for state in HealthState]
    theirs = shields_badges(node_modules, pairs)
    for (label, _value), state_svg, shield in zip(
        pairs, [badge_svg(lb, s) for lb in LABELS for s in HealthState], theirs
    ):
        assert layout(state_svg.decode()) == layout(shield), f"badge {label!r} differs from shields.io's"
