"""Probe and webhook forms. Validation is the config file's (config.validate): errors appear next to
their field and nothing is sent to the engine until the whole form is valid."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Checkbox, Footer, Input, Label, Select, Static

from ..config.validate import CODECS, validate_probe_fields, validate_webhook_fields
from ..domain.defaults import CALL_DURATION_S, PROBE_INTERVAL_S, PROBE_TIMEOUT_S
from ..domain.durations import format_duration
from ..domain.metric_catalog import METRICS
from ..domain.probe import ProbeKind, ProbeSpec, WebhookFormat
from ..engine.api import MonitorAPI, ProbeView
from .plain import notify_plain, plain


def _secs(seconds: float) -> str:
    """A default as the forms show it: "60s", not "1m"."""
    return f"{seconds:g}s"


def dom_id(key: str) -> str:
    """Field key ('thresholds.mos.warning') -> widget id suffix."""
    return key.replace(".", "--").replace("[", "_").replace("]", "_")


class FormScreen(Screen):
    """Shared behaviour: labelled inputs with an error line under each, one form-level error."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "save", "Save")]

    def field_row(self, key: str, label: str, value: str = "", placeholder: str = "") -> ComposeResult:
        with Horizontal(classes="form-row"):
            yield Label(label, classes="form-label")
            yield Input(value, placeholder=placeholder, id=f"f-{dom_id(key)}", compact=True)
        yield Label("", id=f"err-{dom_id(key)}", classes="field-error")

    def value(self, key: str) -> str:
        return self.query_one(f"#f-{dom_id(key)}", Input).value

    def clear_errors(self) -> None:
        for lab in self.query(".field-error"):
            lab.remove_class("shown")
            lab.update("")  # type: ignore[attr-defined]
        self.query_one("#form-error", Label).remove_class("shown")

    def show_errors(self, errors: dict[str, str]) -> None:
        """Each error goes under its field (or the nearest parent key's); the rest at the top."""
        leftovers = []
        per_target: dict[str, tuple[Any, list[str]]] = {}
        for key, msg in errors.items():
            probe = key
            while probe:
                found = self.query(f"#err-{dom_id(probe)}")
                if found:
                    target = found.first()
                    per_target.setdefault(str(target.id), (target, []))[1].append(msg)
                    break
                probe = probe.rpartition(".")[0]
            else:
                leftovers.append(f"{key}: {msg}" if key != "form" else msg)
        for target, msgs in per_target.values():
            target.update(plain("✖ " + "; ".join(msgs)))
            target.add_class("shown")
        if leftovers:
            self.form_error("\n".join(leftovers))

    def form_error(self, text: str) -> None:
        lab = self.query_one("#form-error", Label)
        lab.update(plain(f"✖ {text}"))
        lab.add_class("shown")

    def buttons(self) -> ComposeResult:
        with Horizontal(classes="buttons"):
            yield Button("Cancel", id="cancel")
            yield Button("Save", id="save", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        elif event.button.id == "cancel":
            self.action_cancel()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_save(self) -> None:
        raise NotImplementedError


def _num(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


class ProbeForm(FormScreen):
    """Create (view None) or edit a probe."""

    def __init__(self, monitor: MonitorAPI, view: ProbeView | None) -> None:
        super().__init__()
        self.monitor = monitor
        self.view = view
        self.saving = False

    def _initial(self) -> tuple[ProbeSpec | None, dict[str, str]]:
        v = self.view
        if v is None:
            return None, {
                "interval": _secs(PROBE_INTERVAL_S),
                "timeout": _secs(PROBE_TIMEOUT_S),
                "agent": "local",
                "confirm": "1",
            }
        spec = v.spec
        vals = {
            "name": v.name,
            "target": v.target,
            "interval": format_duration(v.interval_s),
            "agent": v.agent,
            "group": v.group,
            "timeout": "10s",
            "confirm": "1",
        }
        if spec is not None:
            vals.update(
                timeout=format_duration(spec.timeout_s),
                confirm=str(spec.confirm),
                username=spec.username or "",
                password_env=spec.password_env or "",
                expect_codes=", ".join(map(str, spec.expect_codes)),
                codec=spec.codec,
                call_duration=format_duration(spec.call_duration_s),
            )
        for metric, th in v.thresholds.items():
            vals[f"thresholds.{metric}.warning"] = _num(th.get("warning"))
            vals[f"thresholds.{metric}.critical"] = _num(th.get("critical"))
        return spec, vals

    def compose(self) -> ComposeResult:
        _spec, vals = self._initial()
        v = self.view
        title = "New probe" if v is None else f"Edit probe: {v.name}"
        yield Static(plain(title), classes="form-title")
        if v is not None and v.source == "config":
            yield Label(
                "This probe comes from the config file: changes here last until the file is reloaded; "
                "edit the file to keep them.",
                classes="form-note",
            )
        yield Label("", id="form-error")
        with VerticalScroll(id="form-body"):
            yield from self.field_row("name", "Name", vals.get("name", ""), "Primary SIP Trunk (US East)")
            with Horizontal(classes="form-row"):
                yield Label("Kind", classes="form-label")
                kinds = [(k.value, k.value) for k in ProbeKind]
                yield Select(
                    kinds,
                    value=v.kind if v else ProbeKind.SIP_OPTIONS.value,
                    allow_blank=False,
                    id="f-kind",
                    compact=True,
                )
            yield Label("", id="err-kind", classes="field-error")
            yield from self.field_row("target", "Target (SIP URI)", vals.get("target", ""), "sip:pbx.example.com:5060")
            yield from self.field_row("interval", "Interval", vals.get("interval", ""), _secs(PROBE_INTERVAL_S))
            yield from self.field_row("timeout", "Timeout", vals.get("timeout", ""), _secs(PROBE_TIMEOUT_S))
            yield from self.field_row("agent", "Agent", vals.get("agent", ""), "local")
            yield from self.field_row("group", "Group", vals.get("group", ""), "(dashboard grouping)")
            yield from self.field_row("confirm", "Confirm after N runs", vals.get("confirm", ""), "1")
            with Horizontal(classes="form-row"):
                yield Label("Enabled", classes="form-label")
                yield Checkbox("probe runs on its schedule", v.enabled if v else True, id="f-enabled", compact=True)
            yield Label("Authentication (the password is read from an environment variable)", classes="chart-label")
            yield from self.field_row("auth.username", "Username", vals.get("username", ""))
            yield from self.field_row(
                "auth.password_env", "Password env var", vals.get("password_env", ""), "PBX_PASSWORD"
            )
            yield Label("", id="err-auth", classes="field-error")
            yield Label("sip_options / sip_call settings", classes="chart-label")
            yield from self.field_row(
                "expect_codes", "Expected codes", vals.get("expect_codes", ""), "200, 404 (empty: any 2xx)"
            )
            with Horizontal(classes="form-row"):
                yield Label("Codec", classes="form-label")
                yield Select(
                    [(c, c) for c in CODECS],
                    value=vals.get("codec", "PCMU"),
                    allow_blank=False,
                    id="f-codec",
                    compact=True,
                )
            yield Label("", id="err-codec", classes="field-error")
            yield from self.field_row(
                "call_duration",
                "Call duration",
                vals.get("call_duration", _secs(CALL_DURATION_S)),
                _secs(CALL_DURATION_S),
            )
            yield Label("Thresholds (warning / critical; empty = not checked)", classes="chart-label")
            yield Label("", id="err-thresholds", classes="field-error")
            for name, metric in METRICS.items():
                unit = f" ({metric.unit})" if metric.unit else ""
                with Horizontal(classes="form-row"):
                    yield Label(f"{metric.label}{unit}", classes="form-label")
                    yield Input(
                        vals.get(f"thresholds.{name}.warning", ""),
                        placeholder="warning",
                        id=f"f-{dom_id(f'thresholds.{name}.warning')}",
                        compact=True,
                    )
                    yield Input(
                        vals.get(f"thresholds.{name}.critical", ""),
                        placeholder="critical",
                        id=f"f-{dom_id(f'thresholds.{name}.critical')}",
                        compact=True,
                    )
                yield Label("", id=f"err-{dom_id(f'thresholds.{name}')}", classes="field-error")
                yield Label("", id=f"err-{dom_id(f'thresholds.{name}.warning')}", classes="field-error")
                yield Label("", id=f"err-{dom_id(f'thresholds.{name}.critical')}", classes="field-error")
            yield from self.buttons()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#f-name", Input).focus()

    def fields(self) -> dict[str, Any]:
        """The form as flat config keys, exactly what config.validate reads."""
        out: dict[str, Any] = {
            k: self.value(k)
            for k in (
                "name",
                "target",
                "interval",
                "timeout",
                "agent",
                "group",
                "confirm",
                "auth.username",
                "auth.password_env",
                "expect_codes",
                "call_duration",
            )
        }
        out["kind"] = str(self.query_one("#f-kind", Select).value)
        out["codec"] = str(self.query_one("#f-codec", Select).value)
        out["enabled"] = self.query_one("#f-enabled", Checkbox).value
        for name in METRICS:
            for level in ("warning", "critical"):
                out[f"thresholds.{name}.{level}"] = self.value(f"thresholds.{name}.{level}")
        return out

    def validate(self) -> tuple[ProbeSpec | None, dict[str, str]]:
        spec, errors = validate_probe_fields(self.fields())
        name = self.value("name").strip()
        others = {v.name for v in self.monitor.probe_views() if self.view is None or v.id != self.view.id}
        if name in others:
            errors.setdefault("name", f"duplicate probe name {name!r}")
            spec = None
        return spec, errors

    def action_save(self) -> None:
        if self.saving:
            return
        self.clear_errors()
        spec, errors = self.validate()
        if errors or spec is None:
            self.show_errors(errors or {"form": "the form is not valid"})
            return
        old = self.view.spec if self.view is not None else None
        if old is not None:  # keep what the form does not edit (webhooks, audio, proxy)
            spec = replace(
                spec,
                webhooks=old.webhooks,
                outbound_proxy=old.outbound_proxy,
                audio_file=old.audio_file,
                asr_window=old.asr_window,
                source=old.source,
            )
        elif self.view is not None:
            spec = replace(spec, source=self.view.source)
        else:
            spec = replace(spec, source="interactive")
        self.saving = True
        self.run_worker(self._save(spec), exclusive=True, exit_on_error=False)

    async def _save(self, spec: ProbeSpec) -> None:
        try:
            if self.view is None:
                await self.monitor.add_probe(spec)
            else:
                await self.monitor.update_probe(self.view.id, spec)
        except Exception as e:
            self.saving = False
            self.form_error(f"Not saved: {e}")
            return
        notify_plain(self, f"Saved probe {spec.name}", timeout=3)
        self.dismiss(True)


class WebhookForm(FormScreen):
    """Add a webhook to a probe; the new secret is shown once afterwards."""

    def __init__(self, monitor: MonitorAPI, probe_id: int) -> None:
        super().__init__()
        self.monitor = monitor
        self.probe_id = probe_id

    def compose(self) -> ComposeResult:
        yield Static("New webhook", classes="form-title")
        yield Label("", id="form-error")
        with Vertical(id="form-body"):
            yield from self.field_row("url", "URL (https only)", "", "https://hooks.example.com/callmeter")
            with Horizontal(classes="form-row"):
                yield Label("Format", classes="form-label")
                yield Select(
                    [(f.value, f.value) for f in WebhookFormat],
                    value="generic",
                    allow_blank=False,
                    id="f-format",
                    compact=True,
                )
            yield Label("", id="err-format", classes="field-error")
            yield from self.field_row("routing_key_env", "Routing key env (pagerduty)", "", "PD_ROUTING_KEY")
            yield from self.buttons()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#f-url", Input).focus()

    def action_save(self) -> None:
        self.clear_errors()
        url = self.value("url").strip()
        fmt = str(self.query_one("#f-format", Select).value)
        routing_key_env = self.value("routing_key_env").strip() or None
        spec, errors = validate_webhook_fields({"url": url, "format": fmt, "routing_key_env": routing_key_env or ""})
        if spec is None:
            self.show_errors(errors)
            return
        self.run_worker(self._save(url, spec.format, routing_key_env), exclusive=True, exit_on_error=False)

    async def _save(self, url: str, fmt: WebhookFormat, routing_key_env: str | None = None) -> None:
        from .screens import SecretScreen

        try:
            wid, secret = await self.monitor.add_webhook(self.probe_id, url, fmt, routing_key_env)
        except Exception as e:
            self.form_error(f"Not saved: {e}")
            return
        self.dismiss(wid)
        self.app.push_screen(SecretScreen(f"Webhook {wid} added: its signing secret", secret))
