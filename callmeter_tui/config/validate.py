"""Validation of probes, webhooks and status pages: one rule set for the TOML file and the TUI forms."""

from __future__ import annotations

import re
import zoneinfo
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, quote, urlsplit, urlunsplit

from ..domain.defaults import ACCENT_COLOR, BAR_DAYS, CALL_DURATION_S, PAGE_REFRESH_S, PROBE_INTERVAL_S, PROBE_TIMEOUT_S
from ..domain.durations import format_duration
from ..domain.metric_catalog import METRICS
from ..domain.probe import ComponentSpec, ProbeKind, ProbeSpec, StatusPageSpec, WebhookFormat, WebhookSpec
from ..domain.sipuri import parse_sip_uri
from ..domain.sla import parse_target
from ..domain.thresholds import Threshold
from .audio_keys import read_audio_keys
from .fields import Problems, Table, join
from .logo import load_logo

CODECS = ("PCMU", "PCMA", "G722", "GSM", "iLBC", "speex")
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62})$")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
RESERVED_SLUGS = {"healthz", "metrics", "static", "api", "favicon.ico", "robots.txt"}
# One CSP source expression: ASCII only, no whitespace/control characters, no ';' or ',' (they end the directive).
_CSP_SOURCE = re.compile(r"[A-Za-z0-9.:/*'_%~+=-]+")


def validate_frame_ancestors(value: str) -> str | None:
    """Why ``value`` cannot be the CSP ``frame-ancestors`` source list, or None. Sources are separated by spaces.

    Used by ``check`` and by the web server: a control character here would break every response's headers.
    """
    sources = value.split(" ")
    if not value.strip() or not all(_CSP_SOURCE.fullmatch(s) for s in sources if s):
        return (
            'expected CSP sources like "*" or "\'self\' https://intranet.example" (ASCII letters, digits and '
            f".:/*'_%~+=- separated by spaces), got {value!r}"
        )
    return None


def validate_webhook_url(url: str) -> str | None:
    """One-line reason why ``url`` cannot be a webhook target, or None. HTTPS only."""
    if not isinstance(url, str) or not url.strip():
        return "expected an https:// URL, got an empty value"
    try:
        parts = urlsplit(url.strip())
    except ValueError as e:
        return f"not a valid URL: {e}"
    if parts.scheme.lower() == "http":
        return f"HTTP webhook URLs are refused (payloads carry probe data): use https:// in {url!r}"
    if parts.scheme.lower() != "https":
        return f"expected an https:// URL, got {url!r}"
    if not parts.hostname:
        return f"URL {url!r} has no host"
    if parts.username or parts.password:
        return "credentials in the URL are not allowed"
    if not url.isascii():  # the HTTP client refuses them when sending (and full-width digits parse as a port)
        hint = _ascii_form(parts)
        return "non-ASCII characters in the URL: " + (f"write it as {hint!r}" if hint else "use its ASCII form")
    try:
        _ = parts.port  # raises ValueError on a bad port
    except ValueError:
        return f"URL {url!r} has an invalid port"
    return None


def _ascii_form(parts: SplitResult) -> str | None:
    """The URL with an IDNA host and a percent-encoded path/query, or None when the host has no IDNA form."""
    host = parts.hostname or ""
    try:
        host = host.encode("idna").decode("ascii")
        port = f":{parts.port}" if parts.port is not None else ""
    except (UnicodeError, ValueError):
        return None
    path, query = quote(parts.path, safe="/%:@!$&'()*+,;=-._~"), quote(parts.query, safe="/%:@!$&'()*+,;=-._~?")
    return urlunsplit((parts.scheme, host + port, path, query, ""))


def read_webhook(t: Table) -> WebhookSpec | None:
    if not t.ok:
        return None
    url = t.str("url", required=True)
    fmt = t.choice("format", [f.value for f in WebhookFormat], "generic")
    secret_env = t.env_name("secret_env")
    routing_key_env = t.env_name("routing_key_env")
    enabled = t.bool("enabled", True)
    during = t.bool("notify_during_maintenance", False)
    t.done()
    if url is not None:
        err = validate_webhook_url(url)
        if err:
            t.problems.add(join(t.path, "url"), err)
            return None
    if fmt == "pagerduty" and not routing_key_env:
        t.problems.add(
            join(t.path, "routing_key_env"), "is required for format 'pagerduty' (the Events API v2 routing key)"
        )
    if url is None or fmt is None:
        return None
    return WebhookSpec(
        url=url,
        format=WebhookFormat(fmt),
        secret_env=secret_env,
        routing_key_env=routing_key_env,
        enabled=enabled,
        notify_during_maintenance=during,
    )


def read_thresholds(t: Table | None) -> dict[str, Threshold]:
    out: dict[str, Threshold] = {}
    if t is None or not t.ok:
        return out
    for metric in list(t.data):
        sub = t.table(metric)
        if metric not in METRICS:
            t.problems.add(join(t.path, metric), f"unknown metric (known: {', '.join(METRICS)})")
            continue
        if sub is None or not sub.ok:
            continue
        th = Threshold(warning=sub.number("warning"), critical=sub.number("critical"))
        sub.done()
        if _out_of_range(sub, metric, th):
            continue
        errors = th.problems(metric)
        for e in errors:
            t.problems.add(sub.path, e)
        if not errors:
            out[metric] = th
    t.done()
    return out


