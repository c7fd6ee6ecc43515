"""Status page logos: PNG/JPEG recognised by their magic bytes, SVG sanitised, anything else refused.

One loader for ``check`` (config) and the page (web): what check accepts is exactly what the page shows.
A logo file is stat'ed before it is read (a 50 MB file is refused unread) and kept while its size and
mtime stay the same, so renders do not re-read it.

The logo is operator-supplied and shown to the public, so an SVG could carry script or track visitors
through external references: we keep a small allowlist of drawing elements and local-only references.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

MAX_LOGO_BYTES = 1024 * 1024

_SVG_NS = "http://www.w3.org/2000/svg"
_XLINK_NS = "http://www.w3.org/1999/xlink"

# Drawing elements only: no script, foreignObject, style, image, animation (animate can rewrite href), a.
_ALLOWED = {
    "svg",
    "g",
    "path",
    "rect",
    "circle",
    "ellipse",
    "line",
    "polyline",
    "polygon",
    "text",
    "tspan",
    "textPath",
    "defs",
    "linearGradient",
    "radialGradient",
    "stop",
    "clipPath",
    "mask",
    "title",
    "desc",
    "use",
    "symbol",
    "pattern",
    "filter",
    "feGaussianBlur",
    "feOffset",
    "feBlend",
    "feColorMatrix",
    "feFlood",
    "feComposite",
    "feMerge",
    "feMergeNode",
    "metadata",
}
_URL = re.compile(r"url\(\s*['\"]?\s*([^)'\"\s]*)", re.IGNORECASE)
# CSS functions that fetch without url(), and backslashes (CSS escapes spell url( without the letters).
_BAD_VALUE = re.compile(
    r"javascript:|data:|@import|expression\(|image-set\(|image\(|cross-fade\(|element\(|\\", re.IGNORECASE
)


_cache: dict[str, tuple[tuple[int, int, int], tuple[bytes, str]]] = {}
_CACHE_MAX = 64


def load_logo(path: str | Path) -> tuple[bytes, str]:
    """Read a logo file and return (bytes to serve, MIME type). Raises ValueError (one line)."""
    p = Path(path).expanduser()
    try:
        st = p.stat()
        if not p.is_file():
            raise ValueError(f"logo: {str(p)!r} is not a file")
        key = (st.st_ino, st.st_size, st.st_mtime_ns)
        hit = _cache.get(str(p))
        if hit is not None and hit[0] == key:
            return hit[1]
        if st.st_size > MAX_LOGO_BYTES:
            raise ValueError(f"logo: {st.st_size} bytes is larger than the 1 MiB limit")
        with p.open("rb") as f:
            data = f.read(MAX_LOGO_BYTES + 1)  # the file may grow between stat and read
    except OSError as exc:
        raise ValueError(f"logo: cannot read {str(p)!r}: {exc.strerror or exc}") from None
    result = sniff_logo(data)
    if len(_cache) >= _CACHE_MAX:
        _cache.clear()
    _cache[str(p)] = (key, result)
    return result


def sniff_logo(data: bytes) -> tuple[bytes, str]:
    """Classify logo bytes by content (never by file name) and sanitise SVG. Raises ValueError (one line)."""
    if not data:
        raise ValueError("logo: the file is empty")
    if len(data) > MAX_LOGO_BYTES:
        raise ValueError(f"logo: {len(data)} bytes is larger than the 1 MiB limit")
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return data, "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return data, "image/jpeg"
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<?xml", b"<svg", b"<!--")) or b"<svg" in head:
        return sanitize_svg(data), "image/svg+xml"
    raise ValueError("logo: unsupported format (use PNG, JPEG or SVG)")


def sanitize_svg(data: bytes) -> bytes:
    """An SVG with only drawing elements and local references left. Raises ValueError when unusable."""
    lowered = data.lower()
    if b"<!doctype" in lowered or b"<!entity" in lowered:
        raise ValueError("logo: SVG with a DOCTYPE or entities is refused")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise ValueError(f"logo: SVG is not well-formed XML ({exc})") from None
    if _local(root.tag) != "svg" or _ns(root.tag) not in ("", _SVG_NS):
        raise ValueError("logo: the file's root element is not <svg>")
    _clean(root)
    ET.register_namespace("", _SVG_NS)
    ET.register_namespace("xlink", _XLINK_NS)
    out: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return out


def _clean(elem: ET.Element) -> None:
    for child in list(elem):
        if not isinstance(child.tag, str) or _local(child.tag) not in _ALLOWED or _ns(child.tag) not in ("", _SVG_NS):
            elem.remove(child)
        else:
            _clean(child)
    for name in list(elem.attrib):
        if not _attribute_ok(name, elem.attrib[name]):
            del elem.attrib[name]


def _attribute_ok(name: str, value: str) -> bool:
    local = _local(name).lower()
    if local.startswith("on") or local == "style":  # style is a CSS parser: presentation attributes suffice
        return False
    if _ns(name) not in ("", _XLINK_NS, "http://www.w3.org/XML/1998/namespace"):
        return False
    if _BAD_VALUE.search(value):
        return False
    if local == "href":
        return value.strip().startswith("#")
    return all(ref.startswith("#") for ref in _URL.findall(value))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _ns(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""
