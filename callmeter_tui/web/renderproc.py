"""Pages rendered in a child process, so a big render never holds the app's event loop.

Why: a render in a worker thread shares the GIL with the loop. Even with the GC paused and a short switch
interval (``offloop``), a 1,000-component page kept the loop waiting ~10 ms at a time on a busy machine
(the thread holding the GIL gets preempted, and everyone waits for it). A child process has its own GIL:
the loop only receives finished bytes, unpickled by the pool's own thread.

The child (one per server, forked from a forkserver that preloads this module) opens its own connection
to the same database URL, reads the page, renders and compresses its eager assets, and writes the bodies to
a file in a private folder (in /dev/shm where there is one); only a small manifest comes back through the
pool. The child keeps the page's snapshot: the lazily built assets (see lazy) are built there too, on
their first request, and shipped back the same way. The parent reads each body with ``os.pread``, which
copies without holding the GIL: unpickling a 1,000-component page's 18 MB of bodies held it for 10-50 ms. Then the parent keeps an unchanged asset's
validators (``cache.keep_unchanged``) and builds its header sets. A database only this process can see
(in-memory SQLite) renders in threads instead.
"""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import os
import signal
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from ..store.connect import open_engine, session_factory
from ..store.database import Database
from .cache import Asset
from .publish import Snapshot, StaticFiles, lazy_asset, publish
from .snapshot import load_page

# key -> (content type, digest, last modified, max age, body offset, body length, gzip offset, gzip length)
Manifest = dict[str, tuple[str, str, float, int, int, int, int, int]]
Token = tuple[int, int]  # (render process id, render number): names one Snapshot kept in that process
Shipped = tuple[str, Manifest, frozenset[int], Token, int]  # (file, manifest, probe ids, snapshot, components)
GONE = "gone"  # render_lazy: that snapshot is no longer kept here (render the page again)
KEEP_SNAPSHOTS = 3  # per page: the installed one, and the renders that may have finished after it

_databases: dict[str, Database] = {}  # in the child: one engine per URL, kept between renders
_snapshots: dict[str, dict[Token, Snapshot]] = {}  # in the child: slug -> its last few snapshots
_renders = itertools.count(1)


def shareable(url: str) -> bool:
    """A database another process can open: PostgreSQL, or SQLite in a file."""
    if url.startswith("postgresql"):
        return True
    if not url.startswith("sqlite"):
        return False  # no URL (a database object from elsewhere): threads
    path = url.split(":///", 1)[1] if ":///" in url else ""
    return bool(path) and not path.startswith(":memory:") and "mode=memory" not in url


RENDER_NICENESS = 10  # added to the render process's nice value: see render_pool


