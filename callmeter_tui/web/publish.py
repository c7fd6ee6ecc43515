"""What one page publishes: the page itself rendered at once from a snapshot, the rest on request.

A render builds what a visitor's browser loads with the page (the HTML, its theme stylesheet, the logo, the
page badge). The machine-readable and secondary assets (status.json, the Statuspage API, the Atom feed,
the incident history, one badge per component) are built from the same snapshot on their first request
(``lazy.Snapshot``): a 1,000-component page's status.json alone is 15 MB that few ever ask for.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from dataclasses import dataclass
from importlib import resources
from zoneinfo import ZoneInfo

from .cache import Asset, make_asset, make_assets
from .formats import atom_feed, badge_svg, status_json
from .history import MAX_PAGES, history_body, incident_item
from .page_html import paint_bars, render_html, render_not_found, theme_css
from .snapshot import PageData
from .statuspage_api import API_KEYS, StatuspageApi
from .view import PageView, build_view

log = logging.getLogger(__name__)

STATIC_MAX_AGE = 3600

# The stylesheet is styles/page.css at the top of the checkout, shipped inside the package as
# callmeter_tui.styles (pyproject maps it), so an installed wheel serves the same bytes as a checkout.
STYLES_PACKAGE = "callmeter_tui.styles"


def _version(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=6).hexdigest()


@dataclass(frozen=True)
class StaticFiles:
    """Assets shared by every page, loaded once at start."""

    css: Asset
    js: Asset
    not_found: Asset

    @property
    def css_version(self) -> str:
        return self.css.digest[:12]

    @property
    def js_version(self) -> str:
        return self.js.digest[:12]


def read_stylesheet() -> bytes:
    try:
        return resources.files(STYLES_PACKAGE).joinpath("page.css").read_bytes()
    except (OSError, ModuleNotFoundError):
        log.warning("styles/page.css not found in the package: the status page is served unstyled")
        return b""


def load_static(now: float) -> StaticFiles:
    css = make_asset(read_stylesheet(), "text/css; charset=utf-8", STATIC_MAX_AGE, now)
    js_bytes = resources.files("callmeter_tui.web").joinpath("templates/refresh.js").read_bytes()
    js = make_asset(js_bytes, "text/javascript; charset=utf-8", STATIC_MAX_AGE, now)
    nf = make_asset(render_not_found(css.digest[:12]), "text/html; charset=utf-8", 0, now)
    return StaticFiles(css=css, js=js, not_found=nf)


Bodies = dict[str, tuple[bytes, str]]  # asset key (path below /<slug>/) -> (body, content type)
JSON = "application/json; charset=utf-8"
SVG = "image/svg+xml; charset=utf-8"
HTML = "text/html; charset=utf-8"
_BADGE = re.compile(r"components/([1-9][0-9]{0,6})/badge\.svg")
_HISTORY = re.compile(r"history(?:/([1-9][0-9]{0,2}))?")


def lazy_group(key: str, components: int) -> str | None:
    """Which builder makes asset ``key`` of a page with ``components`` components; None: no such asset.
    A closed set per page (so answers kept for keys that turn out empty stay bounded)."""
    if key in ("status.json", "feed.atom"):
        return key
    if key in API_KEYS:
        return "api"
    if m := _HISTORY.fullmatch(key):
        return key if m.group(1) is None or 2 <= int(m.group(1)) <= MAX_PAGES else None  # one page each
    if (m := _BADGE.fullmatch(key)) and int(m.group(1)) <= components:
        return key
    return None


class Snapshot:
    """One render's view of a page and what its lazily built bodies need (thread-safe: builds are serialised)."""

    def __init__(self, view: PageView, base_url: str, css_version: str, theme_version: str) -> None:
        self.view = view
        self.base_url = base_url
        self.css_version = css_version
        self.theme_version = theme_version
        self._lock = threading.Lock()
        self._built: Bodies = {}
        self._groups: set[str] = set()

    @property
    def components(self) -> int:
        return len(self.view.components)

    def lazy_keys(self) -> list[str]:
        """Every key a lazy asset may have (history pages past the last one have no body)."""
        keys = ["status.json", "feed.atom", "history", *API_KEYS]
        keys += [f"history/{n}" for n in range(2, MAX_PAGES + 1)]
        return keys + [f"components/{c.position}/badge.svg" for c in self.view.components]

    def body(self, key: str) -> tuple[bytes, str] | None:
        group = lazy_group(key, self.components)
        if group is None:
            return None
        with self._lock:
            if group not in self._groups:
                self._built.update(self._build(group))
                self._groups.add(group)
            return self._built.get(key)

    def drop_built(self) -> None:
        """Forget the bodies built so far (they are built again if asked for)."""
        with self._lock:
            self._built.clear()
            self._groups.clear()

    def _build(self, group: str) -> Bodies:
        view = self.view
        if group == "status.json":
            return {group: (status_json(view), JSON)}
        if group == "feed.atom":
            return {group: (atom_feed(view, self.base_url), "application/atom+xml; charset=utf-8")}
        if group == "api":
            return {key: (body, JSON) for key, body in StatuspageApi(view, self.base_url).bodies().items()}
        if group.startswith("history"):
            page_no = int(group.partition("/")[2] or 1)
            page = history_body(view, page_no, self.css_version, self.theme_version)
            return {} if page is None else {group: (page, HTML)}
        position = int(group.split("/")[1])
        c = view.components[position - 1]  # positions are 1..n in display order (snapshot.load_page)
        return {group: (badge_svg(c.name, c.state, c.under_maintenance), SVG)}


