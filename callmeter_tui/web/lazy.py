"""Assets built on their first request from the snapshot the page was rendered from, kept until the next one.

Why: a render used to build every asset of a page, and a 1,000-component page's status.json (15 MB: 90
days x 8 fields per component, the documented format), its history pages (6 MB), the Statuspage API, the
feed and 1,000 component badges took nine tenths of the render, for assets few ever ask for. Now a render
builds only what the page's visitors load with it (``publish``); each of these is built from the same
``Snapshot`` (the same moment as the page, so the JSON never disagrees with the HTML) when first asked for,
and served from memory until the page renders again.

``Snapshot`` lives where the page was rendered (the render process, or the server's process when pages
render in threads); ``LazyAssets`` is the server's side: per page, the current snapshot's handle, the
answers built so far (one build per key however many requests wait for it), and the assets of earlier
snapshots, so an asset whose bytes did not change keeps its ETag and Last-Modified.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .cache import Answers, Asset, answers, keep_unchanged
from .offloop import responsive
from .publish import Snapshot, lazy_asset, lazy_group
from .renderproc import Manifest, receive

_CORS = ("json", "feed.atom", "badge.svg")  # machine-readable assets other sites' scripts may read


def cors(key: str) -> bool:
    return key.endswith(_CORS)


def built_answers(snapshot: Snapshot, key: str, previous: Asset | None, fixed: Mapping[str, str]) -> Answers | None:
    """Asset ``key`` built from ``snapshot`` in this process (a worker thread), with its header sets."""
    with responsive():
        asset = lazy_asset(snapshot, key, previous)
        return None if asset is None else answers(asset, fixed, cors=cors(key))


def shipped_answers(
    key: str, shipped: tuple[str, Manifest], previous: Asset | None, fixed: Mapping[str, str]
) -> Answers | None:
    """Asset ``key`` the render process built and shipped (a worker thread): validators kept when unchanged."""
    with responsive():
        asset = keep_unchanged(receive(*shipped), {key: previous} if previous is not None else None).get(key)
        return None if asset is None else answers(asset, fixed, cors=cors(key))


# Builds the answers for (snapshot handle, key, the previous snapshot's asset of that key); None: no such asset.
Build = Callable[[Any, str, "Asset | None"], Awaitable["Answers | None"]]


@dataclass
class _Page:
    handle: Any  # a Snapshot, or the render process's token for one
    components: int
    previous: dict[str, Asset]  # lazily built assets of earlier snapshots: validators kept when unchanged
    built: dict[str, Answers | None] = field(default_factory=dict)
    pending: dict[str, asyncio.Future[Answers | None]] = field(default_factory=dict)


class LazyAssets:
    """The server's side (event loop only): slug -> the current snapshot's lazily built answers."""

    def __init__(self) -> None:
        self._pages: dict[str, _Page] = {}

    def install(self, slug: str, handle: Any, components: int) -> None:
        """A new snapshot of ``slug``: what was built from the last one is stale from now on."""
        old = self._pages.get(slug)
        previous = {}
        if old is not None:
            previous = old.previous | {k: a.asset for k, a in old.built.items() if a is not None}
        self._pages[slug] = _Page(handle, components, previous)

    def forget(self, slug: str) -> None:
        self._pages.pop(slug, None)

    def handle(self, slug: str) -> Any:
        page = self._pages.get(slug)
        return None if page is None else page.handle

    def current(self, slug: str, key: str) -> Answers | None:
        """What was built for ``key`` from ``slug``'s current snapshot, if anything."""
        page = self._pages.get(slug)
        return None if page is None else page.built.get(key)

    async def get(self, slug: str, key: str, build: Build) -> Answers | None:
        """The answers for ``key`` of ``slug``'s current snapshot, built on the first request."""
        page = self._pages.get(slug)
        if page is None or lazy_group(key, page.components) is None:
            return None
        if key in page.built:
            return page.built[key]
        pending = page.pending.get(key)
        if pending is None:
            pending = asyncio.ensure_future(build(page.handle, key, page.previous.get(key)))
            page.pending[key] = pending
            pending.add_done_callback(lambda _: page.pending.pop(key, None))
        found = await asyncio.shield(pending)
        page.built[key] = found
        return found
