"""HTTP behaviour of the public server: caching validators, gzip, security headers, 404s, escaping,
edits and deletions showing at once."""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from email.utils import formatdate

import httpx
import pytest

from callmeter_tui.bus.events import EventBus, PagesChanged
from callmeter_tui.web.server import WebServer

from .conftest import NOW, Seed, web_config


@dataclass(frozen=True)
class Run:
    """One element of an uptime bar: a run of equal days."""

    classes: tuple[str, ...]
    tab_stop: bool
    label: str

    @property
    def days(self) -> int:
        return next((int(c[1:]) for c in self.classes if re.fullmatch(r"w\d+", c)), 1)


_RUN = re.compile(r'<i class="([^"]*)"( tabindex="0")? role="img" aria-label="([^"]*)"></i>')


def bar_runs(html: str) -> list[list[Run]]:
    """Every bar's runs, in page order (the markup is ours: a regular expression reads it exactly)."""
    bars = re.findall(r'<div class="bar" role="group" aria-label="[^"]*">(.*?)</div>', html)
    out = []
    for bar in bars:
        runs = [Run(tuple(c.split()), bool(t), label) for c, t, label in _RUN.findall(bar)]
        assert "".join(_RUN.findall(bar) and [m.group(0) for m in _RUN.finditer(bar)]) == bar, "unexpected markup"
        out.append(runs)
    return out


def simple_page(seed: Seed, slug: str = "status", **kw) -> int:  # type: ignore[no-untyped-def]
    p = seed.probe(f"trunk-{slug}", "HEALTHY", spans=[("HEALTHY", NOW - 86400, NOW)])
    return seed.page(slug, "Acme Voice", [(p, "SIP Trunk")], **kw)


async def test_etag_and_last_modified_give_304(seed: Seed, make_server) -> None:  # type: ignore[no-untyped-def]
    simple_page(seed)
    srv = await make_server()
    ident = {"Accept-Encoding": "identity"}
    r = await srv.client.get("/status", headers=ident)
    assert r.status_code == 200 and r.headers["cache-control"] == "public, max-age=60"
    etag, last_mod = r.headers["etag"], r.headers["last-modified"]
    assert etag.startswith('"') and "accept-encoding" in r.headers["vary"].lower()
    r304 = await srv.client.get("/status", headers={**ident, "If-None-Match": etag})
    assert r304.status_code == 304 and r304.content == b"" and r304.headers["etag"] == etag
    assert (await srv.client.get("/status", headers={"If-None-Match": f"W/{etag}"})).status_code == 304
    assert (await srv.client.get("/status", headers={"If-None-Match": '"other"'})).status_code == 200
    assert (await srv.client.get("/status", headers={"If-Modified-Since": last_mod})).status_code == 304
    older = formatdate(NOW - 10 * 86400, usegmt=True)
    assert (await srv.client.get("/status", headers={"If-Modified-Since": older})).status_code == 200
    # JSON and badges carry validators too.
    j = await srv.client.get("/status/status.json")
    assert (
        await srv.client.get("/status/status.json", headers={"If-None-Match": j.headers["etag"]})
    ).status_code == 304


async def test_trailing_slash_answers_like_the_page(seed: Seed, make_server) -> None:  # type: ignore[no-untyped-def]
    simple_page(seed)
    srv = await make_server()
    ident = {"Accept-Encoding": "identity"}
    page, slashed = await srv.client.get("/status", headers=ident), await srv.client.get("/status/", headers=ident)
    assert slashed.status_code == 200 and slashed.content == page.content
    assert slashed.headers["etag"] == page.headers["etag"]
    assert slashed.headers["content-security-policy"] == page.headers["content-security-policy"]
    assert (await srv.client.get("/nope/")).status_code == 404


async def test_gzip_is_precompressed_and_negotiated(seed: Seed, make_server) -> None:  # type: ignore[no-untyped-def]
    simple_page(seed)
    srv = await make_server()
    async with httpx.AsyncClient(base_url=srv.url) as raw:
        r = await raw.get("/status", headers={"Accept-Encoding": "gzip"})
        assert r.headers["content-encoding"] == "gzip"
        plain = await raw.get("/status", headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers
        refused = await raw.get("/status", headers={"Accept-Encoding": "gzip;q=0, br"})
        assert "content-encoding" not in refused.headers
        assert r.text == plain.text and "Acme Voice" in plain.text
        assert r.headers["etag"] != plain.headers["etag"]
        # Either representation's tag revalidates.
        assert (
            await raw.get("/status", headers={"Accept-Encoding": "gzip", "If-None-Match": plain.headers["etag"]})
        ).status_code == 304
    # The bytes on the wire are gzip.
    reader = httpx.AsyncClient(base_url=srv.url)
    async with reader.stream("GET", "/status", headers={"Accept-Encoding": "gzip"}) as resp:
        wire = b"".join([chunk async for chunk in resp.aiter_raw()])
    await reader.aclose()
    assert gzip.decompress(wire).decode() == plain.text


async def test_security_headers_default(seed: Seed, make_server) -> None:  # type: ignore[no-untyped-def]
    simple_page(seed)
    srv = await make_server()
    for path in ("/status", "/status/status.json", "/nope", "/healthz", "/static/page.css"):
        r = await srv.client.get(path)
        assert r.headers["content-security-policy"] == (
            "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; connect-src 'self'; "
            "frame-ancestors *; base-uri 'none'; form-action 'none'"
        ), path
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert "x-frame-options" not in r.headers  # would forbid the documented iframe embedding


async def test_frame_ancestors_from_config(seed: Seed, make_server) -> None:  # type: ignore[no-untyped-def]
    simple_page(seed)
    srv = await make_server(frame_ancestors="'self' https://intranet.example")
    r = await srv.client.get("/status")
    assert "frame-ancestors 'self' https://intranet.example;" in r.headers["content-security-policy"]


def test_bad_frame_ancestors_is_a_one_line_error(db, bus: EventBus) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=r"^web\.frame_ancestors: ") as exc:
        WebServer(db, web_config(frame_ancestors="*; script-src *"), bus)
    assert "\n" not in str(exc.value)


