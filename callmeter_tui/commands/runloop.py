"""The event loop the long-running commands use: uvloop on Linux where it is installed, asyncio's own elsewhere.

Why: the public status page answers from memory, so its rate is bounded by the loop's own per-request cost;
uvloop serves the same handler about a fifth faster than the default selector loop (bench/bench_web.py).
Everything else (subprocess workers, signals, aiohttp, APScheduler) runs unchanged on either loop.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop constructor on Linux when it imports, else None (asyncio's default)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` on the loop ``loop_factory`` picks."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)
