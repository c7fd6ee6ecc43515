"""Reading what the app shows, as plain text lines (what a person sees, minus colour)."""

from __future__ import annotations

from textual.app import App


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