async def test_unknown_paths_are_404_pages_and_only_get_head(seed: Seed, make_server) -> None:  # type: ignore[no-untyped-def]
    simple_page(seed)
    srv = await make_server()
    for path in (
        "/",
        "/nope",
        "/status/nope",
        "/status/components/x/badge.svg",
        "/status/../etc/passwd",
        "/%3Cscript%3E",
        "/status/logo",
        "/static/other.css",
    ):  # unknown JSON routes answer JSON: tests/web/test_statuspage_api.py
        r = await srv.client.get(path)
        assert r.status_code == 404, path
        assert "Page not found" in r.text and "Traceback" not in r.text, path
    post = await srv.client.post("/status", content=b"x")
    assert post.status_code == 405 and post.headers["allow"] == "GET, HEAD"
    head = await srv.client.head("/status")
    get = await srv.client.get("/status", headers={"Accept-Encoding": "gzip"})
    assert head.status_code == 200 and head.content == b"" and head.headers["etag"] == get.headers["etag"]
    h = await srv.client.get("/healthz")
    assert (h.status_code, h.text) == (200, "ok\n")


async def test_operator_text_is_escaped(seed: Seed, make_server) -> None:  # type: ignore[no-untyped-def]
    p = seed.probe("x", "DEGRADED", spans=[("DEGRADED", NOW - 7200, NOW)])
    seed.page(
        "xss", '"><img src=x onerror=alert(1)>', [(p, "<script>alert(1)</script>")], description="<b>bold</b> & more"
    )
    srv = await make_server()
    html = (await srv.client.get("/xss")).text
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt; &amp; more" in html
    # The only scripts are the same-origin refresh file.
    assert html.count("<script") == 1 and '<script src="/static/refresh.js' in html
    assert (await srv.client.get("/xss/status.json")).json()["components"][0]["name"] == "<script>alert(1)</script>"
    badge = (await srv.client.get("/xss/components/1/badge.svg")).text
    assert "<script>" not in badge and "&lt;script&gt;" in badge


async def test_edit_shows_at_once_and_delete_is_404_at_once(seed: Seed, bus: EventBus, make_server) -> None:  # type: ignore[no-untyped-def]
    simple_page(seed)
    srv = await make_server()
    assert "Acme Voice" in (await srv.client.get("/status")).text
    seed.edit_page("status", name="Acme Voice & Video", accent_color="#ff6600")
    bus.publish(PagesChanged(("status",)))
    html = (await srv.client.get("/status")).text
    assert "Acme Voice &amp; Video" in html
    theme = next(x for x in html.split('"') if x.startswith("/status/theme.css"))
    assert "--accent:#ff6600" in (await srv.client.get(theme)).text
    seed.delete_page("status")
    bus.publish(PagesChanged(("status",)))
    assert (await srv.client.get("/status")).status_code == 404
    assert (await srv.client.get("/status/status.json")).status_code == 404
    # A page created later appears on the "everything changed" event.
    simple_page(seed, slug="later")
    bus.publish(PagesChanged())
    assert (await srv.client.get("/later")).status_code == 200


