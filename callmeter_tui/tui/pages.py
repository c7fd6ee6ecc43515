"""Status pages: list, create/edit (components picked from probes, named and ordered), delete."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Checkbox, DataTable, Footer, Input, Label, Static

from ..config.validate import validate_page_fields
from ..domain.defaults import ACCENT_COLOR
from ..engine.api import MonitorAPI, StatusPageView
from .forms import FormScreen, dom_id
from .plain import notify_plain, plain
from .tables import refill


class PagesScreen(Screen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("a", "add", "New page"),
        Binding("e,enter", "edit", "Edit"),
        Binding("x", "delete", "Delete"),
    ]

    def __init__(self, monitor: MonitorAPI) -> None:
        super().__init__()
        self.monitor = monitor
        self.pages: list[StatusPageView] = []

    def compose(self) -> ComposeResult:
        yield Static("Status pages", classes="form-title")
        yield DataTable(id="pages", cursor_type="row")
        yield Label("", id="pages-empty")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("Slug", "Name", "Components", "Accent", "Source")
        self.reload()

    def reload(self) -> None:
        self.run_worker(self._load(), exclusive=True, exit_on_error=False)

    async def _load(self) -> None:
        try:
            self.pages = await self.monitor.list_status_pages()
        except Exception as e:
            notify_plain(self, f"Could not list status pages: {e}", severity="error")
            return
        table = self.query_one(DataTable)
        rows = [
            (
                str(p.id),
                (
                    plain(p.spec.slug),
                    plain(p.spec.name),
                    str(len(p.spec.components)),
                    plain(p.spec.accent_color),
                    "config file" if p.source == "config" else p.source,
                ),
            )
            for p in self.pages
        ]
        refill(table, rows)
        self.query_one("#pages-empty", Label).update("" if self.pages else "No status pages yet: press 'a'.")
        table.focus()

    @property
    def selected(self) -> StatusPageView | None:
        if not self.pages:
            return None
        return self.pages[max(0, min(self.query_one(DataTable).cursor_row, len(self.pages) - 1))]

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a row: the table takes the key before the screen's binding sees it."""
        event.stop()
        self.action_edit()

    def action_add(self) -> None:
        self.app.push_screen(PageForm(self.monitor, None), lambda _: self.reload())

    def action_edit(self) -> None:
        if self.selected:
            self.app.push_screen(PageForm(self.monitor, self.selected), lambda _: self.reload())

    def action_delete(self) -> None:
        from .screens import ask

        page = self.selected
        if page is None:
            return
        question = f"Delete status page {page.spec.slug!r}? Its public URL stops working."
        ask(self.app, question, lambda: self.run_worker(self._delete(page.id), exit_on_error=False))

    async def _delete(self, page_id: int) -> None:
        try:
            await self.monitor.delete_status_page(page_id)
        except Exception as e:
            notify_plain(self, f"Failed: {e}", severity="error")
        self.reload()


class PageForm(FormScreen):
    """Components: tick probes, give each a customer-facing name and an order number."""

    def __init__(self, monitor: MonitorAPI, page: StatusPageView | None) -> None:
        super().__init__()
        self.monitor = monitor
        self.page = page
        self.probes = sorted(monitor.probe_views(), key=lambda v: (v.group, v.position, v.name))

    def compose(self) -> ComposeResult:
        spec = self.page.spec if self.page else None
        yield Static(
            plain("New status page" if spec is None else f"Edit status page: {spec.slug}"), classes="form-title"
        )
        if self.page is not None and self.page.source == "config":
            yield Label("This page comes from the config file: edit the file to keep changes.", classes="form-note")
        yield Label("", id="form-error")
        chosen = {c.probe: (i, c.name) for i, c in enumerate(spec.components)} if spec else {}
        with VerticalScroll(id="form-body"):
            yield from self.field_row("name", "Name", spec.name if spec else "", "VoIP Infrastructure Status")
            yield from self.field_row("slug", "Slug (URL)", spec.slug if spec else "", "voip")
            yield from self.field_row("description", "Description", spec.description if spec else "")
            yield from self.field_row("accent_color", "Accent colour", spec.accent_color if spec else ACCENT_COLOR)
            yield from self.field_row("logo", "Logo file", (spec.logo or "") if spec else "", "/path/logo.png")
            yield from self.field_row("timezone", "Time zone", spec.timezone if spec else "UTC")
            yield Label("Components: tick probes; customer-facing name; order (1, 2, …)", classes="chart-label")
            yield Label("", id="err-components", classes="field-error")
            for i, v in enumerate(self.probes):
                order, cname = chosen.get(v.name, (None, ""))
                with Horizontal(classes="form-row"):
                    yield Checkbox(plain(v.name), order is not None, id=f"c-on-{i}", compact=True)
                    yield Input(cname if cname != v.name else "", placeholder=v.name, id=f"c-name-{i}", compact=True)
                    yield Input(
                        "" if order is None else str(order + 1),
                        placeholder="order",
                        id=f"c-order-{i}",
                        classes="order",
                        compact=True,
                    )
            yield from self.buttons()
        yield Footer()

    def on_mount(self) -> None:
        for inp in self.query("Input.order"):
            inp.styles.width = 10
        self.query_one("#f-name", Input).focus()

    def components(self) -> tuple[list[tuple[str, str]], dict[str, str]]:
        picked: list[tuple[float, int, str, str]] = []
        errors: dict[str, str] = {}
        for i, v in enumerate(self.probes):
            if not self.query_one(f"#c-on-{i}", Checkbox).value:
                continue
            order_text = self.query_one(f"#c-order-{i}", Input).value.strip()
            try:
                order = float(order_text) if order_text else float(len(self.probes) + i)
            except ValueError:
                errors["components"] = f"order of {v.name!r} must be a number, got {order_text!r}"
                order = 0.0
            picked.append((order, i, v.name, self.query_one(f"#c-name-{i}", Input).value.strip()))
        picked.sort()
        return [(name, cname) for _o, _i, name, cname in picked], errors

    def fields(self) -> dict[str, Any]:
        return {k: self.value(k) for k in ("name", "slug", "description", "accent_color", "logo", "timezone")}

    def action_save(self) -> None:
        self.clear_errors()
        comps, comp_errors = self.components()
        spec, errors = validate_page_fields(self.fields(), comps, {v.name for v in self.probes})
        errors = {("components" if k.startswith("components") else k): m for k, m in errors.items()} | comp_errors
        if errors or spec is None:
            self.show_errors(errors or {"form": "the form is not valid"})
            return
        if self.page is not None:  # keep settings the form does not edit
            from dataclasses import replace

            spec = replace(spec, bar_days=self.page.spec.bar_days, refresh_s=self.page.spec.refresh_s)
        self.run_worker(self._save(spec), exclusive=True, exit_on_error=False)

    async def _save(self, spec: Any) -> None:
        try:
            slugs = {
                p.spec.slug for p in await self.monitor.list_status_pages() if self.page is None or p.id != self.page.id
            }
            if spec.slug in slugs:
                self.show_errors({"slug": f"duplicate slug {spec.slug!r}"})
                return
            await self.monitor.save_status_page(spec, self.page.id if self.page else None)
        except Exception as e:
            self.form_error(f"Not saved: {e}")
            return
        notify_plain(self, f"Saved status page {spec.slug}", timeout=3)
        self.dismiss(True)


__all__ = ["PageForm", "PagesScreen", "dom_id"]
