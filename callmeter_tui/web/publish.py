"""Everything one page publishes, rendered in one pass from one snapshot (called in a worker thread)."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from importlib import resources
from zoneinfo import ZoneInfo

from .cache import Asset, make_asset, make_assets
from .formats import atom_feed, badge_svg, status_json
from .history import history_bodies, incident_item
from .page_html import paint_bars, render_html, render_not_found, theme_css
from .snapshot import PageData
from .statuspage_api import StatuspageApi
from .view import build_view

log = logging.getLogger(__name__)

JSON = "application/json; charset=utf-8"
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


def page_bodies(data: PageData, base_url: str, static: StaticFiles) -> dict[str, tuple[bytes, str]]:
    """Asset key (path below /<slug>/, "" for the page itself) -> (body, content type)."""
    view = build_view(data)
    bars, widths = paint_bars(view)
    theme = theme_css(data.accent_color, widths, data.bar_days)
    bodies: dict[str, tuple[bytes, str]] = {
        "theme.css": (theme, "text/css; charset=utf-8"),
        "status.json": (status_json(view), JSON),
        "badge.svg": (badge_svg("status", view.state), "image/svg+xml; charset=utf-8"),
        "feed.atom": (atom_feed(view, base_url), "application/atom+xml; charset=utf-8"),
    }
    bodies.update({key: (body, JSON) for key, body in StatuspageApi(view, base_url).bodies().items()})
    for c in view.components:
        badge = badge_svg(c.name, c.state, c.under_maintenance)
        bodies[f"components/{c.position}/badge.svg"] = (badge, "image/svg+xml; charset=utf-8")
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
        ongoing=[incident_item(i, ZoneInfo(data.timezone), data.now) for i in view.public if i.ongoing],
    )
    bodies[""] = (html, "text/html; charset=utf-8")
    for key, page in history_bodies(view, static.css_version, _version(theme)).items():
        bodies[key] = (page, "text/html; charset=utf-8")
    return bodies


def publish(
    data: PageData, base_url: str, static: StaticFiles, now: float, previous: dict[str, Asset] | None
) -> dict[str, Asset]:
    """Render and package (hash, gzip) every asset of a page."""
    return make_assets(page_bodies(data, base_url, static), data.refresh_s, now, previous)
