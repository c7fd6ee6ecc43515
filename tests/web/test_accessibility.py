"""The page as assistive-technology users and their auditors see it: axe-core (npm) finds no serious or
critical violation in light or dark mode, and every state icon shows its glyph (not a blank disc)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from .conftest import DAY, HOUR, NOW, Seed
from .test_browser import seed_showcase

pytestmark = pytest.mark.browser

STATES = ("HEALTHY", "DEGRADED", "UNHEALTHY", "UNKNOWN")

AXE_RUN = """async () => {
  const r = await axe.run(document, {resultTypes: ['violations']});
  return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => ({
    id: v.id, impact: v.impact,
    nodes: v.nodes.map(n => n.target.join(' ') + ': ' + (n.any[0] ? n.any[0].message : n.failureSummary)),
  }));
}"""

# Share of the icon's middle square that differs clearly from its most common colour (0 for a blank disc).
GLYPH_SHARE = """async (png) => {
  const bytes = Uint8Array.from(atob(png), ch => ch.charCodeAt(0));
  const img = await createImageBitmap(new Blob([bytes], {type: 'image/png'}));
  const c = new OffscreenCanvas(img.width, img.height), g = c.getContext('2d');
  g.drawImage(img, 0, 0);
  const x0 = Math.floor(img.width * .25), y0 = Math.floor(img.height * .25);
  const w = Math.ceil(img.width * .5), h = Math.ceil(img.height * .5);
  const d = g.getImageData(x0, y0, w, h).data, counts = new Map(), px = [];
  for (let i = 0; i < d.length; i += 4) {
    const k = (d[i] >> 4) + ',' + (d[i + 1] >> 4) + ',' + (d[i + 2] >> 4);
    counts.set(k, (counts.get(k) || 0) + 1); px.push([d[i], d[i + 1], d[i + 2]]);
  }
  const mode = [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0].split(',').map(v => +v * 16 + 8);
  const off = px.filter(p => Math.abs(p[0] - mode[0]) + Math.abs(p[1] - mode[1]) + Math.abs(p[2] - mode[2]) > 90);
  return off.length / px.length;
}"""


def axe_source(node_modules: Path) -> str:
    return (node_modules / "axe-core" / "axe.min.js").read_text()


async def test_axe_finds_no_serious_violation(seed: Seed, make_server, browser, node_modules: Path) -> None:  # type: ignore[no-untyped-def]
    seed_showcase(seed)
    seed_state_pages(seed)
    srv = await make_server()
    axe = axe_source(node_modules)
    slugs = ["acme", "acme/uptime", *(s.lower() for s in STATES)]

    def audit(b: Any) -> dict[str, Any]:
        out = {}
        for scheme in ("light", "dark"):
            ctx = b.new_context(bypass_csp=True, color_scheme=scheme)  # our CSP rightly blocks injected scripts
            page = ctx.new_page()
            for slug in slugs:
                page.goto(f"{srv.url}/{slug}", wait_until="load")
                page.add_script_tag(content=axe)
                found = page.evaluate(AXE_RUN)
                if found:
                    out[f"{slug} ({scheme})"] = found
            ctx.close()
        return out

    found = await browser.run(audit)
    lines = [f"{where} {v['id']}: {node}" for where, vs in found.items() for v in vs for node in v["nodes"]]
    assert lines == [], "\n".join(lines)


def seed_state_pages(seed: Seed) -> None:
    """One page per state: its banner (and only component) in that state."""
    for state in STATES:
        spans = [] if state == "UNKNOWN" else [(state, NOW - 2 * DAY, NOW - HOUR)]
        pid = seed.probe(f"p-{state.lower()}", state, spans=spans, last=None if state == "UNKNOWN" else NOW - 20)
        seed.page(state.lower(), f"{state} page", [(pid, state.title())])


async def test_state_icons_show_their_glyph(seed: Seed, make_server, browser) -> None:  # type: ignore[no-untyped-def]
    seed_state_pages(seed)
    srv = await make_server()

    def shares(b: Any) -> dict[str, dict[str, float]]:
        ctx = b.new_context(viewport={"width": 800, "height": 600}, device_scale_factor=4)
        page = ctx.new_page()
        out: dict[str, dict[str, float]] = {}
        for state in STATES:
            page.goto(f"{srv.url}/{state.lower()}", wait_until="load")
            out[state] = {}
            for where in (".banner .ic", ".component .state .ic"):
                png = base64.b64encode(page.locator(where).first.screenshot()).decode()
                out[state][where] = page.evaluate(GLYPH_SHARE, png)
        ctx.close()
        return out

    found = await browser.run(shares)
    blank = {s: w for s, by in found.items() for w, share in by.items() if share < 0.05}
    assert blank == {}, f"icons drawn as a blank disc: {blank} (shares {found})"


async def test_axe_finds_no_serious_violation_in_the_printable_report(  # type: ignore[no-untyped-def]
    seed: Seed, db, browser, node_modules: Path, tmp_path: Path
) -> None:
    from callmeter_tui.commands.report import load_report
    from callmeter_tui.web.report import report_html

    from .test_sla_report import _seed

    _seed(seed, db)
    out = tmp_path / "report.html"
    out.write_bytes(report_html(load_report(db, "acme", "2026-10", NOW)))
    axe = axe_source(node_modules)

    def audit(b: Any) -> list[Any]:
        ctx = b.new_context()
        page = ctx.new_page()
        page.goto(out.as_uri(), wait_until="load")
        page.add_script_tag(content=axe)
        found = page.evaluate(AXE_RUN)
        ctx.close()
        return found  # type: ignore[no-any-return]

    found = await browser.run(audit)
    assert found == [], found