def _out_of_range(t: Table, metric: str, th: Threshold) -> bool:
    """A threshold the metric can never reach (MOS 9) is a typo: error on the level's key."""
    m = METRICS[metric]
    bad = False
    for level, value in (("warning", th.warning), ("critical", th.critical)):
        if value is not None and (value < m.lo or (m.hi is not None and value > m.hi)):
            span = f"between {m.lo:g} and {m.hi:g}" if m.hi is not None else f"at least {m.lo:g}"
            t.problems.add(
                join(t.path, level), f"must be {span} ({m.label}{m.unit and ' in ' + m.unit}), got {value:g}"
            )
            bad = True
    return bad


def read_probe(t: Table, base_dir: Path | None = None) -> ProbeSpec | None:
    """Read one ``[[probes]]`` table (or a form's fields shaped like one)."""
    if not t.ok:
        return None
    n_before = len(t.problems.items)
    name = t.name("name", required=True)
    kind = t.choice("kind", [k.value for k in ProbeKind], required=True)
    target = t.str("target", required=True)
    interval = t.duration("interval", PROBE_INTERVAL_S, lo=1.0, hi=86400.0)
    timeout = t.duration("timeout", PROBE_TIMEOUT_S, lo=0.1, hi=300.0)
    enabled = t.bool("enabled", True)
    agent = t.str("agent", "local")
    group = t.name("group", "", nonempty=False)
    confirm = t.int("confirm", 1, 1, 100)
    username = password_env = None
    auth = t.table("auth")
    if auth is not None and auth.ok:
        username = auth.str("username")
        password_env = auth.env_name("password_env")
        if "password" in auth.data:
            auth.seen.add("password")
            auth.problems.add(
                join(auth.path, "password"), 'secrets are not accepted in the file: use password_env = "VAR"'
            )
        auth.done()
    thresholds = read_thresholds(t.table("thresholds"))
    webhooks = tuple(w for w in (read_webhook(x) for x in t.tables("webhooks")) if w)
    expect_codes = _codes(t)
    codec = t.choice("codec", CODECS, "PCMU")
    call_duration = t.duration("call_duration", CALL_DURATION_S, lo=1.0, hi=600.0)
    outbound_proxy = t.str("outbound_proxy")
    audio_file, expect_prompt, dtmf, dtmf_mode = read_audio_keys(t, base_dir)
    asr_window = t.int("asr_window", 20, 1, 1000)
    t.done()

    if "timeout" not in t.data:  # the default never outlasts a short interval
        timeout = min(timeout, interval)
    elif timeout > interval:
        t.problems.add(
            join(t.path, "timeout"),
            f"must not be longer than the interval ({format_duration(interval)}), got {format_duration(timeout)}",
        )
    if target is not None:
        try:
            parse_sip_uri(target)
        except ValueError as e:
            t.problems.add(join(t.path, "target"), str(e))
    if outbound_proxy is not None:
        try:
            parse_sip_uri(outbound_proxy)
        except ValueError as e:
            t.problems.add(join(t.path, "outbound_proxy"), str(e))
    if kind is not None and ProbeKind(kind).registers and not (username and password_env):
        t.problems.add(join(t.path, "auth"), "sip_register needs auth.username and auth.password_env")
    if username and not password_env:
        t.problems.add(join(t.path, "auth.password_env"), "is required with auth.username (secrets only via *_env)")
    if len(t.problems.items) > n_before or name is None or kind is None or target is None:
        return None
    return ProbeSpec(
        name=name,
        kind=ProbeKind(kind),
        target=target,
        interval_s=interval,
        timeout_s=timeout,
        enabled=enabled,
        agent=agent or "local",
        username=username,
        password_env=password_env,
        thresholds=thresholds,
        confirm=confirm,
        expect_codes=expect_codes,
        codec=codec or "PCMU",
        call_duration_s=call_duration,
        outbound_proxy=outbound_proxy,
        audio_file=audio_file,
        dtmf=dtmf,
        dtmf_mode=dtmf_mode,
        expect_prompt=expect_prompt,
        asr_window=asr_window,
        webhooks=webhooks,
        group=group or "",
    )


def _codes(t: Table) -> tuple[int, ...]:
    raw = t.raw("expect_codes")
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(c, int) and not isinstance(c, bool) for c in raw):
        t.problems.add(join(t.path, "expect_codes"), "expected an array of SIP status codes like [200, 404, 405]")
        return ()
    bad = [c for c in raw if not 100 <= c <= 699]
    if bad:
        t.problems.add(join(t.path, "expect_codes"), f"SIP status codes are 100-699, got {bad[0]}")
        return ()
    return tuple(raw)


