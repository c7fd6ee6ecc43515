"""The page in a real Chromium: banner and rows, tooltips by keyboard, live refresh without reload,
JavaScript off, embedding in a foreign page's iframe, no CSP violations, screenshots for review."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from callmeter_tui.bus.events import EventBus, StateChanged

from .conftest import DAY, HOUR, NOW, Seed

pytestmark = pytest.mark.browser

COMPONENTS = [
    ("Primary SIP Trunk (US East)", "HEALTHY"),
    ("Backup SIP Trunk (EU West)", "DEGRADED"),
    ("IVR System", "HEALTHY"),
    ("Conference Bridge", "UNKNOWN"),
    ("<script>alert(1)</script>", "HEALTHY"),
]


def seed_showcase(seed: Seed, **page: Any) -> list[int]:
    """Realistic history: long healthy runs, a few bad days, one probe added recently."""
    ids = []
    for i, (_name, state) in enumerate(COMPONENTS):
        if state == "UNKNOWN":
            spans: list[tuple[str, float, float]] = []
        else:
            start = NOW - (100 - 10 * (i % 3)) * DAY
            cuts = [NOW - (70 - 7 * i) * DAY, NOW - (40 - 4 * i) * DAY, NOW - (12 - 2 * i) * DAY]
            spans, t = [], start
            for j, cut in enumerate(cuts):
                spans.append(("HEALTHY", t, cut))
                bad = "UNHEALTHY" if (i + j) % 2 else "DEGRADED"
                spans.append((bad, cut, cut + (1 + j) * HOUR))
                t = cut + (1 + j) * HOUR
            if state == "DEGRADED":
                spans += [("HEALTHY", t, NOW - 3 * HOUR), ("DEGRADED", NOW - 3 * HOUR, NOW)]
            else:
                spans.append(("HEALTHY", t, NOW))
        ids.append(seed.probe(f"probe-{i}", state, spans=spans, last=None if state == "UNKNOWN" else NOW - 20))
    seed.page(
        "acme",
        "Acme Voice Network",
        [(pid, COMPONENTS[i][0]) for i, pid in enumerate(ids)],
        description="Live health of our SIP trunks, IVR and conferencing, measured every minute.",
        accent_color="#5b3fd1",
        **page,
    )
    return ids


def shots_dir(tmp_path: Path) -> Path:
    """Screenshots go to the test's tmp dir, or to $CALLMETER_SHOTS_DIR to keep them for review."""
    d = Path(os.environ["CALLMETER_SHOTS_DIR"]) if os.environ.get("CALLMETER_SHOTS_DIR") else tmp_path / "shots"
    d.mkdir(parents=True, exist_ok=True)
    return d


def collect_console(page: Any, sink: list[str]) -> None:
    page.on("console", lambda m: sink.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: sink.append(f"pageerror: {e}"))


# Days drawn by component ``i``'s visible runs (a run of n equal days has class wn).
DAYS_SHOWN = """(i) => [...document.querySelectorAll('.component')[i].querySelectorAll('.bar > i')]
    .filter(r => r.offsetWidth > 0)
    .reduce((n, r) => n + Number((r.className.match(/\\bw(\\d+)/) || [0, 1])[1]), 0)"""

# Where the focus is: [component index, run index within its bar].
WHERE = """() => { const a = document.activeElement, bar = a.parentElement;
    return [[...document.querySelectorAll('.bar')].indexOf(bar), [...bar.children].indexOf(a)]; }"""


def keyboard_walk(page: Any) -> dict[str, Any]:
    """From the first bar's tab stop: Tab, Shift+Tab, ArrowLeft, Home, End, as a keyboard user would."""
    out: dict[str, Any] = {
        "stops": page.evaluate("() => document.querySelectorAll('.bar [tabindex=\"0\"]').length"),
        "runs": page.evaluate("() => [...document.querySelectorAll('.bar')].map(b => b.children.length)"),
    }
    page.keyboard.press("Tab")
    out["after_tab"] = page.evaluate(WHERE)
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("ArrowLeft")
    out["left"] = page.evaluate(WHERE)
    out["left_tip"] = page.evaluate("() => getComputedStyle(document.activeElement, '::after').visibility")
    page.keyboard.press("Home")
    out["home"] = page.evaluate(WHERE)
    out["home_label"] = page.evaluate("() => document.activeElement.getAttribute('aria-label')")
    page.keyboard.press("End")
    out["end"] = page.evaluate(WHERE)
    out["stops_after"] = page.evaluate("() => document.querySelectorAll('.bar [tabindex=\"0\"]').length")
    return out


