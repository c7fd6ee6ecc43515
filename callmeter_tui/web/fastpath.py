"""The public page's hot path: requests the connection answers itself, from bytes built with the page.

aiohttp answers a request with a task, a Request, the router, the middleware and a Response whose headers it
serialises: about 100 us of CPU here, most of a request's cost. For a plain GET or HEAD of a known asset
nothing of that is needed: aiohttp's parser (llhttp) still reads the request, then the connection (see
connections._Handler) looks its path up in ``FastRoutes`` and writes the status line (with a Date rebuilt
once a second), the asset's header block and its body, all prebuilt (see cache.Answers). Per request: a dict
lookup, the gzip choice (remembered per Accept-Encoding value) and, when the client revalidates, one
conditional check.

Anything else goes to the aiohttp application as before, in order: other methods, bodies, HTTP/1.0,
``Connection: close``, upgrades, unknown or percent-encoded paths, and every request while a settings edit is
being rendered (those wait for it, see WebServer._urgent_refresh). A path is only listed here when the
application would answer it from the same Answers.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping

from aiohttp import hdrs
from aiohttp.http import HttpVersion11, RawRequestMessage
from aiohttp.streams import EMPTY_PAYLOAD

from .cache import Answers, GzipAccepted, http_date, not_modified

SLUG = r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}"  # a page's path segment (the application's routes use it too)
_SLUG = re.compile(SLUG)
_METHODS = frozenset(("GET", "HEAD"))
_ROUTED_ELSEWHERE = frozenset(("uptime",))  # /<slug>/uptime has its own route (rendered on request)
_SHADOWED = frozenset(("healthz", "metrics", "static", "api"))  # slugs whose paths other routes may take first
_RAW = ("%", "?", "#")  # a key with these would be read differently from a raw path: leave it to aiohttp


class StatusLines:
    """The 200 and 304 status lines with the Date header, rebuilt when the second changes."""

    def __init__(self) -> None:
        self._second = -1
        self.ok = self.not_modified = b""

    def now(self) -> StatusLines:
        second = int(time.time())
        if second != self._second:
            date = b"Date: " + http_date(second).encode("ascii") + b"\r\n"
            self.ok = b"HTTP/1.1 200 OK\r\n" + date
            self.not_modified = b"HTTP/1.1 304 Not Modified\r\n" + date
            self._second = second
        return self


class FastRoutes:
    """Raw request path -> Answers, for what the connection answers itself. ``open`` is False until the
    first render and while an urgent one (a settings edit) runs: then every request goes to the application."""

    def __init__(self, gzip_ok: GzipAccepted) -> None:
        self.open = False
        self._gzip_ok = gzip_ok
        self._lines = StatusLines()
        self._routes: dict[str, Answers] = {}
        self._by_slug: dict[str, tuple[str, ...]] = {}

    def put(self, slug: str, served: Mapping[str, Answers], *, at_root: bool = False) -> None:
        """List page ``slug``'s answers (replacing its previous ones); ``at_root``: it is also the host's root
        page, whose Statuspage API answers at /api/v2/..."""
        self.drop(slug)
        self._add(slug, served, at_root)

    def put_built(self, slug: str, key: str, found: Answers, *, at_root: bool = False) -> None:
        """One more asset of ``slug``'s current answers (built on its first request, see lazy); it goes
        with the others when the page renders again."""
        self._add(slug, {key: found}, at_root)

    def _add(self, slug: str, served: Mapping[str, Answers], at_root: bool) -> None:
        if _SLUG.fullmatch(slug) is None or slug in _SHADOWED:
            return
        paths: dict[str, Answers] = {}
        for key, found in served.items():
            if not found.ok_wire:  # built without its header blocks: the application answers it
                continue
            if not key:
                paths[f"/{slug}"] = paths[f"/{slug}/"] = found
            elif key not in _ROUTED_ELSEWHERE and not any(c in key for c in _RAW):
                paths[f"/{slug}/{key}"] = found
                if at_root and key.startswith("api/v2/"):
                    paths[f"/{key}"] = found
        self._routes.update(paths)
        self._by_slug[slug] = (*self._by_slug.get(slug, ()), *paths)

    def put_path(self, path: str, found: Answers) -> None:
        if found.ok_wire:
            self._routes[path] = found

    def drop(self, slug: str) -> None:
        for path in self._by_slug.pop(slug, ()):
            self._routes.pop(path, None)

    def answer(self, message: RawRequestMessage, payload: object) -> tuple[bytes, ...] | None:
        """The bytes answering ``message``, or None when the application should answer it."""
        if (
            not self.open
            or payload is not EMPTY_PAYLOAD
            or message.should_close
            or message.upgrade
            or message.version != HttpVersion11
            or message.method not in _METHODS
        ):
            return None
        path = message.path
        found = self._routes.get(path)
        if found is None:
            if "?" not in path:
                return None
            found = self._routes.get(path.partition("?")[0])
            if found is None:
                return None
        h = message.headers
        i = 1 if len(found.bodies) > 1 and self._gzip_ok(h.get(hdrs.ACCEPT_ENCODING)) else 0
        lines = self._lines.now()
        inm, ims = h.get(hdrs.IF_NONE_MATCH), h.get(hdrs.IF_MODIFIED_SINCE)
        if (inm is not None or ims) and not_modified(found.asset, inm, ims):
            return lines.not_modified, found.unchanged_wire[i]
        if message.method == "HEAD":
            return lines.ok, found.ok_wire[i]
        return lines.ok, found.ok_wire[i], found.bodies[i]
