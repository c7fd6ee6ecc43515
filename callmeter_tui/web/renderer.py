"""Where the status pages render: a child process when the database can be shared, else worker threads.

Why its own module: the server answers requests from what is installed; this is the other half, which
turns the database into assets and header sets off the loop. It owns the thread pool, the render process
(see renderproc) and the folder the process ships bodies through, falls back to threads when that process
dies, and builds the assets a page serves on request (see lazy) from the snapshot its render kept.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from ..store.database import Database
from .cache import Answers, Asset, answers, keep_unchanged
from .lazy import built_answers, cors, shipped_answers
from .offloop import responsive
from .publish import Snapshot, StaticFiles, load_static, publish
from .renderproc import GONE, Shipped, receive, render_lazy, render_page, render_pool, shareable, ship_dir
from .snapshot import list_slugs, load_page

log = logging.getLogger(__name__)

# A render's result: assets, their answers, the page's probe ids, its snapshot (or the render process's token
# for it) and its component count (see lazy).
Rendered = tuple[dict[str, Asset], dict[str, Answers], frozenset[int], Any, int]
# slug -> (the page's installed assets or None, their answers): what a new render keeps validators from.
Installed = Callable[[str], tuple["dict[str, Asset] | None", "dict[str, Answers]"]]


class PageRenderer:
    def __init__(
        self,
        db: Database,
        fixed: Mapping[str, str],
        clock: Callable[[], float],
        base_url: Callable[[], str],
        installed: Installed,
        *,
        child: bool,
    ) -> None:
        self._db, self._fixed, self._clock, self._base_url = db, fixed, clock, base_url
        self._installed = installed
        self._child = child
        self.executor: ThreadPoolExecutor | None = None
        self.procs: ProcessPoolExecutor | None = None  # renders pages (see renderproc)
        self.ship_dir = ""  # where it leaves them
        self.static: StaticFiles | None = None

    async def start(self) -> StaticFiles:
        """The thread pool, the static files, and the render process when the database can be shared."""
        self.executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="web-render")
        self.static = await self.off_loop(load_static, self._clock())
        if self._child and shareable(str(getattr(self._db, "url", ""))):
            self.ship_dir = ship_dir()
            self.procs = render_pool()
        return self.static

    async def stop(self) -> None:
        if self.procs is not None:
            await asyncio.to_thread(self.procs.shutdown, True, cancel_futures=True)
            self.procs = None
        if self.ship_dir:
            shutil.rmtree(self.ship_dir, ignore_errors=True)
            self.ship_dir = ""
        if self.executor is not None:  # let an in-flight render finish before the database closes
            await asyncio.to_thread(self.executor.shutdown, True, cancel_futures=True)
            self.executor = None

    async def off_loop(self, fn: Callable[..., Any], *args: Any) -> Any:
        assert self.executor is not None
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    async def render(self, slug: str) -> Rendered | None:
        """Render in the child process when there is one (see renderproc), else in a worker thread."""
        if self.static is not None:
            args = (self._db.url, slug, self._clock(), self._base_url(), self.static, self.ship_dir)
            done, shipped = await self._in_process(render_page, *args)
            if done:
                return None if shipped is None else await self.off_loop(self._install_sync, slug, shipped)
        return await self.off_loop(self._render_sync, slug)

    async def build_lazy(
        self, handle: Any, key: str, previous: Asset | None, slug: str, fresh: Callable[[], Awaitable[Any]]
    ) -> Answers | None:
        """Asset ``key`` of the snapshot ``handle``: in the render process when it holds the snapshot, else in
        a thread. A snapshot the render process no longer has (or lost with it) is rendered again first:
        ``fresh()`` renders the page and gives its new snapshot's handle."""
        for attempt in range(2):
            if isinstance(handle, Snapshot):
                return await self.off_loop(built_answers, handle, key, previous, self._fixed)
            done, shipped = await self._in_process(render_lazy, slug, handle, key, self.ship_dir)
            if done and shipped != GONE:
                if shipped is None:
                    return None
                return await self.off_loop(shipped_answers, key, shipped, previous, self._fixed)
            if attempt == 0:
                handle = await fresh()
        return None

    async def slugs(self) -> list[str]:
        return list(await self.off_loop(self._list_slugs_sync))

    def _list_slugs_sync(self) -> list[str]:
        with self._db.session() as session:
            return list_slugs(session)

    async def _in_process(self, fn: Callable[..., Any], *args: Any) -> tuple[bool, Any]:
        """``fn(*args)`` in the render process: (True, its result), or (False, None) when there is none (any more)."""
        procs = self.procs
        if procs is None:
            return False, None
        try:
            return True, await asyncio.get_running_loop().run_in_executor(procs, fn, *args)
        except BrokenProcessPool:
            log.warning("status pages: the render process died; rendering in threads from now on")
            self.procs = None
            await asyncio.to_thread(procs.shutdown, False, cancel_futures=True)
            return False, None

    def _render_sync(self, slug: str) -> Rendered | None:
        with responsive():  # the event loop keeps running meanwhile (see offloop)
            return self._render_page(slug)

    def _install_sync(self, slug: str, shipped: Shipped) -> Rendered:
        """A page the child process rendered: unchanged assets keep their validators, then header sets."""
        path, manifest, probes, token, components = shipped
        pages, served = self._installed(slug)
        with responsive():
            assets = keep_unchanged(receive(path, manifest), pages)
            return assets, self._answers_for(assets, served), probes, token, components

    def _render_page(self, slug: str) -> Rendered | None:
        now = self._clock()
        with self._db.session() as session:
            data = load_page(session, slug, now, later=self._db.session)
        if data is None:
            return None
        assert self.static is not None
        pages, served = self._installed(slug)
        assets, snapshot = publish(data, self._base_url(), self.static, now, pages)
        return (
            assets,
            self._answers_for(assets, served),
            frozenset(c.probe_id for c in data.components),
            snapshot,
            snapshot.components,
        )

    def _answers_for(self, assets: dict[str, Asset], previous: dict[str, Answers]) -> dict[str, Answers]:
        """Header sets per asset; an asset whose bytes did not change keeps the ones it had."""
        out = {}
        for key, asset in assets.items():
            old = previous.get(key)
            out[key] = old if old is not None and old.asset is asset else answers(asset, self._fixed, cors=cors(key))
        return out
