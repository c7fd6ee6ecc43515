"""The drill-down's commands (a mixin of ProbeDetailScreen, kept apart so detail.py stays about what it shows):
run now, pause, edit, delete, open an incident, and the webhook actions (add, test event, enable/disable,
redeliver, delete, rotate the secret). Each asks the app or the monitor, then reloads the screen.

The chart window keys stay in detail.py: they change what is shown, not the probe.
"""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable

from ..domain.health import HealthState
from ..engine.api import MonitorAPI, ProbeDetail
from .plain import notify_plain


class DetailActions:
    """Needs the screen's ``monitor``, ``probe_id``, ``detail``, ``reload`` and ``selected_webhook``/``_delivery``."""

    monitor: MonitorAPI
    probe_id: int
    detail: ProbeDetail | None
    app: Any
    reload: Any
    selected_webhook: Any
    selected_delivery: Any
    query_one: Any
    run_worker: Any
    set_timer: Any
    notify: Any

    def action_run_now(self) -> None:
        self.app.action_run_now(self.probe_id)

    def action_pause(self) -> None:
        self.app.action_toggle_pause(self.probe_id)
        self.set_timer(0.5, self.reload)

    def action_edit(self) -> None:
        self.app.action_edit_probe(self.probe_id)

    def action_delete(self) -> None:
        self.app.action_delete_probe(self.probe_id)

    def action_open_incident(self) -> None:
        """ "Open incident for this component": prefilled, adopting the selected (else the ongoing) automatic
        incident; an operator incident already about it gets an update instead."""
        d = self.detail
        if d is None or not hasattr(self.app, "open_incident_for_probe"):
            return
        auto = self._chosen_incident(d)
        state = HealthState.parse(auto.worst if auto is not None else d.view.state)
        start = auto.started_at if auto is not None else None
        self.run_worker(self.app.open_incident_for_probe(self.probe_id, d.view.name, state.label, start))

    def _chosen_incident(self, d: ProbeDetail) -> Any:
        table = self.query_one("#incidents", DataTable)
        if d.incidents and table.has_focus and 0 <= table.cursor_row < len(d.incidents):
            return d.incidents[table.cursor_row]
        newest = d.incidents[0] if d.incidents else None
        return newest if newest is not None and newest.ended_at is None else None

    def action_add_webhook(self) -> None:
        from .forms import WebhookForm

        self.app.push_screen(WebhookForm(self.monitor, self.probe_id), lambda _: self.reload())

    async def _do(self, coro: Any, done: str) -> None:
        try:
            result = await coro
        except Exception as e:
            notify_plain(self, f"Failed: {e}", severity="error")
            return
        notify_plain(self, done.format(result=result), timeout=4)
        self.reload()

    def action_test_event(self) -> None:
        hook = self.selected_webhook
        if hook is None:
            self.notify("No webhook: press 'a' to add one", severity="warning")
            return
        self.run_worker(self._do(self.monitor.send_test_event(hook.id), "Test event queued (delivery {result})"))

    def action_toggle_webhook(self) -> None:
        hook = self.selected_webhook
        if hook is not None:
            word = "Disabled" if hook.enabled else "Re-enabled"
            self.run_worker(
                self._do(self.monitor.set_webhook_enabled(hook.id, not hook.enabled), f"{word} webhook {hook.id}")
            )

    def action_redeliver(self) -> None:
        dv = self.selected_delivery
        if dv is None:
            self.notify("No delivery selected", severity="warning")
            return
        self.run_worker(self._do(self.monitor.redeliver(dv.id), f"Redelivery of {dv.id} queued (delivery {{result}})"))

    def action_delete_webhook(self) -> None:
        from .screens import ask

        hook = self.selected_webhook
        if hook is None:
            return

        def delete() -> None:  # the coroutines are made only on Yes
            self.run_worker(self._do(self.monitor.delete_webhook(hook.id), f"Deleted webhook {hook.id}"))

        ask(self.app, f"Delete webhook {hook.id} ({hook.url})?", delete)

    def action_rotate(self) -> None:
        """Asks first: the old secret stops working at once and every receiver must be updated."""
        from .screens import ask

        hook = self.selected_webhook
        if hook is None:
            return
        question = f"Rotate the secret of webhook {hook.id} ({hook.url})? The old secret stops working now."
        ask(self.app, question, lambda: self.run_worker(self._rotate(hook.id)), yes="Rotate")

    async def _rotate(self, webhook_id: int) -> None:
        from .screens import SecretScreen

        try:
            secret = await self.monitor.rotate_webhook_secret(webhook_id)
        except Exception as e:
            notify_plain(self, f"Failed: {e}", severity="error")
            return
        self.app.push_screen(SecretScreen(f"New secret for webhook {webhook_id}", secret))
        self.reload()