def page_bodies(data: PageData, base_url: str, static: StaticFiles) -> tuple[Bodies, Snapshot]:
    """The eagerly built assets (asset key -> (body, content type)) and the snapshot the others are built from."""
    view = build_view(data)
    bars, widths = paint_bars(view)
    theme = theme_css(data.accent_color, widths, data.bar_days)
    bodies: Bodies = {
        "theme.css": (theme, "text/css; charset=utf-8"),
        "badge.svg": (badge_svg("status", view.state), SVG),
    }
    logo_version = ""
    if data.logo is not None:
        bodies["logo"] = data.logo
        logo_version = _version(data.logo[0])
    html = render_html(
        view,
        bars,
        css_version=static.css_version,
        js_version=static.js_version,
        theme_version=_version(theme),
        logo_version=logo_version,
        ongoing=[incident_item(i, ZoneInfo(data.timezone), data.now) for i in view.ongoing],
    )
    bodies[""] = (html, "text/html; charset=utf-8")
    return bodies, Snapshot(view, base_url, static.css_version, _version(theme))


def all_bodies(data: PageData, base_url: str, static: StaticFiles) -> Bodies:
    """Every asset of a page, the lazy ones too (tests compare them with what is served)."""
    bodies, snapshot = page_bodies(data, base_url, static)
    for key in snapshot.lazy_keys():
        found = snapshot.body(key)
        if found is not None:
            bodies[key] = found
    return bodies


def publish(
    data: PageData, base_url: str, static: StaticFiles, now: float, previous: dict[str, Asset] | None
) -> tuple[dict[str, Asset], Snapshot]:
    """Render and package (hash, gzip) the eagerly built assets; the snapshot builds the others on request."""
    bodies, snapshot = page_bodies(data, base_url, static)
    return make_assets(bodies, data.refresh_s, now, previous), snapshot


def lazy_asset(snapshot: Snapshot, key: str, previous: Asset | None) -> Asset | None:
    """The asset ``key`` of the snapshot's page, packaged like the eager ones (Last-Modified: the render's
    time, like theirs); None when there is none."""
    found = snapshot.body(key)
    if found is None:
        return None
    data = snapshot.view.data
    return make_asset(found[0], found[1], data.refresh_s, data.now, previous)
