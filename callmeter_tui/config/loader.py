"""Reading the TOML config: which file, its sections, and every problem reported at once."""

from __future__ import annotations

import ipaddress
import os
import re
import ssl
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..domain.netaddr import literal_target_reason
from .fields import Problems, Table
from .maintenance import read_maintenance
from .model import Config, DashboardSettings, EngineSettings, RetentionSettings, WebhookSettings, WebSettings
from .validate import read_probe, read_status_page, validate_frame_ancestors

DEMO_LABEL = "<built-in demo config>"


class SettingError(ValueError):
    """A setting that fails only when used at start (CA bundle unreadable, web port in use): one line naming
    the key. A configuration problem, so ``serve`` exits 2 and systemd does not restart-loop on it."""


class ConfigError(Exception):
    """The config has problems; ``lines`` holds one line per problem."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def resolve_config_path(arg: str | None, env: Mapping[str, str] = os.environ) -> Path | None:
    """--config, then $CALLMETER_CONFIG, then ~/.config/callmeter-tui/config.toml; None = built-in demo."""
    if arg:
        return Path(arg).expanduser()
    if env.get("CALLMETER_CONFIG"):
        return Path(env["CALLMETER_CONFIG"]).expanduser()
    xdg = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    default = Path(xdg) / "callmeter-tui" / "config.toml"
    return default if default.is_file() else None


# The built-in demo's register probe names this variable; the demo target's password is public ("demo").
DEMO_SECRETS: Mapping[str, str] = {"CALLMETER_DEMO_PASSWORD": "demo"}


def secrets_env(demo: bool, env: Mapping[str, str] = os.environ) -> Mapping[str, str]:
    """Where ``*_env`` secrets are looked up: the process environment (read live), plus the demo's own
    password when running the demo (the environment wins). Passed explicitly to whoever reads secrets,
    never written to os.environ."""
    return {**DEMO_SECRETS, **env} if demo else env


def demo_toml() -> str:
    return resources.files("callmeter_tui.config").joinpath("demo.toml").read_text(encoding="utf-8")


def load_config(path: Path | None, *, env: Mapping[str, str] = os.environ) -> tuple[Config, list[str]]:
    """(config, warnings). ``path`` None loads the built-in demo config. Raises ConfigError."""
    if path is None:
        text, label, base_dir = demo_toml(), DEMO_LABEL, None
    else:
        label, base_dir = path.name, path.parent
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError([f"{path}: file not found"]) from None
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError([f"{path}: cannot read: {e}"]) from None
    return parse_config(text, label=label, path=path, base_dir=base_dir, env=env)


def parse_config(
    text: str,
    *,
    label: str = "config.toml",
    path: Path | None = None,
    base_dir: Path | None = None,
    env: Mapping[str, str] = os.environ,
) -> tuple[Config, list[str]]:
    text = text.removeprefix("\ufeff")  # a UTF-8 BOM (Windows editors) is not part of the TOML
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError([f"{label}: TOML syntax error: {_toml_message(e)}"]) from None
    problems = Problems(label)
    root = Table(data, "", problems)

    project_name = "Default Project"
    if (t := root.table("project")) is not None:
        project_name = t.name("name", project_name) or project_name
        t.done()

    database_url = ""
    if (t := root.table("database")) is not None:
        database_url = t.str("url", "") or ""
        t.done()
    if env.get("CALLMETER_DATABASE_URL"):
        database_url = env["CALLMETER_DATABASE_URL"]
    if database_url and not re.match(r"^(sqlite|postgresql(\+psycopg)?)://", database_url):
        problems.add("database.url", f"expected sqlite:///PATH or postgresql+psycopg://..., got {database_url!r}")

    web = _web(root.table("web"))
    webhooks = _webhooks(root.table("webhooks"), base_dir)
    retention = _retention(root.table("retention"))
    engine = _engine(root.table("engine"))
    dashboard = _dashboard(root.table("dashboard"))
    demo = False
    if (t := root.table("demo")) is not None:
        demo = t.bool("enabled", False)
        t.done()

    probe_tables = root.tables("probes")
    probes = _read_unique(probe_tables, "probes", "name", "probe name", lambda t: read_probe(t, base_dir))
    names = {t.data["name"] for t in probe_tables if isinstance(t.data.get("name"), str)}
    pages = _read_unique(
        root.tables("status_pages"), "status_pages", "slug", "slug", lambda t: read_status_page(t, names, base_dir)
    )
    by_slug = {p.slug: p for p in pages}
    windows = [w for w in (read_maintenance(t, by_slug) for t in root.tables("maintenance")) if w is not None]
    root.done()
    if web.root_page and web.root_page not in {p.slug for p in pages}:
        known = ", ".join(repr(p.slug) for p in pages) or "none"
        problems.add("web.root_page", f"no status page with slug {web.root_page!r} (slugs: {known})")

    if not webhooks.allow_private_targets:
        _warn_internal_webhook_targets(probe_tables, problems)
    for i, p in enumerate(probes):
        for key in (p.password_env, *(w.secret_env for w in p.webhooks), *(w.routing_key_env for w in p.webhooks)):
            if key and key not in env:
                problems.warn(f"probes[{i}]", f"environment variable {key} is not set")
    if problems:
        raise ConfigError(problems.lines())
    cfg = Config(
        path=path,
        project_name=project_name,
        database_url=database_url,
        web=web,
        webhooks=webhooks,
        retention=retention,
        engine=engine,
        dashboard=dashboard,
        probes=tuple(probes),
        status_pages=tuple(pages),
        maintenance=tuple(windows),
        demo=demo,
    )
    return cfg, problems.warning_lines()


def _warn_internal_webhook_targets(probe_tables: list[Table], problems: Problems) -> None:
    """Deliveries to an internal IP literal would all be refused: say so at ``check``, naming the key."""
    for i, t in enumerate(probe_tables):
        hooks = t.data.get("webhooks")
        for j, hook in enumerate(hooks if isinstance(hooks, list) else []):
            url = hook.get("url") if isinstance(hook, dict) else None
            try:
                host = urlsplit(url.strip()).hostname if isinstance(url, str) else None
            except ValueError:
                continue
            if host and (reason := literal_target_reason(host)):
                problems.warn(
                    f"probes[{i}].webhooks[{j}].url",
                    f"{reason}: deliveries will be refused while webhooks.allow_private_targets = false",
                )


def _read_unique(tables: list[Table], array: str, key: str, what: str, read: Any) -> list[Any]:
    """Read each table of an array, reporting a repeated ``key`` (names and slugs are identities)."""
    out: list[Any] = []
    seen: dict[str, int] = {}
    for i, t in enumerate(tables):
        item = read(t)
        value = t.data.get(key) if t.ok else None
        if isinstance(value, str):
            if value in seen:
                t.problems.add(f"{array}[{i}].{key}", f"duplicate {what} {value!r} (also {array}[{seen[value]}])")
            seen.setdefault(value, i)
        if item is not None:
            out.append(item)
    return out


def _toml_message(e: tomllib.TOMLDecodeError) -> str:
    msg = str(e)
    m = re.search(r"^(.*) \(at line (\d+), column (\d+)\)$", msg)
    if m:
        return f"line {m.group(2)}, column {m.group(3)}: {m.group(1)}"
    m = re.search(r"^(.*) \(at end of document\)$", msg)
    return f"at end of file: {m.group(1)}" if m else msg


def _web(t: Table | None) -> WebSettings:
    if t is None:
        return WebSettings()
    d = WebSettings()
    s = WebSettings(
        enabled=t.bool("enabled", d.enabled),
        host=t.str("host", d.host) or d.host,
        port=t.int("port", d.port, 0, 65535),
        public_base_url=t.str("public_base_url", d.public_base_url) or d.public_base_url,
        metrics_enabled=t.bool("metrics", d.metrics_enabled),
        frame_ancestors=t.str("frame_ancestors", d.frame_ancestors) or d.frame_ancestors,
        root_page=t.str("root_page", d.root_page) or "",
    )
    t.done()
    u = urlsplit(s.public_base_url)
    if u.scheme not in ("http", "https") or not u.netloc:
        t.problems.add("web.public_base_url", f"expected an http(s):// URL, got {s.public_base_url!r}")
    if err := validate_frame_ancestors(s.frame_ancestors):
        t.problems.add("web.frame_ancestors", err)
    return s


def _webhooks(t: Table | None, base_dir: Path | None) -> WebhookSettings:
    if t is None:
        return WebhookSettings()
    d = WebhookSettings()
    ca = t.str("ca_bundle", "", nonempty=False) or ""
    s = WebhookSettings(
        allow_private_targets=t.bool("allow_private_targets", d.allow_private_targets),
        ca_bundle=ca,
        timeout_s=t.duration("timeout", d.timeout_s, lo=0.1, hi=120.0),
    )
    t.done()
    if ca:
        p = Path(ca).expanduser()
        if base_dir is not None and not p.is_absolute():
            p = base_dir / p
        if not p.is_file():
            t.problems.add("webhooks.ca_bundle", f"file not found: {str(p)!r}")
        elif err := _pem_problem(p):
            t.problems.add("webhooks.ca_bundle", err)
        s = WebhookSettings(s.allow_private_targets, str(p), s.timeout_s)
    return s


def _pem_problem(path: Path) -> str | None:
    """Why ``path`` is not a usable PEM CA bundle, or None (the same load the webhook sender does)."""
    try:
        ssl.create_default_context().load_verify_locations(cafile=str(path))
    except (OSError, ssl.SSLError) as exc:
        return f"cannot load {str(path)!r} as PEM certificates: {getattr(exc, 'strerror', None) or exc}"
    return None


def _retention(t: Table | None) -> RetentionSettings:
    if t is None:
        return RetentionSettings()
    d = RetentionSettings()
    s = RetentionSettings(
        executions_s=t.duration("executions", d.executions_s, lo=3600.0),
        history_s=t.duration("history", d.history_s, lo=86400.0),
    )
    t.done()
    if s.history_s < s.executions_s:
        t.problems.add("retention.history", "must be at least as long as retention.executions")
    return s


def _engine(t: Table | None) -> EngineSettings:
    if t is None:
        return EngineSettings()
    d = EngineSettings()
    s = EngineSettings(
        max_concurrency=t.int("max_concurrency", d.max_concurrency, 1, 10000),
        call_concurrency=t.int("call_concurrency", d.call_concurrency, 1, 256),
        sip_bind=t.str("sip_bind", d.sip_bind) or d.sip_bind,
        sip_traces=t.bool("sip_traces", d.sip_traces),
    )
    t.done()
    try:
        ipaddress.ip_address(s.sip_bind)
    except ValueError:
        t.problems.add("engine.sip_bind", f"expected an IP address like '0.0.0.0' or '127.0.0.1', got {s.sip_bind!r}")
    return s


THEMES = ("dark", "light", "high-contrast")


def _dashboard(t: Table | None) -> DashboardSettings:
    if t is None:
        return DashboardSettings()
    d = DashboardSettings()
    theme = t.choice("theme", THEMES, d.theme) or d.theme
    cycle = t.duration("kiosk_cycle", d.kiosk_cycle_s, lo=2.0, hi=3600.0)
    keys: dict[str, str] = {}
    if (k := t.table("keys")) is not None and k.ok:
        for action in list(k.data):
            key = k.str(action)
            if key is not None:
                keys[action] = key
        k.done()
    t.done()
    return DashboardSettings(theme=theme, kiosk_cycle_s=cycle, keys=keys)
