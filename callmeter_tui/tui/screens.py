"""Small modal screens: confirmation, one-time secret, kiosk alert flash, key help."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from .plain import plain


class ConfirmScreen(ModalScreen[bool]):
    """Yes/No; defaults to No so a stray Enter never deletes."""

    BINDINGS = [Binding("escape,n", "answer(False)", "No"), Binding("y", "answer(True)", "Yes")]

    def __init__(self, question: str, yes: str = "Delete") -> None:
        super().__init__()
        self.question = question
        self.yes = yes

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(plain(self.question), id="question")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="no", variant="primary")
                yield Button(self.yes, id="yes", variant="error")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


def ask(app: Any, question: str, then: Callable[[], object], yes: str = "Delete") -> None:
    """Push a ConfirmScreen for ``question``; ``then()`` runs only on Yes."""

    def done(ok: bool | None) -> None:
        if ok:
            then()

    app.push_screen(ConfirmScreen(question, yes=yes), done)


class SecretScreen(ModalScreen[None]):
    """Shows a new webhook secret once, with a copy action; it is not retrievable afterwards."""

    BINDINGS = [Binding("c", "copy", "Copy"), Binding("escape", "close", "Close")]

    def __init__(self, title: str, secret: str) -> None:
        super().__init__()
        self.title_text = title
        self.secret = secret

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(plain(self.title_text))
            yield Static(plain(self.secret), id="secret")
            yield Static("Store it now: it is shown only once (receivers verify X-CallMeter-Signature with it).")
            with Horizontal(classes="buttons"):
                yield Button("Copy", id="copy", variant="primary")
                yield Button("Close", id="close")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "copy":
            self.action_copy()
        else:
            self.dismiss(None)

    def action_copy(self) -> None:
        """OSC 52 asks the terminal to copy; many terminals (and tmux without set-clipboard) ignore it
        and nothing tells us, so the toast says what was done and the secret stays on screen."""
        self.app.copy_to_clipboard(self.secret)
        self.notify(
            "Asked the terminal to copy the secret (OSC 52). Not every terminal allows it: "
            "if pasting gives nothing, select the secret above and copy it by hand.",
            timeout=8,
        )

    def action_close(self) -> None:
        self.dismiss(None)


class AlertFlash(ModalScreen[None]):
    """Kiosk: full-screen red flash when a probe turns UNHEALTHY; goes away by itself."""

    def __init__(self, probe_name: str, seconds: float = 6.0) -> None:
        super().__init__()
        self.names = [probe_name]
        self.seconds = seconds

    def compose(self) -> ComposeResult:
        yield Static(self._text(), id="alert")

    def _text(self) -> Text:
        names = ", ".join(self.names[:5]) + (f" and {len(self.names) - 5} more" if len(self.names) > 5 else "")
        return plain(f"✖  UNHEALTHY  ✖\n\n{names}")

    def add(self, probe_name: str) -> None:
        if probe_name not in self.names:
            self.names.append(probe_name)
        for alert in self.query("#alert").results(Static):  # none yet when pushed this tick: compose reads names
            alert.update(self._text())

    def on_mount(self) -> None:
        self.set_timer(self.seconds, self._go)

    def _go(self) -> None:
        """Not a lambda: a timer awaits what its callback returns, and awaiting ``dismiss`` from the
        screen's own handler raises ScreenError (the kiosk died at its first flash)."""
        self.dismiss(None)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "close", "Close")]

    def __init__(self, keys: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        table = Table(title=Text('Keys (remap with [dashboard].keys in the config: action id = "key")'), expand=True)
        table.add_column("Key", style="bold")
        table.add_column("Action")
        table.add_column("What it does")
        for key, title, help_text in self.keys:
            table.add_row(plain(key), title, help_text)  # keys may come from the config file
        table.add_row("ctrl+p", "Command palette", "Every action by name")
        table.add_row("ctrl+q", "Quit", "Also the only key that works in --kiosk")
        with VerticalScroll():
            yield Static(table)
            yield Label("Esc closes this help.")

    def action_close(self) -> None:
        self.dismiss(None)