async def test_page_html_structure(seed: Seed, make_server) -> None:  # type: ignore[no-untyped-def]
    a = seed.probe("a", "HEALTHY", spans=[("HEALTHY", NOW - 86400 * 3, NOW)])
    b = seed.probe("b", "UNHEALTHY", spans=[("UNHEALTHY", NOW - 600, NOW)])
    seed.page(
        "s", "Acme", [(b, "Second by id, first by position"), (a, "Other")], refresh_s=30, timezone="America/New_York"
    )
    srv = await make_server()
    r = await srv.client.get("/s")
    html = r.text
    assert r.headers["cache-control"] == "public, max-age=30"
    assert '<noscript><meta http-equiv="refresh" content="30"></noscript>' in html
    assert html.index("Second by id, first by position") < html.index(">Other<")
    bars = bar_runs(html)
    assert len(bars) == 2 and all(sum(r.days for r in bar) == 90 for bar in bars)
    # One tab stop per bar (its newest run), not one per day; equal days are one element.
    assert html.count('tabindex="0"') == 2 and all(
        [r.tab_stop for r in bar] == [False] * (len(bar) - 1) + [True] for bar in bars
    )
    # Runs never cross the narrow-screen edge (30 days); days that read the same merge, even when one of
    # them is 25 hours long (1 Nov 2026 in New York).
    assert [(r.classes, r.label) for r in bars[0]] == [
        (("n", "w60", "o"), "25 Aug – 23 Oct 2026&#10;Each day: No data"),
        (("n", "w29", "r"), "24 Oct – 21 Nov 2026&#10;Each day: No data"),
        (("u", "r"), "Sun 22 Nov 2026&#10;Unhealthy 10m&#10;No data 6h 50m"),
    ]
    assert [(r.days, r.label) for r in bars[1][-4:]] == [
        (26, "24 Oct – 18 Nov 2026&#10;Each day: No data"),
        (1, "Thu 19 Nov 2026&#10;Healthy 17h&#10;No data 7h"),
        (2, "20 – 21 Nov 2026&#10;Each day: Healthy 1d"),
        (1, "Sun 22 Nov 2026&#10;Healthy 7h"),
    ]
    # Tooltip dates are in the page's zone: New York's 22 Nov began at 05:00 UTC.
    assert 'aria-label="Sun 22 Nov 2026&#10;Healthy 7h"' in html
    assert "100.00% uptime" in html and "0.00% uptime" in html
    assert "Ongoing" in html


async def test_port_in_use_is_an_oserror_and_cleans_up(seed: Seed, db, bus: EventBus) -> None:  # type: ignore[no-untyped-def]
    import socket
    import threading

    simple_page(seed)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        server = WebServer(db, web_config(port=port), bus)
        with pytest.raises(OSError):
            await server.start()
    assert not [t for t in threading.enumerate() if t.name.startswith("web-render")]


async def test_odd_settings_still_render(seed: Seed, make_server) -> None:  # type: ignore[no-untyped-def]
    """An empty page, a zone this machine lacks, a short bar and a bad colour: the page still answers."""
    seed.page("empty", "Nothing yet", [], timezone="Mars/Olympus_Mons", accent_color="red", bar_days=7)
    srv = await make_server()
    r = await srv.client.get("/empty")
    assert r.status_code == 200 and "No components on this page yet." in r.text
    doc = (await srv.client.get("/empty/status.json")).json()
    assert (doc["banner"], doc["components"], doc["incidents"]) == ("Status Pending", [], [])
    summary = (await srv.client.get("/empty/api/v2/summary.json")).json()
    assert summary["page"]["time_zone"] == "UTC" and summary["status"]["indicator"] == "none"
    theme = next(x for x in r.text.split('"') if x.startswith("/empty/theme.css"))
    assert "--accent:#0b7285" in (await srv.client.get(theme)).text


SAME_ON_HEAD = (
    "etag",
    "last-modified",
    "cache-control",
    "vary",
    "content-type",
    "content-encoding",
    "content-length",
    "content-security-policy",
    "x-content-type-options",
    "referrer-policy",
    "server",
)


async def test_head_and_304_carry_the_same_prebuilt_headers(seed: Seed, make_server) -> None:  # type: ignore[no-untyped-def]
    """Answers come from header sets built with the page: HEAD is GET without the body, a 304 keeps the
    validators, caching and security headers of its representation and drops the body's."""
    simple_page(seed)
    srv = await make_server()
    async with httpx.AsyncClient(base_url=srv.url) as raw:
        for enc in ("gzip", "identity"):
            get = await raw.get("/status", headers={"Accept-Encoding": enc})
            head = await raw.head("/status", headers={"Accept-Encoding": enc})
            assert (head.status_code, head.content) == (200, b"")
            assert {k: head.headers.get(k) for k in SAME_ON_HEAD} == {k: get.headers.get(k) for k in SAME_ON_HEAD}
            for method in ("GET", "HEAD"):
                r = await raw.request(
                    method, "/status", headers={"Accept-Encoding": enc, "If-None-Match": get.headers["etag"]}
                )
                assert (r.status_code, r.content) == (304, b""), method
                kept = ("etag", "last-modified", "cache-control", "vary", "content-security-policy", "server")
                assert {k: r.headers.get(k) for k in kept} == {k: get.headers.get(k) for k in kept}
                assert "content-encoding" not in r.headers and "content-type" not in r.headers
        # The same Accept-Encoding value keeps getting the same representation (it is remembered per value).
        for _ in range(3):
            r = await raw.get("/status", headers={"Accept-Encoding": "gzip;q=0, identity"})
            assert "content-encoding" not in r.headers
