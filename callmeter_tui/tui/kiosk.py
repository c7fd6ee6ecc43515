"""The app's wall-display (kiosk) behaviour and its command palette / help, kept out of app.py.

Mixins of CallMeterApp: they use its ``wall``, ``monitor``, ``kiosk`` and ``_keys`` attributes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual.app import SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from .keys import ACTIONS, kiosk_views


class KioskMixin:
    """Kiosk: page through the list, then cycle status pages or agents; flash UNHEALTHY; keys off."""

    wall: Any
    monitor: Any
    kiosk: bool
    screen: Any
    _kiosk_views: list[tuple[str, set[int] | None]]
    _kiosk_index: int
    apply_pending: Any
    push_screen: Any

    def _kiosk_subtitle(self, name: str) -> str:
        """Which view of the cycle and which page of the list the wall shows now."""
        page, pages = self.wall.probes.page_position()
        n = len(self._kiosk_views)
        view = f"{name} ({self._kiosk_index % n + 1}/{n})" if n > 1 else name
        return f"{view} · page {page}/{pages}" if pages > 1 else (view if n > 1 else "")

    async def _load_kiosk_views(self) -> None:
        """Kiosk cycles through status pages (by component probe names), else through agents."""
        try:
            pages = await self.monitor.list_status_pages()
        except Exception:
            pages = []
        cycle = kiosk_views(self.monitor.probe_views(), pages)
        self._kiosk_views = cycle

    def kiosk_cycle(self) -> None:
        """Page down through the list; after the last page, go to the next status page or agent."""
        plist = self.wall.probes
        if not plist.page_forward():
            self._kiosk_index = (self._kiosk_index + 1) % len(self._kiosk_views)
            plist.set_filter(self._kiosk_views[self._kiosk_index][1])
        self.apply_pending()  # the banner's "page i/n" follows at once

    def flash_alert(self, probe_name: str, at: float) -> None:
        from .screens import AlertFlash

        if isinstance(self.screen, AlertFlash):
            self.screen.add(probe_name)
        else:
            self.push_screen(AlertFlash(probe_name))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.kiosk:
            return action == "quit"  # ctrl+q only: no key changes anything on a wall display
        return True


class PaletteMixin:
    """Help screen (remaps applied) and the command palette's entries."""

    monitor: Any
    kiosk: bool
    _keys: dict[str, str]
    push_screen: Any

    def action_help(self) -> None:
        from .detail import ProbeDetailScreen
        from .screens import HelpScreen

        detail = [
            (b.key, b.description, "probe details screen") for b in ProbeDetailScreen.BINDINGS if isinstance(b, Binding)
        ]
        self.push_screen(HelpScreen(self.key_table() + detail))

    def key_table(self) -> list[tuple[str, str, str]]:
        """(keys, title, help) as currently bound, remaps applied."""
        return [(self._keys.get(a.id, a.key), a.title, a.help) for a in ACTIONS]

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)  # type: ignore[misc]
        if self.kiosk:
            return
        for a in ACTIONS:
            if a.id in ("quit_app", "theme"):
                continue
            yield SystemCommand(a.title, a.help, getattr(self, f"action_{a.action}"))
        yield SystemCommand("Add status page", "Create a status page", self._add_page)
        from .detail import ProbeDetailScreen

        if isinstance(screen, ProbeDetailScreen):  # the drill-down's own actions, by name
            for b in ProbeDetailScreen.BINDINGS:
                if isinstance(b, Binding) and b.action.isidentifier():
                    yield SystemCommand(
                        f"Probe: {b.description}", f"key {b.key}", getattr(screen, f"action_{b.action}")
                    )

    def _add_page(self) -> None:
        from .pages import PageForm

        self.push_screen(PageForm(self.monitor, None))
