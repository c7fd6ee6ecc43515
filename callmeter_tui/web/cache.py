"""Pre-rendered responses held in memory: body, precompressed gzip body, validators.

Requests never render: they pick an Asset and answer 200 or 304. An Asset whose bytes did not change
keeps its ETag and Last-Modified across re-renders, so caches and the page's live refresh stay cheap.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime

from multidict import CIMultiDict
from zlib_ng import gzip_ng

GZIP_MIN_BYTES = 200
# gzip level by body size, once per render: level 9 keeps pages light; a 1,000-component page's 14 MB
# status.json takes 160 ms at level 6 and 50 ms at level 3 (0.54 MB instead of 0.33 MB). Compressed with
# zlib-ng (the same gzip format): a 1,000-component page's 2.5 MB of HTML at level 6 took 18 ms of CPU
# instead of zlib's 31 ms, and came out 2 % smaller.
GZIP_LEVELS = ((512 * 1024, 9), (4 * 1024 * 1024, 6))
GZIP_LEVEL_BIGGEST = 3
_CRLF = "\r\n"
_COMPRESSIBLE = ("text/", "application/json", "application/atom+xml", "image/svg+xml", "application/javascript")


@dataclass(frozen=True)
class Asset:
    body: bytes
    gz: bytes | None
    content_type: str
    digest: str
    last_modified: float
    max_age: int

    @property
    def etag(self) -> str:
        return f'"{self.digest}"'

    @property
    def etag_gz(self) -> str:
        return f'"{self.digest}-gz"'


def fixed_headers(frame_ancestors: str) -> dict[str, str]:
    """The headers every answer carries: the Content-Security-Policy (embedding allowed for the configured
    ``frame_ancestors``, already validated), nosniff, no referrer, our Server name."""
    return {
        "Content-Security-Policy": (
            "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; connect-src 'self'; "
            f"frame-ancestors {frame_ancestors}; base-uri 'none'; form-action 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Server": "callmeter-tui",
    }


def make_asset(body: bytes, content_type: str, max_age: int, now: float, previous: Asset | None = None) -> Asset:
    """An Asset for ``body``; reuses ``previous`` (and its Last-Modified) when the bytes are identical."""
    digest = hashlib.blake2b(body, digest_size=12).hexdigest()
    kept = _same(previous, digest, content_type, max_age)
    if kept is not None:
        return kept
    gz = None
    if len(body) >= GZIP_MIN_BYTES and content_type.startswith(_COMPRESSIBLE):
        level = next((lvl for size, lvl in GZIP_LEVELS if len(body) <= size), GZIP_LEVEL_BIGGEST)
        packed = gzip_ng.compress(body, compresslevel=level, mtime=0)
        gz = packed if len(packed) < len(body) else None
    return Asset(body, gz, content_type, digest, float(int(now)), max_age)


def _same(previous: Asset | None, digest: str, content_type: str, max_age: int) -> Asset | None:
    """``previous`` (its Last-Modified kept) when it has these very bytes, else None."""
    if previous is None or previous.digest != digest or previous.content_type != content_type:
        return None
    if previous.max_age == max_age:
        return previous
    return Asset(previous.body, previous.gz, content_type, digest, previous.last_modified, max_age)


def keep_unchanged(fresh: Mapping[str, Asset], previous: Mapping[str, Asset] | None) -> dict[str, Asset]:
    """``fresh`` assets (rendered elsewhere, e.g. in a child process), each replaced by its previous
    version when the bytes did not change: validators stay put."""
    prev = previous or {}
    return {key: _same(prev.get(key), a.digest, a.content_type, a.max_age) or a for key, a in fresh.items()}


def make_assets(
    bodies: Mapping[str, tuple[bytes, str]], max_age: int, now: float, previous: Mapping[str, Asset] | None = None
) -> dict[str, Asset]:
    prev = previous or {}
    return {key: make_asset(body, ctype, max_age, now, prev.get(key)) for key, (body, ctype) in bodies.items()}


@dataclass(frozen=True)
class Answers:
    """An Asset's answers with every header already in place, built once per asset (in the render thread):
    a request costs a dict lookup, an optional conditional check and a copy of one of these header sets,
    or, answered by the connection itself (see fastpath), one of the same sets already serialised.
    Index 0 is the identity representation, 1 the gzip one (absent when the asset has no gzip body)."""

    asset: Asset
    ok: tuple[CIMultiDict[str], ...]
    unchanged: tuple[CIMultiDict[str], ...]  # 304: validators and caching headers, no body headers
    bodies: tuple[bytes, ...]
    ok_wire: tuple[bytes, ...] = ()  # ``ok`` as header lines with Content-Length, and the blank line
    unchanged_wire: tuple[bytes, ...] = ()  # ``unchanged`` likewise


def answers(asset: Asset, fixed: Mapping[str, str], *, cors: bool = False, cache_control: str = "") -> Answers:
    """The header sets for ``asset``: ``fixed`` (security headers) on every one of them."""
    common = {
        **fixed,
        "Last-Modified": http_date(asset.last_modified),
        "Cache-Control": cache_control or (f"public, max-age={asset.max_age}" if asset.max_age else "no-cache"),
        "Vary": "Accept-Encoding",
    }
    if cors:
        common["Access-Control-Allow-Origin"] = "*"
    ok, unchanged, bodies = [], [], []
    for etag, body, encoding in ((asset.etag, asset.body, None), (asset.etag_gz, asset.gz, "gzip")):
        if body is None:
            break
        head = {**common, "ETag": etag}
        unchanged.append(CIMultiDict(head))
        head["Content-Type"] = asset.content_type
        if encoding:
            head["Content-Encoding"] = encoding
        ok.append(CIMultiDict(head))
        bodies.append(body)
    return Answers(
        asset,
        tuple(ok),
        tuple(unchanged),
        tuple(bodies),
        tuple(header_block(h, len(b)) for h, b in zip(ok, bodies, strict=True)),
        tuple(header_block(h, None) for h in unchanged),
    )


def header_block(headers: Mapping[str, str], content_length: int | None) -> bytes:
    """``headers`` (plus Content-Length when given) as HTTP/1.1 header lines ending with the blank line, as
    aiohttp writes them. A name or value that could split the block (CR or LF) is refused, as aiohttp does."""
    lines = list(headers.items())
    if content_length is not None:
        lines.append(("Content-Length", str(content_length)))
    text = "".join([f"{k}: {v}\r\n" for k, v in lines])
    if text.count("\r") != len(lines) or text.count("\n") != len(lines):
        raise ValueError(f"header {next(k for k, v in lines if set(k + v) & set(_CRLF))}: CR or LF in it")
    return text.encode("utf-8") + b"\r\n"


class GzipAccepted:
    """``accepts_gzip`` remembered per distinct Accept-Encoding value (browsers send a handful of them);
    the memory is bounded: it starts over when a client sends too many different values."""

    def __init__(self, size: int = 256) -> None:
        self._seen: dict[str | None, bool] = {}
        self._size = size

    def __call__(self, accept_encoding: str | None) -> bool:
        known = self._seen.get(accept_encoding)
        if known is None:
            if len(self._seen) >= self._size:
                self._seen.clear()
            known = self._seen[accept_encoding] = accepts_gzip(accept_encoding)
        return known


def accepts_gzip(accept_encoding: str | None) -> bool:
    """True when the client lists gzip (or *) with a non-zero q value."""
    if not accept_encoding:
        return False
    for part in accept_encoding.split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() not in ("gzip", "x-gzip", "*"):
            continue
        q = 1.0
        for p in params.split(";"):
            k, _, v = p.strip().partition("=")
            if k.strip().lower() == "q":
                try:
                    q = float(v)
                except ValueError:
                    q = 0.0
        if q > 0:
            return True
    return False


def not_modified(asset: Asset, if_none_match: str | None, if_modified_since: str | None) -> bool:
    """RFC 9110 conditional GET: If-None-Match wins; either encoding's tag matches (weak comparison)."""
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return "*" in tags or asset.etag in tags or asset.etag_gz in tags
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return False
        return asset.last_modified <= since
    return False


def http_date(ts: float) -> str:
    return formatdate(ts, usegmt=True)
