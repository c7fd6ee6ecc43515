"""Text that comes from an operator, the database or a SIP peer is shown as-is, never parsed as markup.

Textual parses ``str`` given to Label, Static, DataTable cells, toggle labels and toasts as markup, so
a probe named ``SBC [primary]`` lost its bracket and ``Ops [/x]`` crashed the app. Every such piece of
text goes through ``plain`` (a ``rich.text.Text``, which is never parsed) or ``notify_plain``.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text


def plain(text: object, style: str = "") -> Text:
    """``text`` rendered literally (brackets and all)."""
    return Text(str(text), style=style)


def notify_plain(widget: Any, message: str, **kw: Any) -> None:
    """A toast whose text is shown literally (probe names, peer errors)."""
    widget.notify(message, markup=False, **kw)
