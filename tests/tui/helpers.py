"""Reading what the app shows, as plain text lines (what a person sees, minus colour)."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.app import App
from textual.pilot import Pilot

FLASH_S = 1.5
"""A kiosk flash short enough to watch go away, long enough for a poll on a loaded host to see it."""


def screen_text(app: App) -> str:
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(seg.text for seg in strip).rstrip() for strip in strips)


def card_block(app: App, name: str) -> list[str]:
    """The lines of the probe card showing ``name`` as a person sees them (the list's card shape)."""
    plist = app.wall.probes  # type: ignore[attr-defined]
    shape, box = plist.shape, plist.region
    assert shape.cards, "the wall draws rows, not cards"
    lines = [line[box.x : box.right].ljust(box.width) for line in screen_text(app).splitlines()[box.y : box.bottom]]
    for i, line in enumerate(lines):
        at = line.find(f" {name}")
        if at >= 1 and line[at - 1] in "●▲✖?‖":
            x = at - 1
            return [row[x : x + shape.card_w].rstrip() for row in lines[i : i + shape.card_h]]
    raise AssertionError(f"no card for {name!r} on screen:\n" + "\n".join(lines))


async def until(pilot: Pilot[object], condition: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    """Pause until ``condition()`` holds, then once more so what it caused is drawn; False at the deadline.

    Polls instead of one fixed pause: on a loaded 2-core host a ``pause(0.2)`` can last longer than a
    short-lived screen (a 0.5 s kiosk flash was gone before the test looked)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        await pilot.pause(0.02)
    await pilot.pause(0.05)
    return True