def render_pool() -> ProcessPoolExecutor:
    """One render process, at a lower CPU priority: when the machine has no core to spare, the kernel lets
    the event loop's process run first (a render is background work; the loop answers requests). Measured
    on a loaded 2-core machine: at the same priority the loop waited 15-40 ms at a time during a render."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload([__name__])
    return ProcessPoolExecutor(max_workers=1, mp_context=ctx, initializer=_background)


def _background() -> None:
    try:
        os.nice(RENDER_NICENESS)
    except OSError:  # not allowed here: render at the same priority
        pass
    gc.disable()  # collected between renders (see _quiet)
    # Ctrl-C reaches the whole foreground process group, this process too: stopping it is the server's
    # (see PageRenderer.stop). Left to Python, it died printing a KeyboardInterrupt traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


COLLECT_AFTER_S = 0.5  # the child's garbage collection runs this long after a render, not during one
_gc_lock = threading.Lock()
_collector: threading.Timer | None = None


@contextmanager
def _quiet() -> Iterator[None]:
    """A render with no garbage collection in it: the child's automatic GC is off, and a full collection
    runs once the render has been quiet for COLLECT_AFTER_S (a render waits for one already running).
    Measured on a 1,000-component page: collections triggered by the render's allocations added 60-200 ms
    to a 240 ms render (each one walks the kept snapshots too)."""
    global _collector
    with _gc_lock:
        if _collector is not None:
            _collector.cancel()
        enabled = gc.isenabled()
        gc.disable()
        try:
            yield
        finally:
            if enabled:
                gc.enable()
        _collector = threading.Timer(COLLECT_AFTER_S, _collect)
        _collector.daemon = True
        _collector.start()


def _collect() -> None:
    with _gc_lock:
        gc.collect()


def _database(url: str) -> Database:
    db = _databases.get(url)
    if db is None:
        engine = open_engine(url)
        db = _databases[url] = Database(url=url, engine=engine, sessions=session_factory(engine))
    return db


def ship_dir() -> str:
    """A private folder for rendered bodies: in memory (/dev/shm) where possible."""
    shm = Path("/dev/shm")
    base = str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None
    return tempfile.mkdtemp(prefix="callmeter-pages-", dir=base)


def render_page(url: str, slug: str, now: float, base_url: str, static: StaticFiles, folder: str) -> Shipped | None:
    """In the child: the eager assets of page ``slug`` (fresh validators) written to one file in ``folder``;
    the snapshot stays here for ``render_lazy``."""
    with _quiet():
        return _render_page(url, slug, now, base_url, static, folder)


def _render_page(url: str, slug: str, now: float, base_url: str, static: StaticFiles, folder: str) -> Shipped | None:
    db = _database(url)
    with db.session() as session:
        data = load_page(session, slug, now, later=db.session)  # older history: read if a lazy asset needs it
    if data is None:
        _snapshots.pop(slug, None)
        return None
    assets, snapshot = publish(data, base_url, static, now, None)
    token = (os.getpid(), next(_renders))
    kept = _snapshots.setdefault(slug, {})
    kept[token] = snapshot
    for old in list(kept)[:-KEEP_SNAPSHOTS]:
        del kept[old]
    for older in list(kept.values())[:-1]:
        older.drop_built()  # rebuilt if still asked for: memory goes to the newest snapshot's bodies
    path, manifest = _write(assets, folder)
    return path, manifest, frozenset(c.probe_id for c in data.components), token, snapshot.components


def render_lazy(slug: str, token: Token, key: str, folder: str) -> tuple[str, Manifest] | str | None:
    """In the child: asset ``key`` of the snapshot ``token`` of ``slug`` (see lazy), shipped like a page;
    None when there is no such asset, GONE when that snapshot is no longer kept."""
    snapshot = _snapshots.get(slug, {}).get(token)
    if snapshot is None:
        return GONE
    with _quiet():
        asset = lazy_asset(snapshot, key, None)
    return None if asset is None else _write({key: asset}, folder)


def _write(assets: dict[str, Asset], folder: str) -> tuple[str, Manifest]:
    fd, path = tempfile.mkstemp(prefix="page-", dir=folder)
    manifest: Manifest = {}
    offset = 0
    with os.fdopen(fd, "wb") as out:
        for key, a in assets.items():
            gz = a.gz or b""
            out.write(a.body)
            out.write(gz)
            manifest[key] = (
                a.content_type,
                a.digest,
                a.last_modified,
                a.max_age,
                offset,
                len(a.body),
                offset + len(a.body),
                len(gz),
            )
            offset += len(a.body) + len(gz)
    return path, manifest


def receive(path: str, manifest: Manifest) -> dict[str, Asset]:
    """In the parent (a worker thread): the assets back from the child's file, which is then removed."""
    fd = os.open(path, os.O_RDONLY)
    try:
        assets = {}
        for key, (ctype, digest, modified, max_age, at, n, gz_at, gz_n) in manifest.items():
            body = os.pread(fd, n, at)  # the copy happens without the GIL
            gz = os.pread(fd, gz_n, gz_at) if gz_n else None
            if len(body) != n or (gz is not None and len(gz) != gz_n):
                raise OSError(f"rendered page file {path} is short")
            assets[key] = Asset(body, gz, ctype, digest, modified, max_age)
    finally:
        os.close(fd)
        os.unlink(path)
    return assets
