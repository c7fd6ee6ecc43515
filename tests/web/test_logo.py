"""Logos: recognised by content, SVG sanitised, anything else refused with one line; served from memory."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from callmeter_tui.config.logo import load_logo, sanitize_svg

from .conftest import NOW, Seed


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"\x00\xff\x00\x00"  # one red pixel, filter byte 0
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


EVIL_SVG = b"""<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10" onload="alert(1)">
  <script>alert(2)</script>
  <foreignObject width="10" height="10"><div xmlns="http://www.w3.org/1999/xhtml">x</div></foreignObject>
  <image href="https://tracker.example/pixel.png" width="1" height="1"/>
  <use xlink:href="https://evil.example/sprite.svg#a"/>
  <use href="#ok"/>
  <a href="javascript:alert(3)"><rect width="1" height="1"/></a>
  <style>@import url(https://evil.example/x.css);</style>
  <g id="ok" onclick="alert(4)"><rect width="10" height="10" fill="url(#grad)" style="fill:url(https://evil.example/f)"/></g>
  <circle cx="5" cy="5" r="4" fill="#0b7285"/>
  <set attributeName="href" to="javascript:alert(5)"/>
</svg>"""


def test_png_and_jpeg_by_magic_bytes(tmp_path: Path) -> None:
    png = tmp_path / "logo.svg"  # the name lies: content decides
    png.write_bytes(tiny_png())
    assert load_logo(png) == (tiny_png(), "image/png")
    jpg = tmp_path / "logo.bin"
    jpg.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 32)
    assert load_logo(jpg)[1] == "image/jpeg"


def test_svg_is_sanitised(tmp_path: Path) -> None:
    f = tmp_path / "logo.svg"
    f.write_bytes(EVIL_SVG)
    data, mime = load_logo(f)
    assert mime == "image/svg+xml"
    text = data.decode()
    for bad in (
        "<script",
        "alert",
        "foreignObject",
        "onload",
        "onclick",
        "tracker.example",
        "evil.example",
        "<image",
        "<style",
        "<set",
        "javascript:",
        "<a ",
    ):
        assert bad not in text, bad
    assert "<circle" in text and 'fill="#0b7285"' in text and 'href="#ok"' in text and 'fill="url(#grad)"' in text
    assert sanitize_svg(data) == data  # idempotent


CSS_TRICKS_SVG = b"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">
  <rect width="10" height="10" style="fill: image-set(url(#a) 1x, 'https://evil.example/i.png' 2x)"/>
  <rect width="5" height="5" style="background:\\75 rl(https://evil.example/e)"/>
  <rect width="4" height="4" fill="\\75 rl(https://evil.example/f)" stroke="-webkit-image-set('https://evil.example/s' 1x)"/>
  <circle cx="5" cy="5" r="4" fill="#0b7285" stroke="url(#g)"/>
</svg>"""


def test_svg_style_attributes_and_css_escapes_are_dropped() -> None:
    """style="..." is a CSS parser: image-set() and escapes (\\75 rl = url) would slip past a url() check."""
    text = sanitize_svg(CSS_TRICKS_SVG).decode()
    for bad in ("style=", "image-set", "evil.example", "\\"):
        assert bad not in text, bad
    assert text.count("<rect") == 3 and 'fill="#0b7285"' in text and 'stroke="url(#g)"' in text


@pytest.mark.parametrize(
    "content, message",
    [
        (b"GIF89a\x01\x00\x01\x00", "unsupported format"),
        (b"", "empty"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><rect></svg>", "not well-formed"),
        (b"<?xml version='1.0'?><!DOCTYPE svg [<!ENTITY a 'aaaa'>]><svg>&a;</svg>", "DOCTYPE"),
        (b"<?xml version='1.0'?><html><svg/></html>", "root element is not <svg>"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * (1024 * 1024), "1 MiB"),
    ],
)
def test_bad_logos_are_refused_with_one_line(tmp_path: Path, content: bytes, message: str) -> None:
    f = tmp_path / "logo"
    f.write_bytes(content)
    with pytest.raises(ValueError, match=r"^logo: ") as exc:
        load_logo(f)
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_missing_logo_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^logo: cannot read .*nope\.png"):
        load_logo(tmp_path / "nope.png")


async def test_logo_served_from_memory(tmp_path: Path, seed: Seed, make_server) -> None:  # type: ignore[no-untyped-def]
    svg = tmp_path / "logo.svg"
    svg.write_bytes(EVIL_SVG)
    p = seed.probe("t", "HEALTHY", spans=[("HEALTHY", NOW - 3600, NOW)])
    seed.page("file", "From file", [(p, "Trunk")], logo_path=str(svg))
    seed.page("stored", "From DB", [(p, "Trunk")], logo_bytes=tiny_png(), logo_mime="image/png")
    seed.page("bad", "Bad logo", [(p, "Trunk")], logo_bytes=b"GIF89a....", logo_mime="image/gif")
    srv = await make_server()
    svg.unlink()  # served from memory: the file is no longer needed
    r = await srv.client.get("/file/logo")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    assert b"<script" not in r.content and b"<circle" in r.content
    r = await srv.client.get("/stored/logo")
    assert (r.headers["content-type"], r.content) == ("image/png", tiny_png())
    assert '<img class="logo" src="/stored/logo?v=' in (await srv.client.get("/stored")).text
    # A refused logo leaves the page up, without a logo.
    bad = await srv.client.get("/bad")
    assert bad.status_code == 200 and 'class="logo"' not in bad.text
    assert (await srv.client.get("/bad/logo")).status_code == 404
