"""The drill-down's Trace tab: one execution's SIP call flow as a ladder; Enter opens the raw message.

The ladder is the domain's (``callmeter-tui trace`` prints the same lines); this module only lays it out.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from ..domain.isotime import iso_millis
from ..domain.ladder import arrow_line, arrows, ladder_lines, message_detail, parties, why_no_messages
from ..engine.api import TraceView
from .plain import plain


class MessageScreen(ModalScreen[None]):
    """One SIP message, whole (as sent or received, secrets redacted)."""

    BINDINGS = [Binding("escape,enter,q", "app.pop_screen", "Close")]

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="sip-message"):
            yield Static(plain(self.text))


class TracePane(Vertical):
    """Heading, the arrows (one row each), and what follows them (cut note, why the run failed)."""

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.view: TraceView | None = None

    def compose(self) -> ComposeResult:
        yield Static("Loading…", id="trace-head")
        yield DataTable(id="trace-ladder", cursor_type="row", show_header=False, zebra_stripes=False)
        yield Static("", id="trace-foot")

    def on_mount(self) -> None:
        self.query_one("#trace-ladder", DataTable).add_column("ladder")

    def show(self, view: TraceView | None) -> None:
        self.view = view
        table = self.query_one("#trace-ladder", DataTable)
        table.clear()
        head, foot = self.query_one("#trace-head", Static), self.query_one("#trace-foot", Static)
        if view is None:
            head.update("No executions yet.")
            foot.update("")
            return
        outcome = "OK" if view.ok else "FAILED"
        title = f"Execution {view.execution_id} · {iso_millis(view.started_at)} · {outcome}  (Enter: raw message)"
        if not view.trace.messages:
            head.update(plain(f"{title}\n\n{ladder_lines(view.trace, why_no_messages(view.error))[0]}"))
            foot.update("")
            return
        cols = parties(view.trace)
        head.update(plain(title + "\n" + ladder_lines(view.trace)[0]))
        for a in arrows(view.trace):
            table.add_row(plain(arrow_line(a, len(cols))), key=str(a.index))
        tail = [f"({view.trace.note})"] if view.trace.note else []
        tail += [f"run failed: {view.error}"] if view.error else []
        foot.update(plain("\n".join(tail)))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id != "trace-ladder" or self.view is None:
            return
        event.stop()
        msgs = self.view.trace.messages
        index = int(event.row_key.value or 0)
        self.app.push_screen(MessageScreen(message_detail(msgs[index], msgs[0].at_us)))