async def test_page_in_chromium(seed: Seed, make_server, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    seed_showcase(seed)
    srv = await make_server()
    url = f"{srv.url}/acme"
    out = shots_dir(tmp_path)

    def check(b: Any) -> dict[str, Any]:
        console: list[str] = []
        ctx = b.new_context(viewport={"width": 1280, "height": 900})
        page = ctx.new_page()
        collect_console(page, console)
        requested: list[str] = []
        page.on("request", lambda req: requested.append(req.url))
        page.goto(url, wait_until="load")
        result = {
            "banner": page.inner_text(".banner-text"),
            "names": page.locator(".component-name").all_inner_texts(),
            "states": page.locator(".component .state").all_inner_texts(),
            "days": page.evaluate(DAYS_SHOWN, 0),
            "uptime": page.locator(".uptime").all_inner_texts(),
            "incidents": page.locator(".incident").count(),
            "ongoing": page.locator(".incident .tag").all_inner_texts(),
        }
        # Keyboard: Tab reaches a bar (its newest run) and its tooltip becomes visible.
        page.focus(".component >> nth=0 >> .bar > i >> nth=-1")
        result["tip_visible"] = page.evaluate("() => getComputedStyle(document.activeElement, '::after').visibility")
        result["tip_text"] = page.evaluate("() => getComputedStyle(document.activeElement, '::after').content")
        result["keys"] = keyboard_walk(page)
        result["banner_bg"] = page.evaluate("() => getComputedStyle(document.querySelector('.banner')).backgroundColor")
        for w, h in ((375, 812), (2560, 1440), (1280, 900)):
            page.set_viewport_size({"width": w, "height": h})
            page.screenshot(path=str(out / f"status-{w}x{h}.png"), full_page=True)
            result[f"overflow_{w}"] = page.evaluate(
                "() => document.documentElement.scrollWidth > document.documentElement.clientWidth"
            )
        page.emulate_media(color_scheme="dark")
        page.screenshot(path=str(out / "status-1280x900-dark.png"), full_page=True)
        page.emulate_media(color_scheme="light")
        page.set_viewport_size({"width": 375, "height": 812})
        result["days_375"] = page.evaluate(DAYS_SHOWN, 0)
        page.set_viewport_size({"width": 320, "height": 640})
        result["overflow_320"] = page.evaluate(
            "() => document.documentElement.scrollWidth > document.documentElement.clientWidth"
        )
        ctx.close()
        result["console"] = console
        result["foreign"] = [u for u in requested if not u.startswith(srv.url + "/") and not u.startswith("data:")]
        result["requested"] = requested
        return result

    r = await browser.run(check)
    assert r["banner"] == "Partial Degradation"
    assert r["names"] == [c[0] for c in COMPONENTS]  # configured order, XSS name shown as text
    assert [s.strip() for s in r["states"]] == ["Healthy", "Degraded", "Healthy", "Unknown", "Healthy"]
    assert r["days"] == 90 and r["days_375"] == 30  # equal days merge, every day is still drawn
    keys = r["keys"]
    assert keys["stops"] == len(COMPONENTS)  # one tab stop per bar, not one per day
    assert keys["after_tab"] == [1, keys["runs"][1] - 1]  # Tab leaves the bar for the next bar's newest run
    assert keys["left"] == [0, keys["runs"][0] - 2] and keys["left_tip"] == "visible"
    assert keys["home"] == [0, 0] and keys["end"] == [0, keys["runs"][0] - 1] and keys["stops_after"] == 5
    assert keys["home_label"].startswith("25 Aug – ") and "Each day: " in keys["home_label"]
    assert r["uptime"][3] == "— uptime" and all(u.endswith("% uptime") for i, u in enumerate(r["uptime"]) if i != 3)
    assert r["incidents"] >= 5 and [t.lower() for t in r["ongoing"]] == ["ongoing"]
    assert r["tip_visible"] == "visible" and "Sun 22 Nov 2026" in r["tip_text"]
    assert r["banner_bg"] == "rgb(240, 180, 41)"  # the degraded yellow
    assert not any(r[f"overflow_{w}"] for w in (320, 375, 1280, 2560))
    assert r["console"] == []
    assert r["foreign"] == []  # no CDN, no fonts, no trackers
    assert any(u.endswith("/static/refresh.js?v=" + u.rsplit("=", 1)[-1]) for u in r["requested"])


async def test_narrow_bar_and_uptime_cover_the_same_days(seed: Seed, make_server, browser) -> None:  # type: ignore[no-untyped-def]
    """A bad day 60 days ago: in the 90-day figure, outside the 30 days a phone's bar shows."""
    pid = seed.probe(
        "p",
        "HEALTHY",
        spans=[
            ("HEALTHY", NOW - 100 * DAY, NOW - 60 * DAY),
            ("UNHEALTHY", NOW - 60 * DAY, NOW - 59 * DAY),
            ("HEALTHY", NOW - 59 * DAY, NOW),
        ],
    )
    seed.page("narrow", "Narrow", [(pid, "Trunk")])
    srv = await make_server()

    def read(b: Any) -> dict[int, tuple[int, str, str]]:
        ctx = b.new_context()
        page = ctx.new_page()
        out = {}
        for width in (375, 1280):
            page.set_viewport_size({"width": width, "height": 800})
            page.goto(f"{srv.url}/narrow", wait_until="load")
            shown = page.evaluate(DAYS_SHOWN, 0)
            out[width] = (shown, page.inner_text(".component-foot .foot-edge >> nth=0"), page.inner_text(".uptime"))
        ctx.close()
        return out

    seen = await browser.run(read)
    assert seen[375] == (30, "30 days ago", "100.00% uptime")
    assert seen[1280] == (90, "90 days ago", "98.88% uptime")


async def test_live_refresh_patches_in_place_and_js_off_still_works(
    seed: Seed, bus: EventBus, make_server, browser
) -> None:  # type: ignore[no-untyped-def]
    ids = seed_showcase(seed, refresh_s=1)
    srv = await make_server()
    url = f"{srv.url}/acme"

    def open_page(b: Any) -> tuple[Any, Any, list[str]]:
        console: list[str] = []
        ctx = b.new_context()
        page = ctx.new_page()
        collect_console(page, console)
        page.goto(url)
        page.evaluate("() => { window.__sameDocument = true; }")
        page.click(".older summary")  # the visitor opens older incidents...
        page.focus(".component >> nth=2 >> .bar > i >> nth=-1")  # ...and reads a tooltip by keyboard
        page.keyboard.press("ArrowLeft")
        page.keyboard.press("ArrowLeft")
        return ctx, page, console

    ctx, page, console = await browser.run(open_page)
    seed.set_state(ids[0], "UNHEALTHY")
    bus.publish(StateChanged(ids[0], "probe-0", "HEALTHY", "UNHEALTHY", NOW, 1))

    def wait_patch(_b: Any) -> tuple[bool, str, str, bool, bool]:
        page.wait_for_function(
            "() => document.querySelector('.banner-text').textContent === 'Major Issues Detected'", timeout=15000
        )
        return (
            page.evaluate("() => window.__sameDocument === true"),
            page.inner_text(".component >> nth=0 >> .state"),
            page.get_attribute(".banner", "class"),
            page.evaluate("() => document.querySelector('.older').open"),
            page.evaluate(
                "() => { const runs = document.querySelectorAll('.component')[2].querySelectorAll('.bar > i');"
                " return document.activeElement === runs[runs.length - 3]"
                " && document.querySelectorAll('.bar [tabindex=\"0\"]').length === 5"
                " && runs[runs.length - 3].getAttribute('tabindex') === '0'; }"
            ),
        )

    same_doc, state, banner_cls, still_open, still_focused = await browser.run(wait_patch)
    assert same_doc, "the page reloaded instead of patching in place"
    assert state.strip() == "Unhealthy" and banner_cls == "banner is-unhealthy"
    assert still_open and still_focused  # patched in place: the visitor's context survives

    def js_off(b: Any) -> tuple[str, int, str]:
        ctx.close()
        c2 = b.new_context(java_script_enabled=False)
        p2 = c2.new_page()
        p2.goto(url)
        res = (p2.inner_text(".banner-text"), p2.locator(".component").count(), p2.content())
        c2.close()
        return res

    banner, rows, html = await browser.run(js_off)
    assert banner == "Major Issues Detected" and rows == len(COMPONENTS)
    assert '<meta http-equiv="refresh" content="1">' in html
    assert console == []


async def _foreign_site(port_holder: dict[str, int], target: str) -> web.AppRunner:
    async def index(_r: web.Request) -> web.Response:
        return web.Response(
            text=f'<!doctype html><title>Intranet</title><link rel="icon" href="data:,"><h1>Our NOC</h1>'
            f'<iframe id="status" src="{target}" width="420" height="600" title="SIP status"></iframe>',
            content_type="text/html",
        )

    app = web.Application()
    app.router.add_get("/", index)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port_holder["port"] = runner.addresses[0][1]
    return runner


@pytest.mark.parametrize("frame_ancestors, allowed", [("*", True), ("'self'", False)])
async def test_embedded_in_foreign_iframe(
    seed: Seed,
    make_server,
    browser,
    tmp_path: Path,  # type: ignore[no-untyped-def]
    frame_ancestors: str,
    allowed: bool,
) -> None:
    seed_showcase(seed)
    srv = await make_server(frame_ancestors=frame_ancestors)
    holder: dict[str, int] = {}
    runner = await _foreign_site(holder, f"{srv.url}/acme")
    try:

        def embed(b: Any) -> dict[str, Any]:
            console: list[str] = []
            ctx = b.new_context(viewport={"width": 900, "height": 800})
            page = ctx.new_page()
            collect_console(page, console)
            page.goto(f"http://127.0.0.1:{holder['port']}/")
            frame_el = page.wait_for_selector("#status")
            frame = frame_el.content_frame()
            banner = None
            if allowed:
                frame.wait_for_selector(".banner-text")
                banner = frame.inner_text(".banner-text")
                page.screenshot(path=str(shots_dir(tmp_path) / "status-iframe-420.png"))
            else:
                page.wait_for_timeout(500)
                banner = frame.evaluate("() => document.querySelector('.banner-text') && 'shown'") if frame else None
            ctx.close()
            return {"banner": banner, "console": console}

        r = await browser.run(embed)
    finally:
        await runner.cleanup()
    if allowed:
        assert r["banner"] == "Partial Degradation"
        assert r["console"] == []
    else:
        assert r["banner"] is None
        assert any("frame-ancestors" in m for m in r["console"]), r["console"]
