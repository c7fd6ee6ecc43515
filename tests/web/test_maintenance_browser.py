"""Scheduled maintenance in a real browser: axe-core finds no serious violation on a page with a component
under maintenance and upcoming windows (light and dark), and the maintenance icon shows its glyph."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from callmeter_tui.store.maintenance import schedule

from .conftest import DAY, HOUR, NOW, Seed
from .test_accessibility import AXE_RUN, GLYPH_SHARE, axe_source

pytestmark = pytest.mark.browser


def seed_maintenance_page(seed: Seed) -> None:
    a = seed.probe("a", "UNHEALTHY", spans=[("HEALTHY", NOW - 3 * DAY, NOW - HOUR), ("UNHEALTHY", NOW - HOUR, NOW)])
    b = seed.probe("b", "HEALTHY", spans=[("HEALTHY", NOW - 3 * DAY, NOW)])
    seed.page("maint", "Maintenance page", [(a, "Core"), (b, "Edge")])
    with seed.db.session() as s:
        schedule(
            s, page="maint", component="Core", title="Core swap", start="2026-11-22T10:00Z", end="2026-11-22T14:00Z"
        )
        schedule(
            s,
            page="maint",
            component="Edge",
            title="Weekly restart",
            start="2026-11-20T03:00Z",
            end="2026-11-20T03:30Z",
            rrule="FREQ=WEEKLY",
        )
        schedule(
            s, page="maint", component="Edge", title="Yesterday", start="2026-11-21T01:00Z", end="2026-11-21T23:00Z"
        )


async def test_axe_and_glyph_on_a_page_under_maintenance(seed: Seed, make_server, browser, node_modules: Path) -> None:  # type: ignore[no-untyped-def]
    seed_maintenance_page(seed)
    srv = await make_server()
    axe = axe_source(node_modules)

    def audit(b: Any) -> tuple[dict[str, Any], float, str]:
        out = {}
        for scheme in ("light", "dark"):
            ctx = b.new_context(bypass_csp=True, color_scheme=scheme)
            page = ctx.new_page()
            page.goto(f"{srv.url}/maint", wait_until="load")
            page.add_script_tag(content=axe)
            if found := page.evaluate(AXE_RUN):
                out[scheme] = found
            ctx.close()
        ctx = b.new_context(viewport={"width": 800, "height": 600}, device_scale_factor=4)
        page = ctx.new_page()
        page.goto(f"{srv.url}/maint", wait_until="load")
        png = base64.b64encode(page.locator(".component .state.is-maintenance .ic").first.screenshot()).decode()
        share = page.evaluate(GLYPH_SHARE, png)
        label = page.locator(".component .state.is-maintenance").first.inner_text()
        ctx.close()
        return out, share, label

    found, share, label = await browser.run(audit)
    lines = [f"{where} {v['id']}: {node}" for where, vs in found.items() for v in vs for node in v["nodes"]]
    assert lines == [], "\n".join(lines)
    assert share >= 0.05, f"maintenance icon drawn as a blank disc (share {share})"
    assert label.strip() == "Under maintenance"