def read_status_page(t: Table, probe_names: set[str], base_dir: Path | None = None) -> StatusPageSpec | None:
    if not t.ok:
        return None
    n_before = len(t.problems.items)
    slug = t.str("slug", required=True)
    name = t.name("name", required=True)
    description = t.str("description", "", nonempty=False) or ""
    accent = t.str("accent_color", ACCENT_COLOR)
    logo = t.str("logo")
    tz = t.str("timezone", "UTC")
    bar_days = t.int("bar_days", BAR_DAYS, 1, 365)
    refresh = t.duration("refresh", float(PAGE_REFRESH_S), lo=5.0, hi=3600.0)
    maintenance_down = t.bool("count_maintenance_as_downtime", False)
    components: list[ComponentSpec] = []
    for c in t.tables("components"):
        probe = c.str("probe", required=True)
        cname = c.name("name")
        target = c.number("sla_target")
        c.done()
        if target is not None:
            try:
                parse_target(target)  # the report's own reader: check accepts exactly what reports judge
            except ValueError as exc:
                c.problems.add(join(c.path, "sla_target"), str(exc))
                target = None
        if probe is not None and probe not in probe_names:
            c.problems.add(join(c.path, "probe"), f"no probe named {probe!r}")
        elif probe is not None:
            components.append(ComponentSpec(probe=probe, name=cname or probe, sla_target=target))
    t.done()
    if slug is not None and (not _SLUG.match(slug) or slug in RESERVED_SLUGS):
        t.problems.add(
            join(t.path, "slug"), f"expected lowercase letters, digits and '-' (max 63, not reserved), got {slug!r}"
        )
    if accent is not None and not _COLOR.match(accent):
        t.problems.add(join(t.path, "accent_color"), f"expected a colour like {ACCENT_COLOR!r}, got {accent!r}")
    if tz is not None:
        try:
            zoneinfo.ZoneInfo(tz)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            t.problems.add(join(t.path, "timezone"), f"unknown IANA time zone {tz!r} (e.g. 'Europe/Berlin')")
    if logo is not None:
        p = Path(logo).expanduser()
        if base_dir is not None and not p.is_absolute():
            p = base_dir / p
        try:
            load_logo(p)  # the page's own loader: check accepts exactly what the page will show
        except ValueError as exc:
            t.problems.add(join(t.path, "logo"), str(exc).removeprefix("logo: "))
        logo = str(p)
    if len(t.problems.items) > n_before or slug is None or name is None:
        return None
    return StatusPageSpec(
        slug=slug,
        name=name,
        description=description,
        accent_color=accent or ACCENT_COLOR,
        logo=logo,
        timezone=tz or "UTC",
        bar_days=bar_days,
        refresh_s=int(refresh),
        components=tuple(components),
        count_maintenance_as_downtime=maintenance_down,
    )


# --- forms -----------------------------------------------------------------------------------------


def _form_table(fields: dict[str, Any]) -> dict[str, Any]:
    """Turn flat form fields ("auth.username", "thresholds.mos.warning") into a TOML-shaped table.

    Empty strings mean "not set"; numeric threshold text is converted (bad text is kept so the
    shared reader reports it against the right key).
    """
    table: dict[str, Any] = {}
    for key, value in fields.items():
        if isinstance(value, str):
            value = value.strip()
            if value == "":
                continue
        parts = key.split(".")
        if parts[0] == "thresholds" and isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                pass
        if key in ("confirm", "asr_window") and isinstance(value, str) and value.lstrip("-").isdigit():
            value = int(value)
        if key == "expect_codes" and isinstance(value, str):
            try:
                value = [int(x) for x in re.split(r"[,\s]+", value) if x]
            except ValueError:
                pass
        node = table
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    return table


def _form_errors(problems: Problems, prefix: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for path, msg in problems.items:
        key = path[len(prefix) + 1 :] if path.startswith(prefix + ".") else path
        out.setdefault(key or "form", msg)
    return out


def validate_probe_fields(fields: dict[str, Any]) -> tuple[ProbeSpec | None, dict[str, str]]:
    """Validate a probe form: (spec, {}) when valid, else (None, {field key: one-line error})."""
    problems = Problems()
    spec = read_probe(Table(_form_table(fields), "probe", problems))
    errors = _form_errors(problems, "probe")
    return (None if errors else spec), errors


def validate_webhook_fields(fields: dict[str, Any]) -> tuple[WebhookSpec | None, dict[str, str]]:
    """Validate a webhook form with the config's own rules: (spec, {}) when valid, else (None, {key: error})."""
    problems = Problems()
    spec = read_webhook(Table(_form_table(fields), "webhook", problems))
    errors = _form_errors(problems, "webhook")
    return (None if errors else spec), errors


def validate_page_fields(
    fields: dict[str, Any], components: list[tuple[str, str]], probe_names: set[str]
) -> tuple[StatusPageSpec | None, dict[str, str]]:
    """Validate a status page form; ``components`` is [(probe name, customer-facing name)] in order."""
    table = _form_table(fields)
    table["components"] = [{"probe": p, "name": n} if n else {"probe": p} for p, n in components]
    problems = Problems()
    spec = read_status_page(Table(table, "page", problems), probe_names)
    errors = _form_errors(problems, "page")
    return (None if errors else spec), errors
