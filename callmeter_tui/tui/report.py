"""The dashboard's SLA report: pick a page, a month and a format; the file is written by the composition
root's report writer (the same code as ``callmeter-tui report``) and its path is shown in a toast.

The writer is handed in (``ReportWriter``) because the report's HTML/PDF rendering lives in layers the
dashboard does not import; it runs in a worker thread, never on the UI loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from ..domain.sla import parse_month, recent_months
from .plain import notify_plain, plain

ReportWriter = Callable[[str, str, str], Path]  # (slug, "YYYY-MM", format) -> the written file
FORMATS = ("html", "pdf", "csv", "json", "text")

Choice = tuple[str, str, str]


class ReportScreen(ModalScreen[Choice | None]):
    """Page, month (last month by default) and format; Enter or "Write" returns them."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, pages: list[tuple[str, str]], now: float) -> None:
        super().__init__()
        self.pages = pages  # (slug, name)
        self.default_month = recent_months(now, "UTC", 2)[0]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(plain("SLA report"), classes="form-title")
            yield Label("Status page")
            yield Select(
                [(plain(f"{name} ({slug})"), slug) for slug, name in self.pages],
                value=self.pages[0][0],
                allow_blank=False,
                id="report-page",
            )
            yield Label("Month (YYYY-MM, in the page's time zone)")
            yield Input(self.default_month, id="report-month")
            yield Label("Format")
            yield Select([(f, f) for f in FORMATS], value="html", allow_blank=False, id="report-format")
            yield Label("", id="report-error")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Write", id="write", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#report-month", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "write":
            self._submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _submit(self) -> None:
        month = self.query_one("#report-month", Input).value.strip()
        try:
            parse_month(month)
        except ValueError as exc:
            self.query_one("#report-error", Label).update(plain(f"month: {exc}"))
            return
        page = str(self.query_one("#report-page", Select).value)
        fmt = str(self.query_one("#report-format", Select).value)
        self.dismiss((page, month, fmt))


async def write_in_thread(widget: object, writer: ReportWriter, choice: Choice) -> Path | None:
    """Run the writer off the UI loop; a toast with the path, or the one-line reason it failed."""
    try:
        path = await asyncio.to_thread(writer, *choice)
    except Exception as exc:  # bad month for that page, no Chromium, unwritable folder: one line
        notify_plain(widget, f"SLA report not written: {exc}", severity="error", timeout=15)
        return None
    notify_plain(widget, f"SLA report written: {path}", timeout=15)
    return path
