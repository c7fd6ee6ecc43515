"""The public, read-only HTTP server for status pages (aiohttp), run inside the app's event loop.

Pages are rendered off the loop (worker threads) whenever the bus says something they show changed,
and at least once a minute for the bars; requests are answered from memory. No admin routes, no secrets.
Every answer's headers (security headers included) are built with the page, not per request: a plain GET or
HEAD of a known asset is answered by the connection itself from prebuilt bytes (see fastpath) for a dict
lookup and, when the client revalidates, one conditional check; everything else goes through the routes below.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable, MutableMapping
from typing import Any

from aiohttp import web

from ..bus.events import EventBus, ExecutionRecorded, PagesChanged, ProbesChanged, StateChanged
from ..config.model import Config
from ..config.validate import validate_frame_ancestors
from ..domain.shortage import out_of_resources
from .cache import Answers, Asset, GzipAccepted, answers, fixed_headers, not_modified
from .connections import (
    HANDLER_KWARGS,
    ConnectionGuard,
    GuardedSite,
    Throttle,
    connection_limit,
    raise_nofile_limit,
    throttle_accept_errors,
)
from .fastpath import SLUG as _SLUG
from .fastpath import FastRoutes
from .json_errors import json_error, wants_json
from .lazy import LazyAssets
from .ondemand import HISTORY_MAX_AGE, METRICS_MAX_AGE, OnDemand, history_answers, metrics_answers
from .publish import StaticFiles
from .renderer import PageRenderer, Rendered

log = logging.getLogger(__name__)

FULL_REFRESH_S = 60.0  # bars move with time even when nothing happens
DEBOUNCE_S = 1.0  # at most one re-render per page per second for execution bursts
RENDER_SHARE = 4  # ...and, for pages slow to render, at most one per 4x its render time


class WebServer:
    """``await start()`` binds ``config.web.host:port`` (port 0 picks a free one: see ``port``/``url``)."""

    def __init__(
        self,
        database: Any,
        config: Config,
        bus: EventBus,
        *,
        clock: Callable[[], float] = time.time,
        render_child: bool = True,
    ):
        fa = (config.web.frame_ancestors or "*").strip()
        if err := validate_frame_ancestors(fa):
            raise ValueError(f"web.frame_ancestors: {err}")
        self._db = database
        self._config = config
        self._bus = bus
        self._clock = clock
        self._fixed = fixed_headers(fa)  # on every answer, aiohttp's own 400s for malformed requests included
        self._gzip_ok = GzipAccepted()
        self._fast = FastRoutes(self._gzip_ok)  # what connections answer themselves
        self._pages: dict[str, dict[str, Asset]] = {}
        self._served: dict[str, dict[str, Answers]] = {}
        self._page_probes: dict[str, frozenset[int]] = {}
        self._lazy = LazyAssets()  # assets built on their first request (see lazy)
        self._installed_gen: dict[str, int] = {}
        self._gen = itertools.count(1)
        self._debounced: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()
        self._shortage = Throttle()  # renders that failed for want of descriptors: a line a minute at most
        self._cost: dict[str, float] = {}
        self._urgent: set[asyncio.Future[Any]] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        # Pages render in a child process (see renderproc) unless the host says no: the dashboard's stderr is
        # its screen, which a child must not inherit (and Textual's stand-in for sys.stderr has no descriptor).
        self._renderer = PageRenderer(
            database,
            self._fixed,
            clock,
            lambda: self.base_url,
            lambda slug: (self._pages.get(slug), self._served.get(slug, {})),
            child=render_child,
        )
        self._static: StaticFiles | None = None
        self._static_answers: dict[str, Answers] = {}
        self._metrics = OnDemand(METRICS_MAX_AGE)
        self._histories = OnDemand(HISTORY_MAX_AGE, lambda: 4 * max(1, len(self._pages)) + 16)
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._undo_accept_log: Callable[[], None] | None = None
        self.connection_limit = 0
        self._ticker: asyncio.Task[None] | None = None
        self._running = False
        self._ready = asyncio.Event()
        self.port: int | None = None

    # ---- lifecycle -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host = self._config.web.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        """Bind, render every page, then answer (page requests wait for that first render)."""
        self._running = True
        self._undo_accept_log = throttle_accept_errors(asyncio.get_running_loop())
        try:
            self._static = await self._renderer.start()
            self._static_answers = {
                "css": answers(self._static.css, self._fixed),
                "js": answers(self._static.js, self._fixed),
                "404": answers(self._static.not_found, self._fixed),
            }
            self._fast.put_path("/static/page.css", self._static_answers["css"])
            self._fast.put_path("/static/refresh.js", self._static_answers["js"])
            await self._bind()
            self._bus.on(self._on_event)
            await self._refresh_all()
        except BaseException:
            await self.stop()
            raise
        self._ready.set()
        self._fast.open = not self._urgent
        self._ticker = asyncio.create_task(self._tick(), name="web-refresh")
        log.info("status pages at %s", self.url)

    @property
    def base_url(self) -> str:
        """Absolute links in feeds and JSON: the configured public URL, or where we bound when port was 0."""
        if self._config.web.port == 0 and self.port:
            return self.url
        return self._config.web.public_base_url

    async def _bind(self) -> None:
        app = web.Application(middlewares=[self._headers_middleware])
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics_route)
        app.router.add_get("/static/page.css", self._static_route("css"))
        app.router.add_get("/static/refresh.js", self._static_route("js"))
        if self._config.web.root_page:  # Statuspage widgets ask the host root for /api/v2/summary.json
            app.router.add_get("/api/v2/{rest:.+}", self._page_route)
        app.router.add_get(f"/{{slug:{_SLUG}}}", self._page_route)
        app.router.add_get(f"/{{slug:{_SLUG}}}/", self._page_route)  # the same page, as links often end in /
        app.router.add_get(f"/{{slug:{_SLUG}}}/uptime", self._uptime_route)
        app.router.add_get(f"/{{slug:{_SLUG}}}/{{rest:.+}}", self._page_route)
        self.connection_limit, reserve = connection_limit(raise_nofile_limit())
        log.info("web: up to %d connections at once, %d descriptors kept in reserve", self.connection_limit, reserve)
        self._runner = web.AppRunner(app, handle_signals=False, **HANDLER_KWARGS)
        await self._runner.setup()
        self._site = GuardedSite(
            self._runner,
            self._config.web.host,
            self._config.web.port,
            lambda server: ConnectionGuard(server, self.connection_limit, self._security_headers, self._fast),
        )
        await self._site.start()
        addresses = self._runner.addresses  # the bound socket tells the real port when 0 was asked
        self.port = int(addresses[0][1]) if addresses else self._config.web.port

    async def stop(self) -> None:
        self._running = False
        self._fast.open = False
        for task in [self._ticker, *self._debounced.values(), *self._urgent, *self._tasks]:
            if task is not None:
                task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
        await self._renderer.stop()
        self._runner = self._site = self._ticker = None
        if self._undo_accept_log is not None:  # after asyncio's pending accept retries (1 s) have run
            asyncio.get_running_loop().call_later(2.0, self._undo_accept_log)
            self._undo_accept_log = None

    # ---- rendering (off the loop, see renderer) --------------------------------------------------

    async def _off_loop(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await self._renderer.off_loop(fn, *args)

    async def _render_elsewhere(self, slug: str) -> Rendered | None:
        return await self._renderer.render(slug)

    async def _render(self, slug: str) -> None:
        """Render ``slug`` and install it unless a render that started later already did."""
        gen = next(self._gen)
        started = time.monotonic()
        try:
            result = await self._render_elsewhere(slug)
        except Exception as exc:  # a broken page must not take the others (or the app) down
            if not out_of_resources(exc):
                log.exception("status page %r failed to render", slug)
                return
            # Descriptors ran out (a flood): the last version stays served, the debounce retries, one line.
            self._shortage("status page %r not rendered for now: %s", slug, exc)
            if self._running:
                self._debounce(slug)
            return
        finally:
            self._cost[slug] = time.monotonic() - started
        if gen < self._installed_gen.get(slug, 0):
            return
        self._installed_gen[slug] = gen
        if result is None:
            self._forget(slug)
        else:
            self._pages[slug], self._served[slug], self._page_probes[slug], handle, components = result
            self._lazy.install(slug, handle, components)
            self._fast.put(slug, self._served[slug], at_root=slug == self._config.web.root_page)

    def _forget(self, slug: str) -> None:
        self._pages.pop(slug, None)
        self._served.pop(slug, None)
        self._page_probes.pop(slug, None)
        self._lazy.forget(slug)
        self._fast.drop(slug)

    # ---- assets built on request (see lazy) ------------------------------------------------------

    async def _build_lazy(self, handle: Any, key: str, previous: Asset | None, slug: str) -> Answers | None:
        async def fresh() -> Any:
            await self._render(slug)  # a fresh snapshot, then the asset from it
            return self._lazy.handle(slug)

        return await self._renderer.build_lazy(handle, key, previous, slug, fresh)

    async def _refresh_all(self) -> None:
        try:
            slugs = set(await self._renderer.slugs())
        except Exception:
            log.exception("status pages: cannot list pages")
            return
        for gone in set(self._pages) - slugs:
            self._installed_gen[gone] = next(self._gen)
            self._forget(gone)
        for slug in sorted(slugs):
            await self._render(slug)

    async def _tick(self) -> None:
        while self._running:
            await asyncio.sleep(FULL_REFRESH_S)
            await self._refresh_all()

    # ---- events ----------------------------------------------------------------------------------

    def _on_event(self, event: object) -> None:
        """Bus callback (same loop, must not block): schedule re-renders."""
        if not self._running:
            return
        if isinstance(event, PagesChanged):
            self._urgent_refresh(event.slugs)
            self._histories.forget(event.slugs)  # settings edits show at once there too
        elif isinstance(event, ProbesChanged):
            for slug in list(self._pages):
                self._debounce(slug)
        elif isinstance(event, (StateChanged, ExecutionRecorded)):
            for slug, probes in list(self._page_probes.items()):
                if event.probe_id in probes:
                    self._debounce(slug)

    def _urgent_refresh(self, slugs: tuple[str, ...]) -> None:
        """Settings edits and deletions show at once: requests wait for this render to finish."""
        coro = self._refresh_all() if not slugs else asyncio.gather(*(self._render(s) for s in slugs))
        task = asyncio.ensure_future(coro)
        self._urgent.add(task)
        self._fast.open = False  # requests meanwhile wait for it in the application (see _page_route)
        task.add_done_callback(self._urgent_done)

    def _urgent_done(self, task: asyncio.Future[Any]) -> None:
        self._urgent.discard(task)
        self._fast.open = self._running and self._ready.is_set() and not self._urgent

    def _debounce(self, slug: str) -> None:
        """Render now, then at most once per DEBOUNCE_S while events keep coming."""
        if slug in self._debounced:
            self._again.add(slug)
            return
        self._debounced[slug] = asyncio.create_task(self._debounced_render(slug))

    async def _debounced_render(self, slug: str) -> None:
        """Render, then hold the slot for the pause: events meanwhile give one more render after it."""
        try:
            while self._running:
                self._again.discard(slug)
                started = time.monotonic()
                await self._render(slug)
                # Big pages render for a while: keep re-renders under ~1/RENDER_SHARE of a core.
                gap = max(DEBOUNCE_S, self._cost.get(slug, 0.0) * RENDER_SHARE)
                await asyncio.sleep(max(0.0, started + gap - time.monotonic()))
                if slug not in self._again:
                    break
        finally:
            self._debounced.pop(slug, None)

    # ---- HTTP ------------------------------------------------------------------------------------

    @web.middleware
    async def _headers_middleware(self, request: web.Request, handler: Callable[..., Any]) -> web.StreamResponse:
        """Errors get our page or a one-line text, with the security headers like every other answer."""
        try:
            return await handler(request)
        except web.HTTPNotFound:
            return self._not_found(request)
        except web.HTTPMethodNotAllowed:
            if wants_json(request.path):
                return json_error(405, "method not allowed", self._fixed, Allow="GET, HEAD")
            return self._text(405, "Method Not Allowed", Allow="GET, HEAD")
        except web.HTTPException as exc:
            if wants_json(request.path):
                return json_error(exc.status, exc.reason.lower(), self._fixed)
            return self._text(exc.status, exc.reason)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("status page request failed: %s", request.path)
            if wants_json(request.path):
                return json_error(500, "internal server error", self._fixed)
            return self._text(500, "Internal Server Error")

    def _text(self, status: int, text: str, **headers: str) -> web.Response:
        return web.Response(status=status, text=f"{text}\n", headers={**self._fixed, **headers})

    def _security_headers(self, h: MutableMapping[str, str]) -> None:
        """For answers aiohttp builds itself (400s for malformed requests: see guard)."""
        h.update(self._fixed)

    def _not_found(self, request: web.Request | None = None) -> web.Response:
        if request is not None and wants_json(request.path):
            return json_error(404, "not found", self._fixed)
        found = self._static_answers["404"]
        return web.Response(status=404, body=found.bodies[0], headers=found.ok[0])

    def _respond(self, request: web.Request, found: Answers) -> web.Response:
        """200 or 304 from prebuilt header sets: the only per-request work is choosing one."""
        h = request.headers
        i = 1 if len(found.bodies) > 1 and self._gzip_ok(h.get("Accept-Encoding")) else 0
        inm, ims = h.get("If-None-Match"), h.get("If-Modified-Since")
        if (inm is not None or ims) and not_modified(found.asset, inm, ims):
            return web.Response(status=304, headers=found.unchanged[i])
        return web.Response(body=found.bodies[i], headers=found.ok[i])

    async def _page_route(self, request: web.Request) -> web.Response:
        if not self._ready.is_set():
            await self._ready.wait()
        if self._urgent:
            await asyncio.shield(asyncio.gather(*self._urgent, return_exceptions=True))
        match = request.match_info
        slug = match.get("slug", self._config.web.root_page)
        rest = match.get("rest", "")
        if "slug" not in match:  # /api/v2/... at the host root: the root page's
            rest = f"api/v2/{rest}"
        assets = self._served.get(slug)
        found = assets.get(rest) if assets is not None else None
        if found is None and assets is not None:  # built on its first request (see lazy)
            found = await self._lazy.get(slug, rest, lambda h, k, p: self._build_lazy(h, k, p, slug))
            if found is not None and self._lazy.current(slug, rest) is found:  # not from a snapshot since replaced
                self._fast.put_built(slug, rest, found, at_root=slug == self._config.web.root_page)
        if found is None:
            return self._not_found(request)
        return self._respond(request, found)

    def _static_route(self, which: str) -> Callable[[web.Request], Any]:
        async def handler(request: web.Request) -> web.Response:
            return self._respond(request, self._static_answers[which])

        return handler

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok\n", headers={**self._fixed, "Cache-Control": "no-store"})

    def _metrics_sync(self) -> Answers:
        return metrics_answers(self._db, self._clock(), self._fixed)

    def _history_sync(self, slug: str) -> Answers | None:
        assert self._static is not None
        previous = self._histories.previous(slug)
        return history_answers(self._db, slug, self._clock(), self._static.css_version, self._fixed, previous)

    async def _uptime_route(self, request: web.Request) -> web.Response:
        """Month-by-month uptime (see uptime_history), rendered on request and kept for HISTORY_MAX_AGE."""
        if not self._ready.is_set():
            await self._ready.wait()
        slug = request.match_info["slug"]
        found = await self._histories.get(slug, lambda: self._off_loop(self._history_sync, slug))
        return self._not_found() if found is None else self._respond(request, found)

    async def _metrics_route(self, request: web.Request) -> web.Response:
        if not self._config.web.metrics_enabled:
            return self._not_found()
        found = await self._metrics.get("metrics", lambda: self._off_loop(self._metrics_sync))
        assert found is not None  # the metrics always exist
        return self._respond(request, found)
